"""``complaints demo``: on a fresh machine, build the demo operational database and file the last quarter."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console

from cli.run import print_summary, run_filing
from complaints.deadlines import latest_served_quarter
from complaints.periods import Period, last_full_quarter
from complaints.times import now_local, parse_local
from tasks.archive.bundle import generate_keypair
from tasks.calendar_files import load_calendar
from tasks.config_files import DEFAULT_CONFIG, load_settings, read_yaml
from tasks.demo_data import create_demo_source, default_span
from tasks.rulebooks import load_rulebooks

console = Console()

DEMO_NARRATIVE = {
    "problems": [
        "（示例，由演示程序生成，请合规岗位据实修改）理赔类投诉占比仍然较高，部分案件因节假日影响未能在公司内部时限内答复。",
    ],
    "measures": [
        "（示例）对理赔时效实行周通报，对超时限案件逐件督办并纳入分支机构考核。",
        "（示例）对回访未接通客户在3个工作日内再次回访，确保回访覆盖率。",
    ],
    "typical_cases": [
        "（示例）某客户投保年金保险后反映销售人员夸大收益，经调取录音录像核实存在误导情形，"
        "公司全额退还保费并对相关销售人员进行问责。",
    ],
    "suggestions": [
        "（示例）建议进一步明确理赔类投诉中“材料齐全”的认定标准，便于各公司统一执行。",
    ],
}


def prepare_workdir(workdir: Path, source_url: str | None) -> Path:
    """Write the demo's configuration (absolute paths, the signing public key) and key; return the config."""
    workdir.mkdir(parents=True, exist_ok=True)
    keys = workdir / "keys"
    private, public_file = keys / "signing-key.pem", keys / "signing-key.pub.pem"
    if not (private.exists() and public_file.exists()):
        generate_keypair(keys)
    os.environ["COMPLAINTS_SIGNING_KEY_FILE"] = str(private)
    data: dict[str, Any] = read_yaml(DEFAULT_CONFIG)
    base = DEFAULT_CONFIG.parent
    data["sources"] = [str(base / s) for s in data.get("sources", [])]
    data["rulebooks_dir"] = str(base / data.get("rulebooks_dir", "rulebooks"))
    data["calendar_dir"] = str(base / data.get("calendar_dir", "calendar"))
    benchmarks = data.setdefault("benchmarks", {})
    benchmarks["bulletins"] = str(base / benchmarks.get("bulletins", "benchmarks/bulletins.yaml"))
    data.setdefault("archive", {}).setdefault("signing", {})["public_key"] = public_file.read_text(
        encoding="utf-8"
    )
    config = workdir / "complaints.yaml"
    config.write_text(
        "# Written by `complaints demo`: the default configuration with absolute paths and\n"
        "# this working directory's signing public key (the private key is in keys/).\n"
        + yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    if source_url:
        os.environ["COMPLAINTS_DEMO_SOURCE_URL"] = source_url
    return config


def choose_quarter(config: Path, asked: Period, today: dt.date) -> tuple[Period, str | None, str | None]:
    """The quarter the demo files: ``asked`` (the last full quarter) when the known working-day
    calendars serve it, else the latest quarter they fully serve (its due date and every clock of
    its complaints), filed as of its head-office due date, the end of its run window, so the data
    and every "as of" figure stay true. Returns (quarter, the moved as-of or None, the one line
    saying which quarter and why, or None). Nothing is guessed: the missing years are named."""
    loaded = load_settings(config)
    calendar_dir = loaded.resolve(loaded.settings.calendar_dir)
    calendar = load_calendar(calendar_dir)
    rulebooks = load_rulebooks(loaded.resolve(loaded.settings.rulebooks_dir))
    longest = max((lim.amount for rule in rulebooks.rule_sets for clock in rule.clocks.values()
                   for lim in clock.limits.values() if lim.unit == "working"), default=0)
    period, due, blocked = latest_served_quarter(asked, calendar, loaded.settings.filings, longest)
    if blocked is None:
        return period, None, None
    missing = [y for y in range(blocked.year, max(blocked.year, today.year) + 1) if y not in calendar.years]
    shown = calendar_dir
    with contextlib.suppress(ValueError):
        shown = calendar_dir.relative_to(DEFAULT_CONFIG.parent.parent)
    years = " and ".join(map(str, missing))
    files = " and ".join(str(shown / f"{y}.yaml") for y in missing)
    as_of = f"{due.isoformat()}T09:00:00+08:00"
    note = (
        f"demo: filing {period.code} as of {due} 09:00 (its due date), not {asked.code} as of {today}: "
        f"the working-day calendar{'s' if len(missing) > 1 else ''} for {years} "
        f"{'are' if len(missing) > 1 else 'is'} not known ({period.shift(1).code}'s due date and clocks need "
        f"{blocked.year}), so {period.code} is the latest quarter the known calendars serve. Add {files} "
        f"from the State Council's notice (see {shown / 'README.md'}) to file later quarters."
    )
    return period, as_of, note


def demo(
    workdir: Annotated[Path, typer.Option("--workdir", help="where the demo writes everything")] = Path(
        "complaints-demo"
    ),
    source_url: Annotated[
        str | None,
        typer.Option(
            "--source-url", help="SQLAlchemy URL for the demo operational database (default: SQLite in DIR)"
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    complaints: Annotated[int, typer.Option("--complaints", help="complaints per year of data")] = 20000,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="ISO time the figures describe (default: now)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Create the demo operational database, run the quarterly filing for the last full quarter (or the
    latest one the known working-day calendars serve, as of its due date, said in one line), summarise."""
    t0 = time.perf_counter()
    workdir = workdir.resolve()
    config = prepare_workdir(workdir, source_url)
    url = source_url or f"sqlite:///{workdir / 'demo_source.sqlite'}"
    today = (parse_local(as_of) if as_of else now_local()).date()
    period, moved_as_of, note = choose_quarter(config, last_full_quarter(today), today)
    if moved_as_of is not None:
        as_of, today = moved_as_of, parse_local(moved_as_of).date()
        if as_json:
            typer.echo(note, err=True)
        else:
            console.print(note, soft_wrap=True, highlight=False)
    head_office = load_settings(config).settings.head_office.code
    # the head office's own narrative (a branch never receives it: narratives/<ENTITY>/<period>.yaml)
    narrative = workdir / "narratives" / head_office / f"{period.code}.yaml"
    if not narrative.exists():
        narrative.parent.mkdir(parents=True, exist_ok=True)
        narrative.write_text(yaml.safe_dump(DEMO_NARRATIVE, allow_unicode=True), encoding="utf-8")
    if not as_json:
        console.print(
            f"demo: creating the demo operational database ({complaints} complaints/year) at "
            f"{url.split('@')[-1]}"
        )
    start, end = default_span(today)
    counts = create_demo_source(url, seed=seed, complaints=complaints, start=start, end=end)
    if not as_json:
        console.print("demo: source tables " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        console.print(f"demo: running the quarterly filing for {period.code} (head office)…")
    summary = run_filing(
        "quarterly",
        period.code,
        entity=None,
        as_of=as_of,
        config=str(config),
        workdir=str(workdir),
        trigger="demo",
        accept_risk=None,
        calendar_files=[],
    )
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    if note:
        summary["calendar_note"] = note
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    print_summary(summary, console)
    console.print(
        f"demo: done in {summary['seconds']} s. Verify the bundle with:\n  complaints bundles verify "
        f"{summary['bundle']} --config {config} --workdir {workdir}\nRe-run a filing on this "
        f"demo with:\n  COMPLAINTS_SIGNING_KEY_FILE={workdir / 'keys' / 'signing-key.pem'} complaints "
        f"run quarterly --period {period.code} --entity GD"
        + (f" --as-of {as_of}" if moved_as_of else "") + f" --config {config} --workdir {workdir}",
        soft_wrap=True,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
