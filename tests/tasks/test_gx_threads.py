"""The gate's threads and GX's suite-parameter parser (one pyparsing parser per process, not thread-safe).

Unserialised, eight threads parsing ``as_of`` at once in a fresh process failed in about two runs of five
(``TypeError: SuiteParameterParser.push_unary_minus() missing 1 required positional argument: 'toks'``):
pyparsing learns each parse action's arity on its first calls, and the threads raced on it. Each run
below is a fresh process, since only a process's first parses race.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import datetime as dt, threading
    from great_expectations.core import suite_parameters
    from tasks.quality import runner

    runner._serialise_suite_parameter_parsing()
    runner._serialise_suite_parameter_parsing()  # a second call changes nothing
    parse = suite_parameters.parse_suite_parameter
    n, errors = 8, []
    barrier = threading.Barrier(n)
    as_of = dt.datetime(2026, 7, 10, 9)

    def work():
        barrier.wait()
        try:
            for _ in range(3):
                assert parse("as_of", {"as_of": as_of}) == as_of
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(len(errors), errors[:1])
""")


def test_threads_parsing_suite_parameters_at_once_all_get_the_value() -> None:
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT,
                              check=False, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.split()[0] == "0", done.stdout
