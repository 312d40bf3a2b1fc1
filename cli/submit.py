"""``complaints submit BUNDLE_ID --document FILE --channel CHANNEL --by NAME``: record what was submitted to
the regulator (FILINGS.md "The filing's life"). The draft bundle is verified first; the submitted DOCX's
figures are compared with the draft's (a changed or missing figure is refused, exit 1, unless
``--accept-changes REASON``); the record and the file are archived signed and write-once in the same
store (``tasks.submission``). ``complaints status`` counts a filing as filed from then on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import fail
from cli.options import ConfigOpt, JsonOpt, PublicKeyOpt, WorkdirOpt
from complaints.errors import Refused
from complaints.submission import approver_problem
from complaints.times import TimeOutOfRange, now_local, parse_local


def submit(
    bundle_id: Annotated[str, typer.Argument(metavar="BUNDLE_ID", help="the draft's bundle id "
                                             "(`complaints bundles list`)")],
    document: Annotated[Path, typer.Option("--document", help="the DOCX (monthly tables: XLSX) exactly as "
                                           "submitted",
                                           dir_okay=False)],
    channel: Annotated[str, typer.Option("--channel", help="监管报送系统 | 电子邮件 | 邮寄 | 现场报送 "
                                         "(configuration may add: submission.channels)")],
    by: Annotated[str | None, typer.Option("--by", help="who submitted it (name; default: the OS "
                                           "user)")] = None,
    reference: Annotated[str | None, typer.Option("--reference", help="the regulator's reference or "
                                                  "receipt number, if any")] = None,
    at: Annotated[str | None, typer.Option("--at", help="when it was submitted, ISO time (default: now, "
                                           "Asia/Shanghai); not before the draft was made")] = None,
    approved_by: Annotated[str | None, typer.Option("--approved-by", help="who approved it (name)")] = None,
    approver_role: Annotated[str | None, typer.Option(
        "--approver-role", help="the approver's role, e.g. 消费者权益保护工作分管负责人")] = None,
    accept_changes: Annotated[str | None, typer.Option(
        "--accept-changes", help="record it although figures differ from the draft; the reason and the "
        "differences are recorded with the submission")] = None,
    config: ConfigOpt = None,
    workdir: WorkdirOpt = Path("."),
    public_key: PublicKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the submission of a draft: the file as submitted, when, through which channel, by whom."""
    # deferred: python-docx, bagit, cryptography (not needed by the other commands' start-up)
    from tasks.archive.stores import open_store
    from tasks.config_files import load_settings
    from tasks.runs import current_person
    from tasks.submission import channels, compare, load_draft, record_submission, unfinished_places

    def one(text: str | None) -> str | None:
        return " ".join(text.split()) if text and text.strip() else None

    by_name, reason = current_person(one(by)), one(accept_changes)
    if accept_changes is not None and reason is None:
        raise fail("--accept-changes needs a reason (it is recorded with the submission)")
    if not document.is_file():
        raise fail(f"--document {document}: file not found")
    if document.suffix.lower() not in (".docx", ".xlsx"):
        raise fail(f"--document {document}: not a Word document (.docx) or, for the monthly tables, an "
                   "Excel workbook (.xlsx)")
    try:
        submitted_at = parse_local(at.strip()) if at and at.strip() else now_local()
    except (TimeOutOfRange, ValueError):
        raise fail(f"--at {at!r} is not an ISO time such as 2026-10-15T16:30+08:00") from None
    if submitted_at > now_local():
        raise fail(f"--at {at}: in the future; record a submission once it has been made")

    loaded = load_settings(config)
    settings = loaded.settings
    known = channels(settings)
    chan = one(channel)
    if chan not in known:
        raise fail(f"--channel {channel!r} is not a known channel (one of {', '.join(known)}; configuration "
                   "may add more under submission.channels)")
    problem = approver_problem(settings.submission.require_approver, one(approved_by), one(approver_role))
    if problem:
        raise fail(problem)
    approver = {"name": str(one(approved_by)), "role": str(one(approver_role))} if approved_by else None

    store = open_store(settings.archive, workdir.resolve())
    key = public_key.read_text(encoding="ascii") if public_key else settings.archive.signing.public_key
    draft = load_draft(store, bundle_id.strip(), key)
    finished = draft.finished_at
    if finished is not None and submitted_at < finished:
        raise fail(f"--at {submitted_at.isoformat(sep=' ')} is before the draft was made "
                   f"({finished.isoformat(sep=' ')}); a submission derives from its draft")
    drift = compare(draft, document)
    marks = unfinished_places(document)
    if marks and reason is None:  # a placeholder the officer did not fill is not what the regulator reads
        for place in marks:
            typer.secho(f"still to be completed: {place}", err=True, fg=typer.colors.RED)
        raise fail(f"{document.name}: {len(marks)} place(s) still carry 【待补充】; complete the document, "
                   "or record what was actually submitted with --accept-changes REASON", Refused.exit_code)
    if drift and reason is None:
        for d in drift:
            typer.secho(f"figure changed: {d}", err=True, fg=typer.colors.RED)
        raise fail(f"{document.name}: {len(drift)} figure(s) differ from the draft {bundle_id}; correct the "
                   "document, or record it anyway with --accept-changes REASON", Refused.exit_code)
    done = record_submission(store, settings, draft, document, submitted_at=submitted_at, channel=str(chan),
                             by=by_name, reference=one(reference), approver=approver,
                             accept_reason=reason if drift or marks else None, drift=drift,
                             unfinished=marks,
                             workdir=workdir.resolve())
    if as_json:
        typer.echo(json.dumps({**done.record, "location": done.ref.location, "signed": done.ref.signed},
                              ensure_ascii=False, indent=2))
        return
    typer.echo(f"submission recorded: {done.ref.bundle_id}")
    typer.echo(f"  draft       {draft.bundle_id}")
    typer.echo(f"  submitted   {done.record['submitted_at']} via {chan} by {by_name}"
               + (f", reference {done.record['reference']}" if done.record["reference"] else ""))
    if approver:
        typer.echo(f"  approved by {approver['name']} ({approver['role']})")
    if drift:
        typer.echo(f"  {len(drift)} figure change(s) accepted: {reason}")
        for d in drift:
            typer.echo(f"    {d}")
    if marks:
        typer.echo(f"  {len(marks)} place(s) still carrying 【待补充】 accepted: {reason}")
    typer.echo(f"  stored      {done.ref.location}" + ("" if done.ref.signed else "  (UNSIGNED: no signing "
                                                         "key configured)"))


def register(app: typer.Typer) -> None:
    app.command("submit")(submit)
