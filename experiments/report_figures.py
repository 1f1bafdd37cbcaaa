"""The report's figures: matplotlib (Agg, no display) drawn to PNG and embedded as base64.

Each function takes plain data frames and the report's words, and returns a ``data:`` URI, so the
report stays one file that opens without a network. Every axis is in the report's language
(:mod:`effekt.experiments.formatting`): a decimal comma in bokmål, thousands grouped, the minus
sign U+2212, no ``1e6`` offset; an axis of large amounts is in millions (or milliards) with the
unit in its label (``mill. kr``).
"""

from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from effekt.contracts import in_currency_text  # noqa: E402
from effekt.experiments.formatting import (  # noqa: E402
    general,
    money_axis,
    percent_axis,
    tick_formatter,
)
from effekt.experiments.formatting import number as _number  # noqa: E402

TREAT, CONTROL = "#1b6ca8", "#c0504d"
PARTY_COLOURS = {"investor": "#1b6ca8", "provider": "#7f7f7f", "kommune": "#2e8b57",
                 "state": "#d4a017"}


def _uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _kr(lang: str):
    """Ticks in whole kroner, grouped, in ``lang`` (for an axis whose label says ``kr``)."""
    return tick_formatter(lang)


def _money_axis(axis, values, lang: str, currency: str) -> str:
    """Format ``axis`` for the amounts ``values`` (in kroner, millions or milliards by the largest)
    and return its unit in ``currency`` for the axis label (``mill. kr``, ``NOK million``)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    unit = money_axis(axis, float(np.abs(v).max()) if len(v) else 0.0, lang)
    return in_currency_text(unit, currency, lang)


def funnel(reach: pd.Series, t: dict[str, str], lang: str = "en") -> str:
    """Horizontal bars, top to bottom in pathway order: mean people reaching each stage."""
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(reach) + 1.2))
    y = np.arange(len(reach))[::-1]
    ax.barh(y, reach.to_numpy(), color=TREAT, alpha=0.85)
    for yi, v in zip(y, reach.to_numpy(), strict=True):
        ax.text(v, yi, " " + _number(v, lang, 1, unicode_minus=True), va="center", fontsize=9)
    ax.set_yticks(y, reach.index)
    ax.set_xlabel(t["funnel_x"])
    ax.xaxis.set_major_formatter(tick_formatter(lang))
    ax.set_xlim(0, max(1.0, float(reach.max()) * 1.15))
    ax.spines[["top", "right"]].set_visible(False)
    return _uri(fig)


def in_work(bands: pd.DataFrame, t: dict[str, str], ordinary: pd.DataFrame | None = None,
            lang: str = "en") -> str:
    """Share in work by month: mean line, 95 % CI of the mean (dark) and 90 % band (light);
    with ``ordinary`` (the same bands in ordinary work, without the programme's own jobs) its
    means as dashed lines."""
    fig, ax = plt.subplots(figsize=(7.5, 4))
    for arm, colour in (("treatment", TREAT), ("control", CONTROL)):
        b = bands[bands["arm"] == arm]
        if b.empty:
            continue
        ax.fill_between(b["month"], b["p_low"], b["p_high"], color=colour, alpha=0.12, lw=0)
        ax.fill_between(b["month"], b["ci_low"], b["ci_high"], color=colour, alpha=0.3, lw=0)
        ax.plot(b["month"], b["mean"], color=colour, lw=2, label=t[arm])
        o = ordinary[ordinary["arm"] == arm] if ordinary is not None else bands.iloc[0:0]
        if not o.empty:
            ax.plot(o["month"], o["mean"], color=colour, lw=1.5, ls="--",
                    label=f"{t[arm]}, {t['ordinary']}")
    ax.fill_between([], [], [], color="grey", alpha=0.15, label=t["band90"])
    percent_axis(ax.yaxis, lang)
    ax.xaxis.set_major_formatter(tick_formatter(lang))
    ax.set_ylim(0, 1)
    ax.set_xlabel(t["months"])
    ax.set_ylabel(t["in_work_y"])
    ax.legend(loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _uri(fig)


def payments(by_month: pd.DataFrame, t: dict[str, str], lang: str, currency: str = "NOK") -> str:
    """Mean outcome payment per month (bars) and the cumulative total with its 90 % band."""
    fig, ax = plt.subplots(figsize=(7.5, 4))
    ax.bar(by_month["month"], by_month["mean"], color=TREAT, alpha=0.8)
    ax.set_xlabel(t["month"])
    ax.xaxis.set_major_formatter(tick_formatter(lang))
    ax.set_ylabel(t["payments_y"].format(unit=_money_axis(ax.yaxis, by_month["mean"], lang, currency)))
    ax2 = ax.twinx()
    ax2.plot(by_month["month"], by_month["cum_mean"], color="black", lw=1.5, label=t["payments_cum"])
    ax2.fill_between(by_month["month"], by_month["cum_low"], by_month["cum_high"], color="black",
                     alpha=0.1, lw=0, label=t["band90"])
    ax2.set_ylabel(t["payments_cum_y"].format(
        unit=_money_axis(ax2.yaxis, by_month["cum_high"], lang, currency)))
    ax2.set_ylim(bottom=0)
    ax2.legend(loc="upper left", frameon=False)
    ax.spines[["top"]].set_visible(False)
    return _uri(fig)


def irr_histogram(irr: np.ndarray, undefined: int, p_loss: float, t: dict[str, str],
                  loss_text: str, lang: str = "en") -> str:
    """Histogram of defined IRRs; the loss side (IRR < 0) shaded, the loss probability written."""
    fig, ax = plt.subplots(figsize=(7.5, 4))
    irr = irr[np.isfinite(irr)]
    if len(irr):
        lo, hi = np.percentile(irr, [0.5, 99.5])
        lo, hi = min(lo, -0.05), max(hi, 0.05)
        bins = np.linspace(lo, hi, 31)
        clipped = np.clip(irr, lo, hi)
        ax.hist(clipped[clipped < 0], bins=bins, color=CONTROL, alpha=0.85)
        ax.hist(clipped[clipped >= 0], bins=bins, color=TREAT, alpha=0.85)
    ax.axvline(0, color="black", lw=1)
    # above the plot, not inside it: inside, the words covered the bars of the largest losses
    ax.set_title(f"{t['loss']}: {loss_text}", loc="left", fontsize=11, fontweight="bold", color=CONTROL,
                 pad=20 if undefined else 6)
    if undefined:
        ax.text(0.0, 1.01, f"{t['undefined']}: {undefined}", transform=ax.transAxes, va="bottom",
                fontsize=9)
    percent_axis(ax.xaxis, lang)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # replications are whole
    ax.yaxis.set_major_formatter(tick_formatter(lang))
    ax.set_xlabel(t["irr_x"])
    ax.set_ylabel(t["irr_y"])
    ax.spines[["top", "right"]].set_visible(False)
    return _uri(fig)


def cash_by_party(cum: pd.DataFrame, t: dict[str, str], lang: str, currency: str = "NOK") -> str:
    """Mean cumulative net cashflow of each party by month (``cum``: month x party)."""
    fig, ax = plt.subplots(figsize=(7.5, 4))
    styles = ["-", "--", ":", "-."]
    for i, party in enumerate(cum.columns):  # dashes keep overlapping lines (equal shares) visible
        ax.plot(cum.index, cum[party], lw=2, ls=styles[i % len(styles)], label=t.get(party, party),
                color=PARTY_COLOURS.get(party))
    ax.axhline(0, color="black", lw=0.8)
    unit = _money_axis(ax.yaxis, cum.to_numpy(), lang, currency)
    ax.xaxis.set_major_formatter(tick_formatter(lang))
    ax.set_xlabel(t["month"])
    ax.set_ylabel(t["cash_y"].format(unit=unit))
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _uri(fig)


def fiscal(table: pd.DataFrame, t: dict[str, str], lang: str, currency: str = "NOK") -> str:
    """Grouped bars per public party: gain, outcome payments and net NPV with 90 % bands.

    ``table``: index party; columns ``gain``, ``paid``, ``net`` (means) and ``net_low``, ``net_high``.
    """
    fig, ax = plt.subplots(figsize=(7.5, 4))
    x = np.arange(len(table))
    w = 0.27
    ax.bar(x - w, table["gain"], w, color="#2e8b57", label=t["fiscal_gain"])
    ax.bar(x, -table["paid"], w, color=CONTROL, label=t["fiscal_paid"])
    err = np.vstack([table["net"] - table["net_low"], table["net_high"] - table["net"]])
    ax.bar(x + w, table["net"], w, color="#444444", label=t["fiscal_net"], yerr=err, capsize=4)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, [t.get(p, p) for p in table.index])
    unit = _money_axis(ax.yaxis, np.concatenate([table["gain"], table["paid"], table["net_low"],
                                                 table["net_high"]]), lang, currency)
    ax.set_ylabel(t["fiscal_y"].format(unit=unit))
    ax.legend(frameon=False, fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return _uri(fig)


def tornado(oat: pd.DataFrame, t: dict[str, str], output: str, lang: str = "en") -> str:
    """Bars from the base case to the output at each parameter's low and high value, widest on top.

    ``oat``: columns ``parameter``, ``low``, ``high``, ``y_low``, ``y_high``, ``y_base``.
    """
    d = oat.assign(swing=(oat["y_high"] - oat["y_low"]).abs()).sort_values("swing")
    base = float(d["y_base"].iloc[0])
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * len(d) + 1.3))
    y = np.arange(len(d))
    ax.barh(y, d["y_low"] - base, left=base, color=CONTROL, alpha=0.8, label=t["low"])
    ax.barh(y, d["y_high"] - base, left=base, color=TREAT, alpha=0.8, label=t["high"])
    labels = [f"{_parameter(p, lang)}  [{general(lo, lang, unicode_minus=True)} \u2013 "
              f"{general(hi, lang, unicode_minus=True)}]"
              for p, lo, hi in zip(d["parameter"], d["low"], d["high"], strict=True)]
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(base, color="black", lw=1)
    ax.xaxis.set_major_locator(MaxNLocator(6))  # more ticks of six-digit amounts ran into each other
    ax.xaxis.set_major_formatter(tick_formatter(lang))
    ax.set_xlabel(t["tornado_x"].format(out=output))
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _uri(fig)


def compare(table: pd.DataFrame, kpis: list[str], t: dict[str, str],
            labels: Mapping[str, str] | None = None, lang: str = "en",
            kinds: Mapping[str, str | None] | None = None) -> str:
    """Small multiples: one panel per KPI, one bar per scenario with its 95 % CI.

    ``table``: columns ``scenario``, ``kpi``, ``mean``, ``ci_low``, ``ci_high``; ``labels``: each
    KPI's declared label in the report's language (panel titles; default the KPI's name);
    ``kinds``: each KPI's declared kind, for its axis (percentages for shares and rates, millions
    for large amounts).
    """
    labels, kinds = labels or {}, kinds or {}
    kpis = [k for k in kpis if k in set(table["kpi"])]
    fig, axes = plt.subplots(1, len(kpis), figsize=(3.2 * len(kpis), 3.4), squeeze=False)
    for ax, k in zip(axes[0], kpis, strict=True):
        d = table[table["kpi"] == k]
        x = np.arange(len(d))
        err = np.vstack([d["mean"] - d["ci_low"], d["ci_high"] - d["mean"]])
        ax.bar(x, d["mean"], color=TREAT, alpha=0.85, yerr=err, capsize=4)
        ax.set_xticks(x, d["scenario"], rotation=30, ha="right", fontsize=8)
        ax.set_title(textwrap.fill(labels.get(k, k), 30), fontsize=9)
        if kinds.get(k) in ("share", "indicator", "rate"):
            percent_axis(ax.yaxis, lang)
        else:
            v = np.abs(d[["mean", "ci_low", "ci_high"]].to_numpy(float))
            largest = float(v[np.isfinite(v)].max()) if np.isfinite(v).any() else 0.0
            scale = 1e6 if largest >= 1e6 and kinds.get(k) == "money" else 1.0
            ax.yaxis.set_major_formatter(tick_formatter(lang, scale))
            if scale > 1:
                ax.set_ylabel("mill." if lang == "nb" else "million")
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _uri(fig)


def _parameter(key: str, lang: str) -> str:
    """A scenario key by its readable name where effekt has one (else the key itself)."""
    from effekt.experiments.parameter_labels import parameter_label

    return parameter_label(str(key), lang, code="")


def _paired_bars(d: pd.DataFrame, first: tuple, second: tuple, xlabel: str, zero_line: bool,
                 lang: str = "en") -> str:
    """Two horizontal bars per parameter: ``first`` and ``second`` are (column, error column or
    None, colour, label)."""
    y = np.arange(len(d))
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(d) + 1.3))
    h = 0.38
    for offset, (col, err, colour, label) in ((-h / 2, first), (h / 2, second)):
        ax.barh(y + offset, d[col], h, xerr=d[err] if err else None, color=colour, alpha=0.85,
                label=label, capsize=3)
    ax.set_yticks(y, [_parameter(p, lang) for p in d["parameter"]], fontsize=8)
    ax.xaxis.set_major_formatter(tick_formatter(lang))
    if zero_line:
        ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _uri(fig)


def sobol_bars(table: pd.DataFrame, t: dict[str, str], lang: str = "en") -> str:
    """First-order and total Sobol indices per parameter with their 95 % CIs."""
    return _paired_bars(table.sort_values("ST"), ("S1", "S1_conf", TREAT, "S1"),
                        ("ST", "ST_conf", "#444444", "ST"), t["sobol_x"], zero_line=True, lang=lang)


def morris_bars(table: pd.DataFrame, t: dict[str, str], lang: str = "en") -> str:
    """Morris mu* per parameter with its 95 % CI, and sigma beside it."""
    return _paired_bars(table.sort_values("mu_star"),
                        ("mu_star", "mu_star_conf", TREAT, "\u03bc*"),
                        ("sigma", None, "#999999", "\u03c3"), t["morris_x"], zero_line=False, lang=lang)


def _tick(v: object, lang: str) -> str:
    """A swept value on an axis: whole numbers whole (8, 60 000), others to three digits."""
    x = float(v)
    return _number(x, lang, unicode_minus=True) if x.is_integer() else general(x, lang, unicode_minus=True)


def sweep_grid(loss: pd.DataFrame, npv: pd.DataFrame, row_label: str, col_label: str,
               titles: tuple[str, str], lang: str = "en", currency: str = "NOK") -> str:
    """Two heat maps on the grid of two swept parameters: the probability of an investor loss and
    the mean public NPV, each cell written out (:mod:`effekt.experiments.formatting`).

    ``loss``, ``npv``: index the first parameter's values, columns the second's (the same shape)."""
    from effekt.experiments.formatting import money, money_scale, money_unit, probability

    fig, axes = plt.subplots(1, 2, figsize=(10, 0.55 * len(loss) + 2.4))
    finite = np.isfinite(npv.to_numpy(float))
    largest = float(np.nanmax(np.abs(npv.to_numpy(float)))) if finite.any() else 0.0
    scale = money_scale(largest)
    unit = in_currency_text(money_unit(scale, lang), currency, lang)
    for ax, table, title, cmap in ((axes[0], loss, titles[0], "Reds"), (axes[1], npv, titles[1], "RdYlGn")):
        values = table.to_numpy(float)
        bound = (largest or 1.0) if table is npv else 1.0
        low = -bound if table is npv else 0.0
        ax.imshow(values, cmap=cmap, vmin=low, vmax=bound, aspect="auto")
        for (i, j), v in np.ndenumerate(values):
            if table is loss:
                text = probability(v, lang)
            elif scale > 1:
                text = _number(v / scale, lang, 1, unicode_minus=True)
            else:  # kroner: rounded as every amount is (nearest thousand), the unit in the title
                text = money(v, lang, unit=False, unicode_minus=True, like=largest)
            # white on the darkest fifth of either end of the colour scale, black elsewhere
            where = (v - low) / (bound - low) if np.isfinite(v) else 0.5
            dark = where > 0.8 or (table is npv and where < 0.2)
            ax.text(j, i, text, ha="center", va="center", fontsize=9, color="white" if dark else "black")
        ax.set_xticks(range(table.shape[1]), [_tick(c, lang) for c in table.columns])
        ax.set_yticks(range(table.shape[0]), [_tick(r, lang) for r in table.index])
        ax.set_xlabel(col_label)
        ax.set_ylabel(row_label)
        ax.set_title(title if table is loss else f"{title} ({unit})", fontsize=10)
    fig.tight_layout()
    return _uri(fig)
