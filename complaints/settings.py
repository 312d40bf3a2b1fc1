"""The configuration's shape: pydantic models of ``config/complaints.yaml``, validated on load.

Pure: no file is read here (``tasks/config_files.py`` reads the YAML and finds the shipped resources).
Secrets never live in settings: only the *names* of environment variables that hold them.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from complaints.errors import ConfigError
from complaints.ledger import CATEGORIES, ROOT_CAUSES

_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Company(_Model):
    name: str = Field(description="full legal name printed on filings")
    short_name: str = ""


class Entity(_Model):
    code: str
    name: str
    level: Literal["head_office", "branch"]
    province: str = ""
    # the regulator office the filings are addressed to; default: 国家金融监督管理总局 for the head
    # office, 国家金融监督管理总局<province>监管局 for a branch
    regulator_office: str = ""

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not _CODE.match(v):
            raise ValueError(f"entity code {v!r} must be 1-32 letters, digits, '_' or '-'")
        return v


class Office(_Model):
    """A handling office below an entity (中心支公司, 支公司 …): how documents name it and whose it is.

    The source system's branch master table (机构信息) in configuration form: ``parent`` is the code
    of the entity (or office) it reports to, so a province's figure can include its sub-branches.
    """

    code: str
    name: str
    parent: str = ""


class MajorCriteria(_Model):
    """Which criteria make a case major (FIGURES.md counts.major_cases); each can be switched off."""

    severity_major: bool = True
    amount_threshold: float | None = 20000.0
    media_exposed: bool = True
    group_size_threshold: int | None = 20
    regulator_forwarded: bool = True


class ForwardingOffice(_Model):
    """A regulator office that forwards complaints: the addressee of the forwarded-case report."""

    name: str  # e.g. 国家金融监督管理总局广东监管局
    ref_prefixes: list[str] = []  # forward references it issues open with these, e.g. ["粤金"]
    provinces: list[str] = []  # cases of these provinces, when the reference says nothing
    report_days: int | None = None  # the report is due this many natural days after receipt


class FilingRules(_Model):
    """Due-date rules of the filing calendar (DOMAIN.md), per entity level."""

    quarterly_working_days: dict[Literal["head_office", "branch"], int] = {"head_office": 10, "branch": 7}
    annual_due_month_day: str = "03-01"  # "before 1 March": the last allowed day is the day before
    monthly_before_working_day: int = 5  # publish before the 5th working day of the next month
    rectification_days: int = 30
    forwarded_report_days: int | None = None  # as the forwarding office requires; None = per request
    forwarding_offices: list[ForwardingOffice] = []  # addressees of forwarded-case reports
    requirements_dir: str = "requirements"  # rectification requirement YAMLs (working dir), tracked by status
    run_window_open_working_days: int = (
        3  # the watcher starts a filing this many working days after period end
    )
    # the monthly tables are due on the 4th working day: their window opens on the 1st
    monthly_run_window_open_working_days: int = 1
    at_risk_working_days: int = 3  # no bundle this many working days before due → at risk


class Publications(_Model):
    """The internal publications (FIGURES.md "Internal publications"; DOMAIN.md "Internal reporting
    rhythm")."""

    # weekly: a unit whose share of overdue open cases is MORE than this is escalated (提交领导小组督办)
    weekly_escalation_share: float = Field(0.5, ge=0, lt=1)
    # monthly call-back sample: at least this share of the population, rounded up
    callback_sample_share: float = Field(0.2, gt=0, le=1)
    # the filled-in call lists (working directory), read back into the next month's publication
    callback_results_dir: str = "callbacks"


class LocalStore(_Model):
    root: str = "archive"  # relative to the working directory


class S3Store(_Model):
    endpoint_url: str | None = None
    region: str = "us-east-1"
    bucket: str = "complaint-filings"
    prefix: str = "bundles/"
    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] | None = "COMPLIANCE"
    retention_days: int = 3650
    # a preview (a period not yet ended) is kept apart and locked only this long: it is never submitted
    preview_retention_days: int = Field(1, ge=1)
    server_side_encryption: Literal["AES256", "aws:kms"] | None = None
    kms_key_id: str | None = None
    multipart_threshold_mb: int = 16
    connect_timeout_s: float = 10.0  # $COMPLAINTS_S3_CONNECT_TIMEOUT overrides
    read_timeout_s: float = 60.0  # $COMPLAINTS_S3_READ_TIMEOUT overrides; a hung endpoint fails after this


class Signing(_Model):
    public_key: str | None = None  # Ed25519 public key, PEM or base64 raw; safe to commit
    private_key_env: str = "COMPLAINTS_SIGNING_KEY"  # env var holding the PEM private key
    private_key_file_env: str = "COMPLAINTS_SIGNING_KEY_FILE"  # env var naming a key file


class Archive(_Model):
    store: Literal["local", "s3"] = "local"
    # the bundled extract masks names, ID and phone numbers in free text and policy numbers, unless
    # this is set (figures never depend on those columns, so a masked bundle still reproduces)
    include_personal_data: bool = False
    local: LocalStore = LocalStore()
    s3: S3Store = S3Store()
    signing: Signing = Signing()


class Rendering(_Model):
    body_font: str = "宋体"
    heading_font: str = "黑体"
    # relative to the working directory: <ENTITY>/<period>.yaml per entity and period (a branch never
    # falls back to the head office's narrative)
    narrative_dir: str = "narratives"
    # the officers' templates and letterheads, outside the code checkout: <dir>/<ENTITY>/<template>, then
    # <dir>/<template>, then the shipped templates (relative: to the configuration file's folder)
    templates_dir: str | None = None
    unmask_roles: list[str] = []  # roles allowed to see personal data; empty = masked for everybody
    worsening_threshold_pct: float = 10.0  # a figure worse by more than this % QoQ/YoY is a finding
    major_cases_listed: int = (
        30  # 重大投诉情况 lists this many (forwarded, media, group, undecided first, then by amount)
    )
    contact_person: str = ""  # 联系人 printed under the quarterly/annual reports' signature
    contact_phone: str = ""  # 联系电话
    document_number: str = ""  # 文号 prefix, e.g. 示例人寿发〔2026〕 (the number is filled in by hand)


class Notifier(_Model):
    webhook_url_env: str | None = None  # env var holding the webhook URL
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_to: list[str] = []
    smtp_password_env: str | None = None


class Schedules(_Model):
    watcher_time: str = "08:30"  # Asia/Shanghai
    timezone: str = "Asia/Shanghai"
    notifier: Notifier = Notifier()
    # the go-live day: the watcher reports every late unsubmitted filing however old, except those due
    # before this day (filed before the system kept the archive); None = no exception
    watch_from: dt.date | None = None


class Rule(_Model):
    name: str
    effective_from: str
    source: str = ""


class Benchmarks(_Model):
    """Reference data for the bulletin benchmark (FIGURES.md 监管口径): the bulletin medians and the
    crosswalk to the bulletin's terms, one YAML file relative to the config directory."""

    bulletins: str = "benchmarks/bulletins.yaml"


class Submission(_Model):
    """Recording submissions (``complaints submit``): whether an approver (name and role) is required and
    channels beyond the built-in ones (监管报送系统, 电子邮件, 邮寄, 现场报送)."""

    require_approver: bool = False
    channels: list[str] = []


class RectificationItem(_Model):
    """A rectification item (溯源整改, FIGURES.md "Root causes and rectification"): what it answers (a
    rectification requirement's reference, or an internal finding), the slice of complaints it targets
    (a root cause and/or a category and/or a branch: cases matching all that are given), who owns it, when
    it is due, its status, and the metric that should move over that slice: ``cases`` (the slice's cases
    in a quarter) or ``share`` (the slice's cases ÷ all cases in scope). Measured per quarter against the
    quarter before the one it was opened in (:mod:`complaints.rectification`)."""

    id: str
    title: str = Field(description="整改事项, as the documents print it (Chinese)")
    requirement: str = ""  # the reference of the rectification requirement it answers (文号)
    finding: str = ""  # or: the internal finding it answers
    root_cause: str | None = None
    category: str | None = None
    branch: str | None = None  # an entity code (its whole province) or an office code
    owner: str = Field(description="责任部门/责任人, as printed")
    opened: dt.date
    due: dt.date
    status: Literal["planned", "in_progress", "done"] = "in_progress"
    metric: Literal["cases", "share"] = "cases"

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _CODE.match(v):
            raise ValueError(f"rectification item id {v!r} must be 1-32 letters, digits, '_' or '-'")
        return v

    @model_validator(mode="after")
    def _shape(self) -> RectificationItem:
        if not (self.requirement or self.finding):
            raise ValueError(f"rectification item {self.id}: give the requirement it answers (its reference) "
                             "or the internal finding")
        if not (self.root_cause or self.category or self.branch):
            raise ValueError(f"rectification item {self.id}: give the root_cause, category and/or branch it "
                             "targets")
        if self.root_cause is not None and self.root_cause not in ROOT_CAUSES:
            raise ValueError(f"rectification item {self.id}: root_cause {self.root_cause!r} is not one of "
                             f"{', '.join(ROOT_CAUSES)}")
        if self.category is not None and self.category not in CATEGORIES:
            raise ValueError(f"rectification item {self.id}: category {self.category!r} is not one of "
                             f"{', '.join(CATEGORIES)}")
        if self.due < self.opened:
            raise ValueError(f"rectification item {self.id}: due {self.due} is before opened {self.opened}")
        return self


class Settings(_Model):
    company: Company
    entities: list[Entity]
    offices: list[Office] = []  # handling offices below the entities (names for the documents)
    sources: list[str] = ["sources/demo_callcenter.yaml"]  # relative to the config directory
    rulebooks_dir: str = "rulebooks"
    calendar_dir: str = "calendar"
    major: MajorCriteria = MajorCriteria()
    filings: FilingRules = FilingRules()
    publications: Publications = Publications()
    archive: Archive = Archive()
    rendering: Rendering = Rendering()
    schedules: Schedules = Schedules()
    # targets keyed by dotted figure name (e.g. "timeliness.rate": 0.95); direction from the name
    targets: dict[str, float] = {}
    department_targets: dict[str, float] = {}  # "timeliness.rate" / "satisfaction.rate" per department
    rules_in_force: list[Rule] = []  # internal rules listed in the annual self-inspection
    benchmarks: Benchmarks = Benchmarks()
    submission: Submission = Submission()
    rectification_items: list[RectificationItem] = []  # 溯源整改 items, measured and tracked by status

    @model_validator(mode="after")
    def _items_known(self) -> Settings:
        ids = [i.id for i in self.rectification_items]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"rectification_items repeat ids {repeated}")
        units = {e.code for e in self.entities} | {o.code for o in self.offices}
        unknown = sorted({i.branch for i in self.rectification_items if i.branch and i.branch not in units})
        if unknown:
            raise ValueError(
                f"rectification_items name unknown branches {unknown} (an entity's or an office's code)")
        return self

    @model_validator(mode="after")
    def _offices_belong(self) -> Settings:
        entities = {e.code for e in self.entities}
        offices = {o.code for o in self.offices}
        if entities & offices:
            raise ValueError(f"offices repeat entity codes: {sorted(entities & offices)}")
        unknown = sorted(o.parent for o in self.offices if o.parent and o.parent not in entities | offices)
        if unknown:
            raise ValueError(f"offices name unknown parents {unknown} (an entity's or an office's code)")
        return self

    @field_validator("entities")
    @classmethod
    def _one_head_office(cls, v: list[Entity]) -> list[Entity]:
        if sum(e.level == "head_office" for e in v) != 1:
            raise ValueError("exactly one entity must have level head_office")
        codes = [e.code for e in v]
        if len(set(codes)) != len(codes):
            raise ValueError("entity codes must be unique")
        return v

    @property
    def head_office(self) -> Entity:
        return next(e for e in self.entities if e.level == "head_office")

    def entity(self, code: str | None) -> Entity:
        if code is None:
            return self.head_office
        for e in self.entities:
            if e.code == code:
                return e
        known = ", ".join(e.code for e in self.entities)
        raise ConfigError(f"entity {code!r} is not configured (known: {known})")


def format_validation_error(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: invalid configuration"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {key}: {err['msg']}")
    return "\n".join(lines)


_SECRET_KEY = re.compile(r"(password|secret|token|private|credential|access_key)", re.I)
REMOVED = "<removed>"
# scheme://user:password@host - the password up to the *last* @ of the URL (an unencoded @ in it
# must not leave its tail behind as "host")
_URL_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@?#]*:)(?P<secret>[^\s]*)@(?=[^\s@]*(?:\s|$))")
# ?password=… / &pwd=… / ;token=… (query or DSN parameters naming a secret)
_SECRET_PARAM = re.compile(
    r"(?P<head>(?:[?&;]|\b)(?:[A-Za-z_]*(?:password|passwd|pwd|secret|token|credential|access_key|api_key"
    r"|private_key)[A-Za-z_]*)=)(?P<secret>[^&;\s#'\"]*)",
    re.I,
)


def redact_text(text: str) -> str:
    """``text`` with credentials in any URL form removed: ``scheme://user:<removed>@host`` (also when the
    password holds an unencoded ``@``), and ``?password=<removed>`` (any parameter naming a password,
    secret, token, credential or key). Idempotent; applied before anything is printed, logged or stored."""
    text = _URL_USERINFO.sub(lambda m: m.group("head") + REMOVED + "@", text)
    return _SECRET_PARAM.sub(lambda m: m.group("head") + REMOVED, text)


def redact(data: Any) -> Any:
    """A copy of a config mapping with values of secret-looking keys removed (for bundles)."""
    if isinstance(data, dict):
        return {
            k: (REMOVED if _SECRET_KEY.search(str(k)) and not str(k).endswith("_env") else redact(v))
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [redact(v) for v in data]
    if isinstance(data, str):
        return redact_text(data)
    return data
