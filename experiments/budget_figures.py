"""The figure of the budgets per year: each public party's net difference by year with its band.

Kept beside :mod:`effekt.experiments.report_figures` (whose PNG encoding and axis formats it uses)
so the budgets section of the report is one place: :mod:`effekt.experiments.budgets` makes the
numbers, this draws them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from effekt.contracts import in_currency_text
from effekt.experiments import report_figures as fig
from effekt.experiments.budgets import party_label
from effekt.experiments.formatting import money_axis

PARTY_COLOURS = {**fig.PARTY_COLOURS, "fylke": "#8e44ad", "other_kommuner": "#5dade2"}
"""Each party's colour (those of the report's other figures, and two more)."""


def yearly_net_bars(net: pd.DataFrame, words: dict[str, str], lang: str, currency: str = "NOK") -> str:
    """Grouped bars, one group per year and one bar per party: the mean net difference of that
    party's budget in that year, with the band across replications as an error bar.

    ``net``: columns party, year, difference, low, high (:func:`effekt.experiments.budgets.yearly_net`);
    ``words``: ``figure_x`` and ``figure_y`` (:data:`effekt.experiments.budgets.DETAIL_WORDS`; the
    y label takes the axis's ``{unit}``, kroner or millions by the largest bar). Returns a
    ``data:`` URI of the PNG."""
    parties = list(dict.fromkeys(net["party"]))
    years = sorted(int(y) for y in net["year"].unique())
    figure, ax = fig.plt.subplots(figsize=(7.5, 4))
    width = 0.8 / max(1, len(parties))
    x = np.arange(len(years))
    for i, party in enumerate(parties):
        d = net[net["party"] == party].set_index("year").reindex(years)
        mean = d["difference"].fillna(0.0).to_numpy(float)
        err = np.vstack([mean - d["low"].fillna(0.0).to_numpy(float),
                         d["high"].fillna(0.0).to_numpy(float) - mean]).clip(min=0.0)
        ax.bar(x - 0.4 + width * (i + 0.5), mean, width, yerr=err, capsize=3,
               color=PARTY_COLOURS.get(party), label=party_label(party, lang))
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, [str(y) for y in years])
    ax.set_xlabel(words["figure_x"])
    ends = net[["low", "high", "difference"]].to_numpy(float)
    largest = float(np.nanmax(np.abs(ends))) if np.isfinite(ends).any() else 0.0
    unit = in_currency_text(money_axis(ax.yaxis, largest, lang), currency, lang)
    ax.set_ylabel(words["figure_y"].format(unit=unit))
    ax.legend(frameon=False, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.15),
              ncol=min(4, len(parties)))
    ax.spines[["top", "right"]].set_visible(False)
    return fig._uri(figure)
