"""Golden cases of the monthly call-back sample: ``expected_callback.json`` has the HAND-COMPUTED population,
the cases left out for a recorded delay request and the sample size (arithmetic in the case's README); the
draw itself is checked for what a seed must guarantee (a subset of the population, the same seed the same
sample, every case reachable)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.options import parse_as_of
from complaints.callback import callback_sample, draw, run_seed, sample_size
from complaints.figures import monthly_figures
from complaints.ledger import normalize
from complaints.periods import Period
from tasks.calendar_files import load_calendar
from tasks.rulebooks import load_rulebooks
from tasks.sources import read_table

CASES = Path(__file__).resolve().parent
NAMES = sorted(p.name for p in CASES.iterdir() if (p / "expected_callback.json").is_file())


def _load(name: str) -> tuple[dict, object]:
    folder = CASES / name
    args = json.loads((folder / "args.json").read_text(encoding="utf-8"))
    return args, normalize(read_table(folder / "ledger.csv", "ledger"), "ledger")


def _sample(name: str, seed: int):  # noqa: ANN202
    args, ledger = _load(name)
    return callback_sample(ledger, month=Period.parse(args["month"]), as_of=parse_as_of(args["as_of"]),
                           calendar=load_calendar(), rulebooks=load_rulebooks(), seed=seed,
                           share=args["share"], entity=args["entity"], head_office="HO")


@pytest.mark.parametrize("name", NAMES)
def test_callback_case(name: str) -> None:
    expected = json.loads((CASES / name / "expected_callback.json").read_text(encoding="utf-8"))
    got = _sample(name, seed=12345)
    assert got.population == expected["population"]
    assert got.left_out_delay_requested == expected["left_out_delay_requested"]
    assert len(got.sample) == expected["sample_size"]
    assert set(got.sample) <= set(got.population) and len(set(got.sample)) == len(got.sample)
    assert _sample(name, seed=12345).sample == got.sample  # the recorded seed redraws the same sample
    drawn = {c for seed in range(200) for c in _sample(name, seed).sample}
    assert drawn == set(got.population)  # every case of the population can be drawn


def test_sample_size_rounds_up_in_decimal() -> None:
    assert [sample_size(n, 0.2) for n in (0, 1, 5, 6, 7, 10, 11)] == [0, 1, 1, 2, 2, 2, 3]
    assert sample_size(3, 0.3) == 1  # 0.9 → 1
    assert sample_size(10, 0.3) == 3  # float 0.3 × 10 = 3.0000000000000004 would give 4
    with pytest.raises(ValueError):
        sample_size(5, 0)


def test_draw_is_order_independent_and_seeded_by_run() -> None:
    ids = [f"T{i:03d}" for i in range(50)]
    assert draw(ids, 0.2, 7) == draw(list(reversed(ids)), 0.2, 7)
    assert run_seed("abc", "2026-09") == run_seed("abc", "2026-09") != run_seed("abd", "2026-09")


def test_monthly_figures_carry_the_sample_with_lineage() -> None:
    args, ledger = _load("callback_population_7")
    result = monthly_figures(
        ledger, month=Period.parse(args["month"]), as_of=parse_as_of(args["as_of"]), entity="HO",
        names={}, callback={"calendar": load_calendar(), "rulebooks": load_rulebooks(), "seed": 99,
                            "share": 0.2, "head_office": "HO"})
    cb = result.figures["callback"]
    assert (cb["population"], cb["sample_size"], cb["seed"], cb["delay_requested_left_out"]) == (7, 2, 99, 1)
    assert sorted(result.ids("callback.population")) == [f"C{i}" for i in range(1, 8)]
    assert sorted(result.ids("callback.sample")) == cb["sample"]
