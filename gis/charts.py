"""Charts of the investment portfolio for the web and for reports (matplotlib, Agg).

Every chart is drawn on its own :class:`matplotlib.figure.Figure` with an Agg canvas (no
pyplot state, no global backend switch: safe in the API's threads) and returned as an SVG
string (text kept as text, fixed element ids and no date: the same data always gives the
same bytes) or as PNG bytes. Labels are in Spanish and amounts in CLP are written as in
Chile, millions as ``$ 1.500 M``.

Examples
--------
>>> svg = execution_chart(budget_execution(conn, "anio"))            # doctest: +SKIP
>>> png = investment_per_inhabitant_chart_png(sectores)               # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from gis.portfolio.record import money

APPROVED, EXECUTED = "#2c7fb8", "#f28e2b"
GROUP_TITLES = {"anio": "año", "eje_pladeco": "eje PLADECO", "sector": "sector",
                "fuente": "fuente de financiamiento", "territorio": "sector de planificación"}
STYLE: dict[Any, Any] = {"svg.hashsalt": "secplac", "svg.fonttype": "none", "font.size": 9,
         "font.family": "DejaVu Sans", "axes.spines.top": False, "axes.spines.right": False}
"""rcParams of every chart: fixed SVG ids and text as text."""


def clp_millions(value: float) -> str:
    """CLP in millions as written in Chile.

    >>> clp_millions(1_500_000_000)
    '$ 1.500 M'
    >>> clp_millions(2_500_000)
    '$ 2,5 M'
    >>> clp_millions(0)
    '$ 0'
    """
    millions = value / 1e6
    if millions == 0:
        return "$ 0"
    if abs(millions) >= 10 or float(millions).is_integer():
        text = f"{round(millions):,}".replace(",", ".")
    else:
        text = f"{millions:.1f}".replace(".", ",")
    return f"$ {text} M"


def _percent(value: float) -> str:
    return f"{value:.1f} %".replace(".", ",")


def _wrap(label: Any, width: int = 16) -> str:
    words, lines, line = str(label).split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line]) if line else str(label)


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buf.getvalue()


def _png(fig: Figure, dpi: int) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None},
                bbox_inches="tight")
    return buf.getvalue()


# --- budget execution ------------------------------------------------------------------

def _execution_figure(df: pd.DataFrame) -> Figure:
    with matplotlib.rc_context(STYLE):
        by = str(df.index.name or "")
        labels = [_wrap(v) for v in df.index]
        fig = Figure(figsize=(max(6.0, 0.9 * len(labels) + 2), 4.2))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        x = np.arange(len(labels))
        width = 0.38
        approved = df["aprobado"].astype(float).to_numpy() if len(df) else np.array([])
        executed = df["ejecutado"].astype(float).to_numpy() if len(df) else np.array([])
        ax.bar(x - width / 2, approved, width, label="Aprobado", color=APPROVED)
        bars = ax.bar(x + width / 2, executed, width, label="Ejecutado", color=EXECUTED)
        if "pct_ejecucion" in df:
            for bar, pct in zip(bars, df["pct_ejecucion"], strict=True):
                if pct is not None and not pd.isna(pct):
                    ax.annotate(_percent(float(pct)), (bar.get_x() + bar.get_width() / 2,
                                                        bar.get_height()),
                                ha="center", va="bottom", fontsize=7, xytext=(0, 2),
                                textcoords="offset points")
        ax.set_xticks(x, labels, rotation=0 if len(labels) <= 6 else 45,
                      ha="center" if len(labels) <= 6 else "right")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: clp_millions(v)))
        ax.set_ylabel("Monto (CLP)")
        ax.set_title("Ejecución presupuestaria: aprobado y ejecutado por "
                     f"{GROUP_TITLES.get(by, by or 'grupo')}")
        ax.legend(frameon=False)
        if not len(df):
            ax.text(0.5, 0.5, "Sin financiamiento registrado", ha="center",
                    transform=ax.transAxes)
        ax.set_ylim(bottom=0)
        return fig


def execution_chart(df: pd.DataFrame) -> str:
    """Grouped bars, approved against executed, per row of ``df`` (the result of
    :func:`gis.investment.budget_execution`: its index gives the groups, ``aprobado`` and
    ``ejecutado`` the bars, ``pct_ejecucion`` the label over each executed bar); SVG."""
    return _svg(_execution_figure(df))


def execution_chart_png(df: pd.DataFrame, dpi: int = 150) -> bytes:
    """:func:`execution_chart` as PNG bytes."""
    return _png(_execution_figure(df), dpi)


# --- investment per inhabitant ---------------------------------------------------------

def _per_inhabitant_figure(gdf: pd.DataFrame) -> Figure:
    with matplotlib.rc_context(STYLE):
        data = pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
        data = data.assign(_v=data["monto_por_habitante"].astype(float).fillna(0.0))
        data = data.sort_values(["_v", "nombre"], ascending=[True, False])
        fig = Figure(figsize=(7.0, max(2.5, 0.32 * len(data) + 1.4)))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        y = np.arange(len(data))
        ax.barh(y, data["_v"], color=APPROVED, height=0.7)
        ax.set_yticks(y, [str(n) for n in data["nombre"]])
        for i, (value, missing) in enumerate(zip(data["_v"], data["monto_por_habitante"].isna(),
                                                 strict=True)):
            ax.annotate("sin población" if missing else money(value), (value, i),
                        xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
        people = data["poblacion"].astype(float).sum() if "poblacion" in data else 0.0
        if people > 0:
            mean = float(data["monto_clp"].astype(float).sum()) / people
            if math.isfinite(mean) and mean > 0:
                ax.axvline(mean, color="#c0392b", linestyle="--", linewidth=1,
                           label=f"Media comunal: {money(mean)} por habitante")
                ax.legend(frameon=False, loc="lower right")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: money(v)))
        ax.set_xlabel("Inversión por habitante (CLP)")
        ax.set_title("Inversión por habitante")
        ax.set_xlim(left=0, right=max(1.0, float(data["_v"].max() or 0) * 1.18))
        return fig


def investment_per_inhabitant_chart(gdf: pd.DataFrame) -> str:
    """Horizontal bars of investment per inhabitant by unit (``nombre``,
    ``monto_por_habitante`` of :func:`gis.investment.investment_by_territory`), with the
    comuna mean as a dashed line; SVG."""
    return _svg(_per_inhabitant_figure(gdf))


def investment_per_inhabitant_chart_png(gdf: pd.DataFrame, dpi: int = 150) -> bytes:
    """:func:`investment_per_inhabitant_chart` as PNG bytes."""
    return _png(_per_inhabitant_figure(gdf), dpi)
