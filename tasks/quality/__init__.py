"""The quality gate: run the GX suites (``expectations/*.json``) and the pandas checks, quarantine rows.

Entry points::

    run_quality_gate(ledger_raw, exposure_raw=None, events_raw=None, *, period, as_of,
                     entities_in_scope=None, accept_risk=None) -> GateResult
    write_quality_outputs(result, out_dir) -> {name: path}

Every check comes from the catalogue :mod:`complaints.checks` (stable id, severity, level,
descriptions). GX runs on an ephemeral context with a pandas datasource; every GX result is checked
for ``success`` *and* ``exception_info`` so a metric error surfaces as a failed check with its reason.

One job per module: :mod:`~tasks.quality.expectation` (the custom GX expectation),
:mod:`~tasks.quality.frames` (the frame GX sees), :mod:`~tasks.quality.suites` (``expectations/*.json``),
:mod:`~tasks.quality.partitioning` (big tables in row partitions), :mod:`~tasks.quality.runner` (GX over
the tables), :mod:`~tasks.quality.results` (the result types), :mod:`~tasks.quality.gate` (quarantine,
reconciliation, the blocking decision), :mod:`~tasks.quality.outputs` (the files it writes).
``python -m tasks.quality.suites`` regenerates the suites from the catalogue.
"""

from tasks.quality.gate import run_quality_gate, run_quality_gate_owned
from tasks.quality.outputs import write_quality_outputs
from tasks.quality.results import CheckResult, GateResult
from tasks.quality.suites import TABLES, SuiteError, load_suite, write_suites

__all__ = [
    "TABLES",
    "CheckResult",
    "GateResult",
    "SuiteError",
    "load_suite",
    "run_quality_gate",
    "run_quality_gate_owned",
    "write_quality_outputs",
    "write_suites",
]
