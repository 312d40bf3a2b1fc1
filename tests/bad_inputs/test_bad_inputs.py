"""The bad-input corpus (tests/bad_inputs/): one defect per file, its expected outcome in expected.yaml.

Every case runs through the real CLI (``complaints validate … --json``) in-process: no traceback,
the expected exit code, exactly the expected checks failing (read errors: a one-paragraph message
naming the file), the reconciliation read = accepted + quarantined with nothing dropped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from cli import app

CORPUS = Path(__file__).resolve().parent
EXPECTED: dict[str, Any] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
DEFAULTS = EXPECTED["_defaults"]
CASES = sorted(k for k in EXPECTED if not k.startswith("_"))
runner = CliRunner()


def test_corpus_is_large_and_complete() -> None:
    assert len(CASES) >= 40
    for name in CASES:
        assert (CORPUS / name).is_file(), name
    on_disk = {
        p.name
        for p in CORPUS.iterdir()
        if p.is_file() and p.suffix not in (".py", ".yaml") and not p.name.startswith("clean_")
    }
    assert on_disk == set(CASES), "every corpus file has an expected outcome and vice versa"


def _args(name: str, spec: dict[str, Any]) -> list[str]:
    # The events table (optional) only joins the cases about it: a GX run costs ~0.3 s per table.
    tables = ("ledger", "exposure", "events") if spec["table"] == "events" else ("ledger", "exposure")
    files = {t: CORPUS / DEFAULTS[t] for t in tables}
    files[spec["table"]] = CORPUS / name
    args = ["validate", "--period", DEFAULTS["period"], "--as-of", DEFAULTS["as_of"], "--json"]
    for table, path in files.items():
        args += [f"--{table}", str(path)]
    return args


@pytest.mark.parametrize("name", CASES)
def test_bad_input(name: str) -> None:
    spec = EXPECTED[name]
    result = runner.invoke(app, _args(name, spec))
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == spec["exit"], output

    if "read_error" in spec:
        message = result.stderr.strip()
        assert name in message, "the message names the file"
        assert "\n" not in message, "one paragraph"
        for word in spec["read_error"]:
            assert word.lower() in message.lower(), (word, message)
        return

    payload = json.loads(result.stdout)
    failed = sorted(r["id"] for r in payload["results"] if not r["passed"])
    assert failed == spec["fails"], output
    assert payload["blocked"] is spec["blocked"]
    for r in payload["results"]:
        assert r["error"] is None or r["id"].endswith("100"), r  # no metric error anywhere
        if not r["passed"] and r["level"] == "row":
            assert r["failing_rows"] >= 1 and r["failing_ids"], r
    rec = payload["reconciliation"]
    for table, counts in rec.items():
        assert counts["read"] == counts["accepted"] + counts["quarantined"], table
    assert rec[spec["table"]]["read"] == spec["rows"], "nothing silently dropped"
    assert rec[spec["table"]]["quarantined"] == spec["quarantined"]
    others = [t for t in rec if t != spec["table"]]
    if spec["table"] != "events":
        assert "events" in payload["skipped"] and rec["events"]["read"] == 0
    assert all(rec[t]["quarantined"] == 0 for t in others)
    if spec["quarantined"]:
        assert set(rec[spec["table"]]["by_check"]) <= set(spec["fails"])
