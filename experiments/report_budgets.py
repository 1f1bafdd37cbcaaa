"""The report's budgets by party, year and item (issue 13, item 5): a kommune decides on its annual
budget, so for each public party (kommune, state, fylke ...) a table of what flows in and out in
each year, item by item, with the programme, without it and the difference with its range across
replications, and a figure of the yearly net difference per party with its band.

The numbers come from :func:`effekt.experiments.budgets.budget_detail`; this module only lays them
out as HTML (the report, :mod:`effekt.experiments.report`, places the section).
"""

from __future__ import annotations

import html
import math

import pandas as pd

from effekt.contracts import in_currency_text
from effekt.experiments.budget_figures import yearly_net_bars
from effekt.experiments.budgets import (
    ALL_YEARS,
    DETAIL_WORDS,
    NET_ITEM,
    WORDS,
    detail_title,
    item_label,
    yearly_net,
)
from effekt.experiments.report_text import nok

RANGE_WORD = {"nb": "til", "en": "to"}
"""The word between the ends of an interval."""

NPV_ROW = {"nb": "alle år, nåverdi (diskontert)", "en": "all years, present value (discounted)"}
"""The label of the row that gives a party's net over all years discounted (its fiscal NPV)."""


def _interval(lo: float, hi: float, lang: str) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "\u2013"
    return f"{nok(lo, lang)} {RANGE_WORD[lang]} {nok(hi, lang)}"


def _year(y: object, lang: str) -> str:
    w = DETAIL_WORDS[lang]
    return w[ALL_YEARS] if y == ALL_YEARS else WORDS[lang]["year"].format(y=y)


def party_table(detail: pd.DataFrame, party: str, lang: str, npv: pd.Series | None = None) -> str:
    """One party's rows of ``detail`` (nominal) as an HTML table: per year its items and, in bold,
    the net; then all years; then, with ``npv`` (the discounted net over all years: difference,
    low, high), the present value row."""
    w, esc = DETAIL_WORDS[lang], html.escape
    cols = [w["year"], w["item"], w["treatment"], w["control"], w["difference"], w["interval"]]
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    rows, last = [], None

    def row(cells: list[str], attrs: str = "") -> str:
        first, second, *rest = (esc(c) for c in cells)  # the item left-aligned, as the year
        return (f"<tr{attrs}><td>{first}</td><td style=\"text-align:left\">{second}</td>"
                + "".join(f"<td>{c}</td>" for c in rest) + "</tr>")

    for r in detail[detail["party"] == party].itertuples(index=False):
        year = _year(r.year, lang) if r.year != last else ""  # each year named once, on its first row
        last = r.year
        cells = [year, item_label(str(r.item), lang), nok(r.treatment, lang), nok(r.control, lang),
                 nok(r.difference, lang), _interval(r.low, r.high, lang)]
        rows.append(row(cells, ' style="font-weight:bold"' if r.item == NET_ITEM else ""))
    if npv is not None:
        cells = [NPV_ROW[lang], item_label(NET_ITEM, lang), "", "", nok(float(npv["difference"]), lang),
                 _interval(float(npv["low"]), float(npv["high"]), lang)]
        rows.append(row(cells, ' style="font-weight:bold" class="npv"'))
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def budget_section(nominal: pd.DataFrame, discounted: pd.DataFrame | None, lang: str = "nb") -> str:
    """The HTML of the budgets by party, year and item: the figure of the public parties' yearly
    net difference, then one table per public party (:func:`party_table`). ``nominal`` and
    ``discounted``: :func:`effekt.experiments.budgets.budget_detail` of one design point in
    nominal and discounted kroner. Empty without public parties."""
    esc = html.escape
    w = DETAIL_WORDS[lang]
    public = [p for p in dict.fromkeys(nominal.loc[nominal["public"].astype(bool), "party"])]
    if not public:
        return ""
    parts = []
    net = yearly_net(nominal, public)
    if net["difference"].notna().any():
        uri = yearly_net_bars(net, w, lang, nominal.attrs.get("currency", "NOK"))
        parts.append(f'<figure><figcaption>{esc(w["figure"])}</figcaption><img src="{uri}" '
                     f'alt="{esc(w["figure"])}"></figure>')
    npv = None
    if discounted is not None:
        npv = discounted[(discounted["item"] == NET_ITEM) & (discounted["year"] == ALL_YEARS)]
        npv = npv.set_index("party")
    for party in public:
        title = detail_title(party, nominal, lang)
        row = npv.loc[party] if npv is not None and party in npv.index else None
        parts.append(f"<h3>{esc(title[:1].upper() + title[1:])}</h3>"
                     + party_table(nominal, party, lang, row))
    parts.append(f'<p class="note">{esc(w["note"])}</p>')
    return in_currency_text("".join(parts), nominal.attrs.get("currency", "NOK"), lang)
