"""``complaints figures`` runs the quality gate as the filing run does (issue 22 item 13): an unknown
channel and a negative amount are quarantined, left out and counted, and the figures equal those of the
clean ledger; a duplicate complaint id is the table-level blocking check L012, which stops the filing
run, so the command refuses it too (exit 1, naming the check) unless --accept-risk is given."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from cli import app

CASE = Path(__file__).resolve().parents[1] / "cases" / "quarter_basic"
ARGS = ["--period", "2026Q2", "--entity", "HO", "--as-of", "2026-07-10T09:00:00", "--json"]
runner = CliRunner()


def _rows() -> tuple[list[str], list[dict[str, str]]]:
    with open(CASE / "ledger.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _figures(ledger: Path, *extra: str) -> tuple[int, dict, str]:
    res = runner.invoke(app, ["figures", "--ledger", str(ledger), *ARGS, *extra])
    return res.exit_code, (json.loads(res.stdout) if res.exit_code == 0 else {}), res.stderr


def test_bad_rows_are_quarantined_counted_and_left_out(tmp_path: Path) -> None:
    header, clean = _rows()
    template = clean[0]
    bad = [
        {**template, "complaint_id": "CH-1", "channel": "carrier_pigeon"},  # not a channel code
        {**template, "complaint_id": "NEG-1", "amount_involved": "-500"},  # a negative amount
        {**template, "complaint_id": "NEG-2", "amount_involved": "-1", "channel": "telegraph"},  # both
    ]
    code, dirty, err = _figures(_write(tmp_path / "dirty.csv", header, [*clean, *bad]))
    assert code == 0, err
    code, expected, _ = _figures(_write(tmp_path / "clean.csv", header, clean))
    assert code == 0
    assert dirty["rows"] == {"read": len(clean) + 3, "accepted": len(clean), "quarantined": 3}
    dirty.pop("rows"), expected.pop("rows")
    assert dirty == expected
    assert "carrier_pigeon" not in json.dumps(dirty)
    assert "3 of" in err and "L013 ×2" in err and "L051 ×2" in err  # how many, by which checks


def test_table_output_says_rows_read_accepted_quarantined(tmp_path: Path) -> None:
    header, clean = _rows()
    ledger = _write(tmp_path / "l.csv", header, [*clean, {**clean[0], "complaint_id": "NEG-1",
                                                          "amount_involved": "-1"}])
    res = runner.invoke(app, ["figures", "--ledger", str(ledger), *ARGS[:-1]])
    assert res.exit_code == 0, res.output
    assert f"read / accepted / quarantined: {len(clean) + 1} / {len(clean)} / 1" in res.stdout


def test_duplicate_id_refuses_as_the_filing_run_does(tmp_path: Path) -> None:
    header, clean = _rows()
    ledger = _write(tmp_path / "l.csv", header, [*clean, dict(clean[0])])  # Q2-01 twice
    res = runner.invoke(app, ["figures", "--ledger", str(ledger), *ARGS])
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert res.exit_code == 1 and len(errors) == 1, res.output
    assert "quality gate" in errors[0] and "L012" in errors[0] and "Traceback" not in res.output
    code, accepted, err = _figures(ledger, "--accept-risk", "duplicate known, ticket 42")
    assert code == 0, err
    assert accepted["rows"] == {"read": len(clean) + 1, "accepted": len(clean) + 1, "quarantined": 0}
