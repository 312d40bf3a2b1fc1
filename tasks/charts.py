"""Charts for the filings (matplotlib, Agg backend) with a CJK font from the system (Debian packages).

The font is located through ``matplotlib.font_manager`` (Noto Sans CJK SC, WenQuanYi Zen Hei, …); when
none is installed :class:`MissingCJKFont` says which Debian package to install, rather than drawing
Chinese labels as empty boxes. PNG output is deterministic for identical inputs (no timestamps).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

from complaints.errors import InfraError

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Source Han Sans SC",
    "SimHei",
    "Microsoft YaHei",
)
_PNG_METADATA = {"Software": None}
_DPI = 150


class MissingCJKFont(InfraError):
    """No font able to draw Chinese text is installed."""


def find_cjk_font() -> str:
    """The family name of an installed CJK font, preferring Noto Sans CJK SC, else WenQuanYi Zen Hei."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    for path in font_manager.findSystemFonts():
        if any(tag in path for tag in ("NotoSansCJK", "wqy-zenhei", "wqy-microhei")):
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    raise MissingCJKFont(
        "no CJK font found for chart labels; install one from Debian: "
        "apt-get install fonts-noto-cjk (or fonts-wqy-zenhei)"
    )


def _style(font: str) -> Any:
    return {
        "font.family": [font],
        "axes.unicode_minus": False,
        "font.size": 10,
        "svg.hashsalt": "complaints",
        "path.simplify": True,
    }


def category_bar_chart(counts: Sequence[tuple[str, int]], out: Path, title: str | None = None) -> Path:
    """Horizontal bar chart of (Chinese label, count), largest on top; written to ``out`` (PNG)."""
    font = find_cjk_font()
    items = list(counts)[::-1]
    with plt.rc_context(_style(font)):
        height = max(2.0, 0.22 * len(items) + 0.9)
        fig, ax = plt.subplots(figsize=(6.4, height))
        labels = [label for label, _ in items]
        values = [value for _, value in items]
        bars = ax.barh(labels, values, color="#1f4e79")
        top = max(values, default=0)
        for bar, value in zip(bars, values, strict=True):
            ax.text(
                bar.get_width() + top * 0.01 + 0.05,
                bar.get_y() + bar.get_height() / 2,
                f"{value}",
                va="center",
                fontsize=9,
            )
        ax.set_xlim(0, top * 1.15 + 1)
        ax.set_xlabel("投诉件数（件）")
        if title:
            ax.set_title(title)
        ax.spines[["top", "right"]].set_visible(False)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        fig.tight_layout()
        fig.savefig(out, format="png", dpi=_DPI, metadata=_PNG_METADATA)
        plt.close(fig)
    return out


def trend_chart(trend: Sequence[Mapping[str, Any]], out: Path, title: str | None = None) -> Path:
    """Line chart of ``cases`` and ``valid_cases`` over ``trend`` entries ``{period, label, cases, …}``."""
    font = find_cjk_font()
    labels = [str(t.get("label") or t["period"]) for t in trend]
    series = {
        "投诉件数": [t.get("cases") for t in trend],
        "有效投诉件数": [t.get("valid_cases") for t in trend],
    }
    with plt.rc_context(_style(font)):
        fig, ax = plt.subplots(figsize=(6.4, 3.2))
        styles = (("o", "#1f4e79", 7), ("s", "#c55a11", -13))
        for (name, values), (marker, color, dy) in zip(series.items(), styles, strict=True):
            points = [(i, v) for i, v in enumerate(values) if v is not None]
            ax.plot([p[0] for p in points], [p[1] for p in points], marker=marker, color=color, label=name)
            for i, v in points:
                ax.annotate(
                    f"{v}",
                    (i, v),
                    textcoords="offset points",
                    xytext=(0, dy),
                    ha="center",
                    fontsize=8,
                    color=color,
                )
        ax.set_xticks(range(len(labels)), labels)
        ax.set_ylabel("件", rotation=0, labelpad=10)
        ax.set_ylim(
            bottom=0, top=max([v for vs in series.values() for v in vs if v is not None], default=1) * 1.2 + 1
        )
        if title:
            ax.set_title(title)
        ax.legend(loc="lower center", frameon=False, ncols=2)
        ax.spines[["top", "right"]].set_visible(False)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        fig.tight_layout()
        fig.savefig(out, format="png", dpi=_DPI, metadata=_PNG_METADATA)
        plt.close(fig)
    return out
