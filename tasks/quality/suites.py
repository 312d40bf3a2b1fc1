"""The GX suites ``expectations/<table>.json``: written from the catalogue, loaded and checked."""

from __future__ import annotations

import json
from pathlib import Path

from great_expectations.core.expectation_suite import ExpectationSuite

from complaints import checks as C
from complaints.errors import InfraError
from tasks.config_files import EXPECTATIONS_DIR

# imported for its class definitions: GX registers the custom expectation type there, and a suite
# loaded before that silently drops its expectations of that type
from tasks.quality import expectation  # noqa: F401

TABLES = ("ledger", "exposure", "events")


class SuiteError(InfraError):
    """A suite file is broken or lost expectations on load (e.g. an unknown expectation type)."""


def write_suites(directory: Path = EXPECTATIONS_DIR) -> list[Path]:
    """(Re)generate ``expectations/<table>.json`` from the catalogue."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for table in TABLES:
        path = directory / f"{table}.json"
        path.write_text(
            json.dumps(C.suite_dict(table), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        out.append(path)
    return out


def load_suite(table: str, directory: Path = EXPECTATIONS_DIR) -> ExpectationSuite:
    """Load a suite JSON; refuse it when GX dropped an expectation or one lacks a known check id."""
    path = directory / f"{table}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SuiteError(f"{path}: cannot read the expectation suite ({exc}).") from exc
    wanted = data.get("expectations", [])
    try:
        suite = ExpectationSuite(**data)
    except Exception as exc:  # GX raises pydantic / its own errors for malformed expectations
        raise SuiteError(f"{path}: Great Expectations cannot build the suite: {exc}") from exc
    if len(suite.expectations) != len(wanted):
        got = {e.expectation_type for e in suite.expectations}
        lost = sorted({e["type"] for e in wanted} - got)
        raise SuiteError(
            f"{path}: Great Expectations dropped {len(wanted) - len(suite.expectations)} "
            f"expectation(s) of unknown type {lost}; import their classes before loading."
        )
    for exp in suite.expectations:
        cid = (exp.meta or {}).get("check_id")
        if cid not in C.BY_ID or C.BY_ID[cid].table != table:
            raise SuiteError(
                f"{path}: expectation {exp.expectation_type} has meta.check_id {cid!r}, "
                f"which is not a {table} check of complaints/checks/."
            )
    return suite


if __name__ == "__main__":  # python -m tasks.quality.suites: regenerate the suites from the catalogue
    for p in write_suites():
        print(p)
