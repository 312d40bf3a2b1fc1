"""``complaints benchmark``: the regulator-basis rates (监管口径) of a period against the bulletin medians.

The same numbers as ``complaints figures`` (``regulator_basis`` and ``benchmark``), laid out for an officer
at the terminal: per business line our rate, the segment median and its bulletin, the ratio, above or
below, which rate binds; the forwarded records in the bulletin's 事由 and 险种 with shares.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.figures import gated_figures
from complaints.benchmarks import comparison


def _num(value: Any, digits: int = 2, suffix: str = "") -> str:
    return "—" if value is None else f"{value:.{digits}f}{suffix}"


def _print(view: dict[str, Any], console: Console) -> None:
    console.print(
        f"[bold]与行业对比（按监管口径测算） {view['period']}[/bold]  entity: {view['entity'] or 'all'}"
    )
    if not view["covered"]:
        console.print(
            "没有覆盖本期的监管通报参考数据（config/benchmarks/bulletins.yaml），无法与行业中位数比较。"
        )
    for line in view["lines"]:
        table = Table(title=f"{line['segment']}  监管转送 {line['forwarded']} 件", title_justify="left")
        for col in ("指标", "本公司", "行业中位数", "通报期", "比值", "偏离", "高于中位数", ""):
            table.add_column(col)
        for r in line["rates"]:
            above = "—" if r["above_median"] is None else ("高于" if r["above_median"] else "不高于")
            table.add_row(
                r["label"],
                _num(r["value"]),
                _num(r["median"]),
                r["median_period"] or "—",
                _num(r["ratio"]),
                _num(r["deviation_pct"], suffix="%"),
                above,
                "排名最不利" if r["binding"] else "",
            )
        console.print(table)
        if line["bulletin"]:
            console.print(f"  bulletin: {line['bulletin']}", markup=False)
        elif line["why"]:
            console.print(f"  no benchmark: {line['why']}", markup=False)
        for title, rows in (("事由", line["issues"]), ("险种", line["products"])):
            if rows:
                text = "；".join(
                    f"{x['term']} {x['count']} 件（{_num(x['share'] and x['share'] * 100, 1)}%）"
                    for x in rows
                )
                console.print(f"  按{title}: {text}", markup=False)


def register(app: typer.Typer) -> None:
    @app.command("benchmark")
    def benchmark(
        ledger: Annotated[Path, typer.Option("--ledger", help="ledger file (CSV, XLSX or Parquet)")],
        period: Annotated[str, typer.Option("--period", help="a quarter (2026Q3) or a year (2026)")],
        exposure: Annotated[Path | None, typer.Option("--exposure", help="exposure table")] = None,
        entity: Annotated[
            str | None, typer.Option("--entity", help="entity code (head office = all)")
        ] = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO time; default now")] = None,
        config: Annotated[Path | None, typer.Option("--config", help="configuration file")] = None,
        bulletins: Annotated[
            Path | None, typer.Option("--bulletins", help="bulletin reference data (default: configured)")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    ) -> None:
        """Where the company stands against the regulator's bulletin (监管口径 and the segment medians)."""
        try:
            result, _gate = gated_figures(
                ledger=ledger,
                period=period,
                exposure=exposure,
                entity=entity,
                as_of=as_of,
                config=config,
                bulletins=bulletins,
            )
        except (ValueError, KeyError, OSError) as exc:
            Console(stderr=True).print(f"error: {exc}", markup=False)
            raise typer.Exit(2) from None
        figs = result.figures
        if as_json:
            notes = {k: v for k, v in figs["notes"].items() if k.startswith(("regulator_basis", "benchmark"))}
            out = {
                "period": figs["period"],
                "entity": figs["entity"],
                "as_of": figs["as_of"],
                "regulator_basis": figs.get("regulator_basis"),
                "benchmark": figs.get("benchmark"),
                "notes": notes,
            }
            typer.echo(json.dumps(out, ensure_ascii=False))
            return
        _print(comparison(figs), Console())
