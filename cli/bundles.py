"""``complaints bundles …``: the auditor's commands for evidence bundles (list, show, get, verify,
reproduce, diff). Store and bag code lives in ``tasks.archive`` (stores, bundle)."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.options import PublicKeyOpt
from complaints.errors import ConfigError
from complaints.submission import KIND, draft_filing, submission_filing_part
from complaints.times import SHANGHAI
from tasks.archive.bundle import (
    KIND_TAG,
    BundleError,
    Listing,
    diff_bags,
    diff_figures,
    identity_note,
    list_committed,
    load_figures,
    read_bag_info,
    verify_bag,
)
from tasks.archive.stores import (
    BundleDamaged,
    BundleNotFound,
    LocalStore,
    StoreError,
    open_store,
    parse_bundle_id,
)
from tasks.config_files import Loaded, load_settings

if TYPE_CHECKING:
    from tasks.archive.stores import Store

bundles_app = typer.Typer(help="Evidence bundles: list, show, get, verify, reproduce and compare them.",
                          no_args_is_help=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="configuration file (default "
                                                "$COMPLAINTS_CONFIG or config/complaints.yaml)")]
WorkdirOpt = Annotated[Path, typer.Option("--workdir", help="where the local store's root is resolved",
                                          file_okay=False)]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


class _Context:
    """Configuration and store, loaded on first use (verifying a directory needs neither)."""

    def __init__(self, config: Path | None, workdir: Path) -> None:
        self.config_path = config
        self.workdir = workdir
        self._loaded: Loaded | None = None
        self._store: Store | None = None

    @property
    def loaded(self) -> Loaded:
        if self._loaded is None:
            self._loaded = load_settings(self.config_path)
        return self._loaded

    @property
    def store(self) -> Store:
        if self._store is None:

            self._store = open_store(self.loaded.settings.archive, self.workdir)
        return self._store


@contextlib.contextmanager
def _guard() -> Iterator[None]:
    """User-caused errors become one message and exit code 2 (no traceback)."""

    try:
        yield
    except (ConfigError, StoreError, BundleError, ValueError, OSError) as exc:
        raise _fail(f"error: {exc}") from exc


def _is_bundle_id(text: str) -> bool:

    try:
        parse_bundle_id(text)
    except ValueError:
        return False
    return True


@contextlib.contextmanager
def _open_bag(ctx: _Context, target: str) -> Iterator[tuple[Path, str | None]]:
    """A bag directory for ``target`` (a committed bundle id, else a directory) and the id if stored."""

    if _is_bundle_id(target):
        store = ctx.store
        if store.exists(target):
            if isinstance(store, LocalStore):
                yield store.path(target), target
                return
            with tempfile.TemporaryDirectory(prefix="bundle-") as tmp:
                yield store.get(target, Path(tmp) / "bag"), target
            return
        if not Path(target).is_dir():
            raise BundleNotFound(f"no committed bundle {target!r} in {store.describe()}")
    path = Path(target)
    if not path.is_dir():
        raise ValueError(f"{target!r} is neither a bundle id nor a directory")
    yield path, None


def _created_local(bundle_id: str) -> str:

    return parse_bundle_id(bundle_id).created.astimezone(SHANGHAI).isoformat(timespec="seconds")


def cmd_list(
    entity: Annotated[str | None, typer.Option(help="entity code, e.g. HO")] = None,
    period: Annotated[str | None, typer.Option(help="period, e.g. 2026Q3")] = None,
    filing: Annotated[str | None, typer.Option(help="filing, e.g. quarterly")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
    config: ConfigOpt = None,
    workdir: WorkdirOpt = Path("."),
) -> None:
    """List committed bundles (oldest first), drafts and submissions (kind, and the draft a submission
    derives from); incomplete uploads are never listed. Bundles whose marker or
    signed manifest is damaged, or whose signed identity does not match their id, are listed apart as
    damaged (the payload's checksums are `bundles verify`'s job)."""

    ctx = _Context(config, workdir)
    with _guard():
        key = _configured_key(ctx)
        listing = list_committed(ctx.store, key, filing=filing, entity=entity, period=period)
        if filing is not None and draft_filing(filing) is None:  # a filing's submissions too
            subs = list_committed(ctx.store, key, filing=submission_filing_part(filing), entity=entity,
                                  period=period)
            listing = Listing(listing.committed + subs.committed, listing.damaged + subs.damaged,
                              listing.signatures_checked)

        def row(i: str, problem: str | None) -> dict[str, Any]:
            b = parse_bundle_id(i)
            out = {"id": i, **{k: getattr(b, k) for k in ("filing", "entity", "period", "run")},
                   "created": _created_local(i), "damaged": problem, "kind": "draft", "draft": None}
            if draft_filing(b.filing) is not None:  # a submission: its filing and the draft it derives from
                out.update(kind=KIND, filing=draft_filing(b.filing), draft=_draft_link(ctx.store, i))
            return out

        rows = [row(i, None) for i in listing.committed]
        damaged = [row(i, why) for i, why in listing.damaged]
    if as_json:
        typer.echo(json.dumps(sorted(rows + damaged, key=lambda r: r["id"]), ensure_ascii=False, indent=1))
        return
    if not rows and not damaged:
        typer.echo(f"no bundles in {ctx.store.describe()}")
        return
    for r in rows:
        typer.echo(f"{r['id']}  {r['created']}"
                   + (f"  submission of {r['draft'] or '(unknown draft)'}" if r["kind"] == KIND else ""))
    if damaged:
        typer.secho(f"damaged ({len(damaged)}, not counted as filed; run `bundles verify ID`):",
                    fg=typer.colors.RED)
        for r in damaged:
            typer.secho(f"  {r['id']}  {r['damaged']}", fg=typer.colors.RED)
    if not listing.signatures_checked:
        typer.echo("note: signatures checked for form only (no archive.signing.public_key configured)",
                   err=True)


def _draft_link(store: Store, bundle_id: str) -> str | None:
    """The draft a submission derives from (its signed bag-info's ``Draft-Bundle``), None if unreadable."""
    try:
        for line in store.read(bundle_id, "bag-info.txt").decode("utf-8").splitlines():
            name, _, value = line.partition(":")
            if name.strip() == "Draft-Bundle":
                return value.strip() or None
    except (StoreError, UnicodeDecodeError):
        return None
    return None


def cmd_show(
    bundle_id: Annotated[str, typer.Argument(help="bundle id")],
    config: ConfigOpt = None,
    workdir: WorkdirOpt = Path("."),
) -> None:
    """A bundle's metadata (bag-info.txt), files and the store's lock status."""
    ctx = _Context(config, workdir)
    with _guard():
        store = ctx.store
        files = store.files(bundle_id)
        info = store.read(bundle_id, "bag-info.txt").decode("utf-8")
        status = store.lock_status(bundle_id)
    typer.echo(f"bundle {bundle_id}  ({store.describe()})")
    typer.echo(info.rstrip())
    typer.echo(f"files: {len(files)}, {sum(files.values())} bytes"
               f"{'' if 'signature.ed25519' in files else '  (UNSIGNED)'}")
    for rel, size in files.items():
        typer.echo(f"  {size:>12}  {rel}")
    if draft_filing(parse_bundle_id(bundle_id).filing) is not None:
        typer.echo(f"submission of draft {_draft_link(store, bundle_id) or '(unknown)'}")
    else:
        with _guard():
            subs = [i for i in store.list() if draft_filing(parse_bundle_id(i).filing) is not None
                    and _draft_link(store, i) == bundle_id]
        typer.echo("submissions: " + (", ".join(subs) if subs else "none recorded"))
    for line in status.lines:
        typer.echo(_status_line(line))
    for problem in status.problems:
        typer.secho(f"PROBLEM: {problem}", fg=typer.colors.RED)


def cmd_get(
    bundle_id: Annotated[str, typer.Argument(help="bundle id")],
    to: Annotated[Path, typer.Option("--to", help="directory to create (absent or empty)")],
    config: ConfigOpt = None,
    workdir: WorkdirOpt = Path("."),
) -> None:
    """Copy a committed bundle (the whole bag) into a directory (never inside the store's root)."""
    ctx = _Context(config, workdir)
    with _guard():
        dest = ctx.store.get(bundle_id, to)
    typer.echo(f"{bundle_id} -> {dest}")


def _public_key(ctx: _Context, public_key: Path | None) -> str | None:
    if public_key is not None:
        return public_key.read_text(encoding="ascii")
    try:
        return ctx.loaded.settings.archive.signing.public_key
    except ConfigError as exc:
        hint = "(the public key comes from the configuration; or pass --public-key FILE)"
        raise ConfigError(f"{exc}\n{hint}") from exc


def _configured_key(ctx: _Context) -> str | None:
    """The configured public key, or None (listings then check signatures for form only)."""
    return ctx.loaded.settings.archive.signing.public_key


def _status_line(line: str) -> str:
    """``lock: …`` for the protection, ``store: …`` for the checks the store supported at commit."""
    return f"{'store' if line.startswith(('integrity', 'store features')) else 'lock'}: {line}"


def cmd_verify(
    target: Annotated[str, typer.Argument(metavar="ID_OR_DIR", help="bundle id or bag directory")],
    public_key: PublicKeyOpt = None,
    config: ConfigOpt = None,
    workdir: WorkdirOpt = Path("."),
) -> None:
    """Check completeness, every checksum, the signature and the store's lock status (retention read
    back from the store) and say which integrity checks the store supported when it was committed.

    Exit 0 only if all hold; otherwise every problem is named and the exit code is 1.
    """
    ctx = _Context(config, workdir)
    with _guard():
        key = _public_key(ctx, public_key)
        lines, problems, files = _verify(ctx, target, key)
    for line in lines:
        typer.echo(_status_line(line) if not line.startswith("identity") else line)
    if problems:
        for problem in problems:
            typer.secho(f"PROBLEM: {problem}", fg=typer.colors.RED)
        raise _fail(f"{target}: {len(problems)} problem(s)", 1)
    lock = any(not line.startswith("identity") for line in lines)
    typer.echo(f"OK: {target}: complete, {files} files, every checksum matches, signature valid, "
               f"identity consistent{', lock status reported' if lock else ''}")


def _verify(ctx: _Context, target: str, key: str | None) -> tuple[list[str], list[str], int]:
    """``verify``'s work: (lines to show, problems, number of files). A stored bundle is checked against
    the id it is listed and fetched under; a damaged commit marker is a problem, not an error."""

    try:
        with _open_bag(ctx, target) as (bag, bundle_id):
            problems = verify_bag(bag, key, bundle_id)
            lines: list[str] = []
            if bundle_id is not None:
                status = ctx.store.lock_status(bundle_id)
                lines, problems = status.lines, problems + status.problems
            if bundle_id is not None and not problems:
                note = identity_note(read_bag_info(bag))
                lines += [note] if note else []
            files = sum(1 for p in bag.rglob("*") if p.is_file())
    except BundleDamaged as exc:
        return [], [str(exc)], 0
    return lines, problems, files


def count_values(figures: Any) -> int:
    """Number of leaf values in a figures document."""
    if isinstance(figures, dict):
        return sum(count_values(v) for v in figures.values())
    if isinstance(figures, list | tuple):
        return sum(count_values(v) for v in figures)
    return 1


def cmd_reproduce(
    target: Annotated[str, typer.Argument(metavar="ID_OR_DIR", help="bundle id or bag directory")],
    public_key: PublicKeyOpt = None,
    config: ConfigOpt = None,
    workdir: WorkdirOpt = Path("."),
) -> None:
    """Verify the bundle (as `bundles verify`), then recompute the figures from the bundled extract,
    configuration, rule sets and calendar.

    A bundle that fails verification is refused (exit 1, first line "integrity failed"). Exit 0 only if
    the recomputed figures equal the bundled figures exactly; otherwise print the differences (exit 1).
    """

    ctx = _Context(config, workdir)
    with _guard():
        _, problems, _ = _verify(ctx, target, _public_key(ctx, public_key))
    if problems:
        typer.secho(f"error: {target}: integrity failed ({len(problems)} problem(s)); figures not "
                    "reproduced from a bundle that does not verify", err=True, fg=typer.colors.RED)
        for problem in problems:
            typer.secho(f"PROBLEM: {problem}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    with _guard(), _open_bag(ctx, target) as (bag, _):
        kind = read_bag_info(bag).get(KIND_TAG)
        if kind not in (None, "", "draft"):
            raise _fail(f"error: {target} is a {kind}, not a run's bundle: it holds no figures to reproduce "
                        "(reproduce the draft it derives from, named by `bundles show`)")
        bundled = load_figures(bag)
        try:
            # deferred: would import Great Expectations and the renderer (seconds) at every start-up
            from tasks.compute import figures_from_bundle
        except ImportError as exc:
            raise _fail(f"error: cannot recompute figures: {exc}") from exc
        try:
            recomputed = figures_from_bundle(bag / "data")
        except Exception as exc:  # any failure to recompute is a failure to reproduce
            raise _fail(f"{target}: could not recompute the figures: {type(exc).__name__}: {exc}", 1) from exc
    differences = diff_figures(bundled, recomputed)
    if differences:
        typer.echo("bundled → recomputed:")
        for line in differences:
            typer.secho(f"  {line}", fg=typer.colors.RED)
        raise _fail(f"{target}: {len(differences)} figure(s) differ", 1)
    typer.echo(f"OK: {target}: all {count_values(bundled)} figure values reproduced exactly")


def cmd_diff(
    first: Annotated[str, typer.Argument(metavar="ID1", help="bundle id or bag directory (older)")],
    second: Annotated[str, typer.Argument(metavar="ID2", help="bundle id or bag directory (newer)")],
    config: ConfigOpt = None,
    workdir: WorkdirOpt = Path("."),
) -> None:
    """Files and figures that changed from ID1 to ID2 (exit 1 if anything differs, like diff)."""

    ctx = _Context(config, workdir)
    with _guard(), _open_bag(ctx, first) as (a, _), _open_bag(ctx, second) as (b, _):
        for target, bag in ((first, a), (second, b)):
            if not (bag / "bagit.txt").is_file():
                raise _fail(f"error: {target}: not an evidence bundle (no bagit.txt); give a bundle id or a "
                            "bag directory (`complaints bundles get ID --to DIR`)")
        lines = diff_bags(a, b)
    if not lines:
        typer.echo("no differences in files or figures")
        return
    for line in lines:
        typer.echo(line)
    raise typer.Exit(1)


bundles_app.command("list")(cmd_list)
bundles_app.command("show")(cmd_show)
bundles_app.command("get")(cmd_get)
bundles_app.command("verify")(cmd_verify)
bundles_app.command("reproduce")(cmd_reproduce)
bundles_app.command("diff")(cmd_diff)


def register(app: typer.Typer) -> None:
    """Add ``complaints bundles …``."""
    app.add_typer(bundles_app, name="bundles")
