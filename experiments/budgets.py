"""The budgets per year of a results directory: read the ``budgets/`` dataset, and sum it into
the table a summary and the report show (each party's flows by year, mean over replications).

``budgets/`` holds, per replication, every party's flows by arm, year and item, nominal and
discounted (:data:`effekt.contracts.BUDGETS`, written by :func:`effekt.experiments.runner.run_task`).
The NPV KPIs of ``runs/`` are its discounted sums, so this table says *when* the budgets gain or
pay what the NPVs add up.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from effekt.contracts import BUDGETS, KpiRegistry, common_kpis, in_currency_text
from effekt.specfile import said

ARMS = ("treatment", "control", "difference")
"""The arms of the budgets table."""

AMOUNTS = {"nominal": "amount_nominal", "discounted": "amount_discounted"}
"""The amount columns, by the name a caller chooses them with."""

PUBLIC_TOTAL = "public_total"
"""The row of :func:`budgets_per_year` that sums the public parties."""

PARTY_WORDS: dict[str, dict[str, str]] = {
    "nb": {"kommune": "kommunen", "state": "staten", "fylke": "fylkeskommunen",
           "other_kommuner": "andre kommuner", "participants": "deltakerne", "investor": "investorene",
           "provider": "leverandøren", "intermediary": "mellomleddet",
           PUBLIC_TOTAL: "offentlige budsjetter i alt"},
    "en": {"kommune": "kommune", "state": "state", "fylke": "fylke", "other_kommuner": "other kommuner",
           "participants": "participants", "investor": "investors", "provider": "provider",
           "intermediary": "intermediary", PUBLIC_TOTAL: "public budgets in total"},
}
"""How a party is named in each language (a party not named here keeps its own name: a
commissioner, a tranche ``investor.<name>``, a party a fiscal rules file adds)."""

WORDS: dict[str, dict[str, str]] = {
    "nb": {"title": "Budsjetter per år: {arm}, {amount} kroner (gjennomsnitt over {n} replikasjoner)",
           "difference": "tiltaket minus kontrollgruppen", "treatment": "med tiltaket",
           "control": "uten tiltaket", "nominal": "nominelle", "discounted": "diskonterte",
           "party": "part", "year": "år {y}", "total": "i alt",
           "note": "År 0 er de første 12 månedene; inn i budsjettet positivt, ut negativt.",
           "point": "designpunkt {point}"},
    "en": {"title": "Budgets per year: {arm}, {amount} NOK (mean over {n} replications)",
           "difference": "programme minus control", "treatment": "with the programme",
           "control": "without the programme", "nominal": "nominal", "discounted": "discounted",
           "party": "party", "year": "year {y}", "total": "total",
           "note": "Year 0 is the first 12 months; into the budget positive, out negative.",
           "point": "design point {point}"},
}
"""The words of the budgets table in bokmål and English."""


def _words(lang: str) -> dict[str, str]:
    if lang not in WORDS:
        raise ValueError(f"language '{lang}'; allowed: {', '.join(WORDS)}")
    return WORDS[lang]


def party_label(party: str, lang: str = "en") -> str:
    """The name of ``party`` in ``lang`` (:data:`PARTY_WORDS`; its own name if none is given)."""
    return PARTY_WORDS[lang if lang in PARTY_WORDS else "en"].get(party, party)


def load_budgets(out: str | Path, point: int | None = None) -> pd.DataFrame:
    """The ``budgets/`` table of a results directory (all design points, or only ``point``): one
    row per point, replication, arm, party, year and item with ``amount_nominal`` and
    ``amount_discounted`` in NOK (:data:`effekt.contracts.BUDGETS`), sorted by point,
    replication, arm (treatment, control, difference), party, item and year. Each column's
    unit and labels (nb, en) ride along in ``attrs["columns"]``."""
    path = Path(out) / "budgets"
    if not path.exists():
        raise FileNotFoundError(said(
            f"{out}: no budgets/ dataset here (not an effekt results directory, or one written by an "
            "effekt from before budgets per year were stored: rerun its command with --overwrite)",
            f"{out}: ingen budgets/-data her (ikke en resultatmappe fra effekt, eller en skrevet av en "
            "effekt fra før budsjett per år ble lagret: kjør kommandoen på nytt med --overwrite)"))
    columns = ["point", "replication", *BUDGETS.names]
    if point is None:
        table = pd.read_parquet(path, columns=columns)
    else:
        table = pd.read_parquet(path, columns=columns, filters=[("point", "=", point)])
    table["point"] = table["point"].astype(int)
    arm = table["arm"].map({a: i for i, a in enumerate(ARMS)}).fillna(len(ARMS))
    table = (table.assign(_arm=arm).sort_values(["point", "replication", "_arm", "party", "item", "year"])
             .drop(columns="_arm").reset_index(drop=True))
    table.attrs["columns"] = {f.name: {k.decode(): v.decode() for k, v in f.metadata.items()}
                              for f in BUDGETS if f.metadata}
    return table


def _replications(budgets: pd.DataFrame, runs: pd.DataFrame | None, arm: str,
                  registry: KpiRegistry | None) -> dict[int, np.ndarray]:
    """Per design point, the replications a mean is over: those of ``runs`` (for the difference
    arm, those with a control arm: without one the difference is undefined, not 0), else those
    ``budgets`` has rows of ``arm`` for."""
    if runs is None:
        rows = budgets[budgets["arm"] == arm]
        return {int(p): np.unique(df["replication"].to_numpy()) for p, df in rows.groupby("point")}
    runs = runs if "point" in runs else runs.assign(point=0)
    if arm == "difference":
        reg = registry or runs.attrs.get("kpis") or common_kpis()
        try:
            controls = reg.at("people", arm="control").name
        except KeyError:
            controls = "controls"
        if controls in runs:
            runs = runs[runs[controls].fillna(0) > 0]
    return {int(p): np.unique(df["replication"].to_numpy()) for p, df in runs.groupby("point")}


def budgets_per_year(budgets: pd.DataFrame, runs: pd.DataFrame | None = None, arm: str = "difference",
                     amount: str = "nominal", registry: KpiRegistry | None = None) -> pd.DataFrame:
    """Each party's flows in ``arm`` by year, summed over items, mean over replications (NOK).

    Rows: the public parties (those the budgets table marks ``public``; in the order the KPI
    declarations of ``registry``, or of ``runs.attrs["kpis"]``, name their budgets, the others by
    name), then their sum (:data:`PUBLIC_TOTAL`), then the other parties (participants,
    investors, provider ..., by name);
    indexed by ``party`` (by ``point`` and ``party`` when ``budgets`` has several design points).
    Columns: one per year (0, 1, ...) and ``total``. ``amount``: ``nominal`` or ``discounted``
    (whose total is the party's NPV). The mean is over the replications of ``runs`` when given
    (for the difference arm, those with a control arm), else over those with rows of ``arm``;
    a replication without a row for a party and year counts as 0 there. ``attrs["replications"]``
    holds how many replications each point's means are over."""
    if arm not in ARMS:
        raise ValueError(f"arm '{arm}'; allowed: {', '.join(ARMS)}")
    if amount not in AMOUNTS:
        raise ValueError(f"amount '{amount}'; allowed: {', '.join(AMOUNTS)}")
    col = AMOUNTS[amount]
    budgets = budgets if "point" in budgets else budgets.assign(point=0)
    reps = _replications(budgets, runs, arm, registry)
    reg = registry or (runs.attrs.get("kpis") if runs is not None else None)
    declared = [k.party for k in reg.select(measure="fiscal_npv", party_kind="public")
                if k.party] if isinstance(reg, KpiRegistry) else []
    rows = budgets[budgets["arm"] == arm]
    years = sorted(int(y) for y in rows["year"].unique())
    out, counts = [], {}
    for point, replications in sorted(reps.items()):
        mine = rows[(rows["point"] == point) & rows["replication"].isin(replications)]
        n = len(replications)
        counts[point] = n
        if n == 0:
            continue
        by = mine.groupby(["party", "year"])[col].sum().unstack("year").reindex(columns=years)
        by = by.fillna(0.0) / n
        public = set(mine.loc[mine["public"].astype(bool), "party"])
        order = [p for p in declared if p in public and p in by.index]
        order += sorted(p for p in by.index if p in public and p not in order)
        others = sorted(p for p in by.index if p not in public)
        table = by.reindex(order)
        if order:
            table = pd.concat([table, table.sum().to_frame(PUBLIC_TOTAL).T])
        table = pd.concat([table, by.reindex(others)])
        table["total"] = table[years].sum(axis=1)
        table.index.name = "party"
        table = table.assign(point=point).set_index("point", append=True)
        out.append(table.reorder_levels(["point", "party"]))
    if not out:
        result = pd.DataFrame(columns=[*years, "total"], index=pd.Index([], name="party"))
    else:
        result = pd.concat(out)
        if len(reps) == 1:
            result = result.droplevel("point")
    result.attrs["replications"] = counts
    result.attrs["arm"], result.attrs["amount"] = arm, amount
    result.attrs["currency"] = reg.currency if isinstance(reg, KpiRegistry) else "NOK"  # for the heading
    return result


def _nok(x: float, lang: str = "en") -> str:
    """One cell of the text/markdown table: the amount rounded to what the model can know, with its
    scale word and without the currency (the heading names it): ``3,6 mill.`` / ``3.6 million``,
    ``358 000``; never ``-0``; ``ikke definert`` / ``not defined`` for NaN
    (:func:`effekt.experiments.formatting.money`)."""
    from effekt.experiments.formatting import money

    return money(x, lang, unit=False)


def title(table: pd.DataFrame, lang: str = "en") -> str:
    """The heading of a :func:`budgets_per_year` table in ``lang``."""
    w = _words(lang)
    counts = table.attrs.get("replications", {})
    n = "/".join(str(c) for c in dict.fromkeys(counts.values())) or "0"
    text = w["title"].format(arm=w[table.attrs.get("arm", "difference")],
                             amount=w[table.attrs.get("amount", "nominal")], n=n)
    return in_currency_text(text, table.attrs.get("currency", "NOK"), lang)  # the scenario's money


def labelled(table: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """A :func:`budgets_per_year` table with the parties named and the columns headed in ``lang``
    (numbers left as they are)."""
    w = _words(lang)
    flat = table.reset_index()
    flat["party"] = flat["party"].map(lambda p: party_label(str(p), lang))
    names = {c: w["year"].format(y=c) if isinstance(c, int | np.integer)
             else w[c] if c in ("party", "total") else c for c in flat.columns}
    return flat.rename(columns=names)


def render_budgets(table: pd.DataFrame, fmt: str = "text", lang: str = "en") -> str:
    """A :func:`budgets_per_year` table as aligned ``text``, ``markdown``, ``csv`` or ``json``,
    labelled in ``lang``; text and markdown get the heading and a note on the signs."""
    w = _words(lang)
    flat = labelled(table, lang)
    if fmt == "csv":  # for Excel in the reader's language: ';', decimal commas and a BOM in bokmål
        from effekt.experiments.excel_csv import csv_text

        return csv_text(flat, lang, decimals=2)
    if fmt == "json":
        return flat.to_json(orient="records", indent=2, force_ascii=False)
    point = w.get("point", "point")
    numbers = [c for c in flat.columns if c not in ("point", w["party"])]
    shown = flat.copy()
    for c in numbers:
        shown[c] = shown[c].map(lambda x: _nok(x, lang))
    blocks = [title(table, lang)]
    groups = shown.groupby("point", sort=True) if "point" in shown else [(None, shown)]
    for p, df in groups:
        body = df.drop(columns="point") if "point" in df else df
        if p is not None:
            blocks.append(point.format(point=p))
        if fmt == "markdown":
            head = "| " + " | ".join(body.columns) + " |"
            sep = "|" + "---|" * len(body.columns)
            rows = ["| " + " | ".join(str(v) for v in r) + " |" for r in body.itertuples(index=False)]
            blocks.append("\n".join([head, sep, *rows]))
        else:
            blocks.append(body.to_string(index=False))
    blocks.append(w["note"])
    return "\n\n".join(blocks) if fmt == "markdown" else "\n".join(blocks)



# ---------------------------------------------------------------------------------------------
# per party, year and item: the programme, the counterfactual, their difference and its range

NET_ITEM = "net"
"""The item of :func:`budget_detail` that sums a party's items (its net budget in the year)."""

ALL_YEARS = "total"
"""The year of :func:`budget_detail` that sums a party's years (discounted: its NPV)."""

ITEM_WORDS: dict[str, dict[str, str]] = {
    "nb": {"benefits": "stønader", "income_tax": "inntektsskatt",
           "employer_contributions": "arbeidsgiveravgift", "integration_grant": "integreringstilskudd",
           "wage_subsidy": "lønnstilskudd", "wage_cost": "lønnskostnader",
           "value_of_work": "verdien av arbeidet", "sales_revenue": "salgsinntekter",
           "programme_costs": "programkostnader",
           "contract": "kontraktens betalinger", "earnings": "arbeidsinntekt",
           "outcome_payment": "resultatbetalinger", "coupon": "rente (kupong)",
           "capital_protection": "kapitalgaranti", "refund": "tilbakebetaling",
           "bridge_funding": "mellomfinansiering", "funding": "finansiering",
           "delivery_cost": "leveransekostnader", "performance_fee": "resultathonorar",
           "fee": "honorar", "residual": "restbeløp", NET_ITEM: "netto"},
    "en": {"benefits": "benefits", "income_tax": "income tax",
           "employer_contributions": "employer contributions", "integration_grant": "integration grant",
           "wage_subsidy": "wage subsidy", "wage_cost": "wage cost",
           "value_of_work": "value of the work done", "sales_revenue": "sales revenue",
           "programme_costs": "programme costs",
           "contract": "contract", "earnings": "earnings", "outcome_payment": "outcome payments",
           "coupon": "coupon", "capital_protection": "capital protection", "refund": "refund",
           "bridge_funding": "bridge funding", "funding": "funding", "delivery_cost": "delivery costs",
           "performance_fee": "performance fee", "fee": "fee", "residual": "residual",
           NET_ITEM: "net"},
}
"""How a budget item is named in each language (the fiscal items of the beregningsmodell and the
contract's cashflow items; an item not named here keeps its own name)."""

DETAIL_WORDS: dict[str, dict[str, str]] = {
    "nb": {"party": "part", "year": "år", "item": "post", "treatment": "med tiltaket",
           "control": "uten tiltaket", "difference": "forskjell", "low": "forskjell, 5 %-persentil",
           "high": "forskjell, 95 %-persentil", "interval": "90 % av replikasjonene",
           ALL_YEARS: "alle år", "point": "designpunkt",
           "title": "Budsjettet til {party} per år og post ({amount} kroner, gjennomsnitt over {n} "
                    "replikasjoner)",
           "note": ("Inn i budsjettet positivt, ut negativt. Forskjellen er tiltaket minus "
                    "kontrollgruppen skalert til tiltaksgruppens størrelse (etter eventuell "
                    "fortrengning), og intervallet er 5. til 95. persentil av forskjellen over "
                    "replikasjonene. År 0 er de første 12 månedene."),
           "figure": "Netto forskjell per år for hver offentlig part (nominelle kroner, med 90 % av "
                     "replikasjonene)",
           "figure_y": "{unit} per år, tiltaket minus kontrollgruppen", "figure_x": "år fra start"},
    "en": {"party": "party", "year": "year", "item": "item", "treatment": "with the programme",
           "control": "without the programme", "difference": "difference",
           "low": "difference, 5th percentile", "high": "difference, 95th percentile",
           "interval": "90 % of replications", ALL_YEARS: "all years", "point": "design point",
           "title": "The budget of {party} by year and item ({amount} NOK, mean over {n} replications)",
           "note": ("Into the budget positive, out negative. The difference is the programme minus the "
                    "control group scaled to the programme group's size (after any displacement), and "
                    "the interval is the 5th to 95th percentile of the difference across "
                    "replications. Year 0 is the first 12 months."),
           "figure": "Net difference per year for each public party (nominal NOK, with 90 % of "
                     "replications)",
           "figure_y": "{unit} per year, programme minus control", "figure_x": "year from the start"},
}
"""The words of the per-party detail (:func:`budget_detail`) in bokmål and English."""

PARTY_ORDER = ("kommune", "state", "fylke", "other_kommuner")
"""The public parties in the order a KS reader looks for them (the others follow by name)."""

DETAIL_COLUMNS = ["point", "party", "public", "year", "item", "treatment", "control", "difference",
                  "low", "high"]
"""The columns of :func:`budget_detail`."""


def item_label(item: str, lang: str = "en") -> str:
    """The name of budget item ``item`` in ``lang`` (:data:`ITEM_WORDS`; its own name if none)."""
    return ITEM_WORDS[lang if lang in ITEM_WORDS else "en"].get(item, item)


def _by_replication(rows: pd.DataFrame, keys: list[str], col: str, reps: np.ndarray) -> pd.DataFrame:
    """``col`` summed by ``keys`` and replication: one row per key, one column per replication of
    ``reps`` (a replication without a row counts 0)."""
    if rows.empty:
        return pd.DataFrame(columns=reps, index=pd.MultiIndex.from_arrays([[]] * len(keys), names=keys))
    wide = rows.groupby([*keys, "replication"])[col].sum().unstack("replication")
    return wide.reindex(columns=reps).fillna(0.0)


def budget_detail(budgets: pd.DataFrame, runs: pd.DataFrame | None = None, amount: str = "nominal",
                  registry: KpiRegistry | None = None, level: float = 0.90) -> pd.DataFrame:
    """Each party's budget by year and item: the programme (``treatment``), the counterfactual
    (``control``) and their ``difference`` (mean over replications, NOK), with the central
    ``level`` interval of the difference across replications (``low``, ``high``).

    Per party and year a row of item :data:`NET_ITEM` sums the items, and per party and item a
    row of year :data:`ALL_YEARS` sums the years; their intervals are those of the sums per
    replication (not sums of percentiles). With ``amount="discounted"`` the ``difference`` of a
    public party's net over all years is the mean of its ``fiscal_npv_<party>`` KPI. The
    replications are those :func:`budgets_per_year` takes for the difference arm (the ones with a
    control arm), or, without any control arm, the treatment arm's (``control`` and
    ``difference`` are then NaN). Parties in the order of :func:`budgets_per_year` (public
    first); columns :data:`DETAIL_COLUMNS`. ``attrs["replications"]``: per point, how many."""
    if amount not in AMOUNTS:
        raise ValueError(f"amount '{amount}'; allowed: {', '.join(AMOUNTS)}")
    if not 0 < level < 1:
        raise ValueError(f"level {level}; allowed: between 0 and 1")
    col = AMOUNTS[amount]
    budgets = budgets if "point" in budgets else budgets.assign(point=0)
    with_controls = _replications(budgets, runs, "difference", registry)
    everyone = _replications(budgets, runs, "treatment", registry)
    reg = registry or (runs.attrs.get("kpis") if runs is not None else None)
    declared = [k.party for k in reg.select(measure="fiscal_npv", party_kind="public")
                if k.party] if isinstance(reg, KpiRegistry) else []
    q = ((1 - level) / 2, 1 - (1 - level) / 2)
    frames, counts = [], {}
    for point, reps in sorted(everyone.items()):
        mine = budgets[budgets["point"] == point]
        has_controls = (mine["arm"] == "difference").any() and len(with_controls.get(point, [])) > 0
        reps = with_controls[point] if has_controls else reps
        counts[point] = len(reps)
        if len(reps) == 0:
            continue
        mine = mine[mine["replication"].isin(reps)]
        years = sorted(int(y) for y in mine["year"].unique())
        public = set(mine.loc[mine["public"].astype(bool), "party"])
        arms = {}
        for arm in ARMS:
            rows = mine[mine["arm"] == arm]
            by_item = _by_replication(rows, ["party", "year", "item"], col, reps)
            net = _by_replication(rows, ["party", "year"], col, reps)
            net.index = pd.MultiIndex.from_tuples([(p, y, NET_ITEM) for p, y in net.index],
                                                  names=["party", "year", "item"])
            per_year = pd.concat([by_item, net])
            # all years: the sum over years, per replication
            flat = per_year.reset_index()
            total = flat.drop(columns="year").groupby(["party", "item"]).sum()
            total.index = pd.MultiIndex.from_tuples([(p, ALL_YEARS, i) for p, i in total.index],
                                                    names=["party", "year", "item"])
            arms[arm] = pd.concat([per_year, total])
        keys = arms["treatment"].index.union(arms["control"].index, sort=False).union(
            arms["difference"].index, sort=False)  # years are ints and ALL_YEARS: no sorting here
        table = pd.DataFrame(index=keys)
        for arm in ARMS:
            wide = arms[arm].reindex(keys).fillna(0.0).to_numpy(dtype=float)
            table[arm] = wide.mean(axis=1) if wide.size else np.nan
            if arm == "difference":
                lo, hi = (np.quantile(wide, q, axis=1) if wide.size else (np.nan, np.nan))
                table["low"], table["high"] = lo, hi
        if not has_controls:
            table[["control", "difference", "low", "high"]] = np.nan
        table = table.reset_index()
        parties = list(dict.fromkeys(table["party"]))
        order = [p for p in PARTY_ORDER if p in public and p in parties]
        order += [p for p in declared if p in public and p in parties and p not in order]
        order += sorted(p for p in parties if p in public and p not in order)
        order += sorted(p for p in parties if p not in public)
        year_rank = {y: i for i, y in enumerate([*years, ALL_YEARS])}
        known = list(ITEM_WORDS["en"])  # the items in the order of the beregningsmodell, then the contract's
        items = sorted(set(table["item"]) - {NET_ITEM},
                       key=lambda it: (known.index(it) if it in known else len(known), it))
        item_rank = {it: i for i, it in enumerate([*items, NET_ITEM])}
        table = table.assign(point=point, public=table["party"].isin(public),
                             _p=table["party"].map({p: i for i, p in enumerate(order)}),
                             _y=table["year"].map(year_rank), _i=table["item"].map(item_rank))
        frames.append(table.sort_values(["_p", "_y", "_i"]).drop(columns=["_p", "_y", "_i"]))
    if frames:
        result = pd.concat(frames, ignore_index=True)[DETAIL_COLUMNS]
    else:
        result = pd.DataFrame(columns=DETAIL_COLUMNS)
    result["year"] = result["year"].astype(object)
    result.attrs.update(replications=counts, amount=amount, level=level,
                        currency=reg.currency if isinstance(reg, KpiRegistry) else "NOK")
    return result


def yearly_net(detail: pd.DataFrame, parties: list[str] | None = None) -> pd.DataFrame:
    """The net difference of each party per year with its interval, from :func:`budget_detail`:
    columns point, party, year (ints only, without :data:`ALL_YEARS`), difference, low, high;
    ``parties``: those to keep (default the public ones)."""
    rows = detail[(detail["item"] == NET_ITEM) & (detail["year"] != ALL_YEARS)]
    rows = rows[rows["party"].isin(parties)] if parties is not None else rows[rows["public"].astype(bool)]
    out = rows[["point", "party", "year", "difference", "low", "high"]].copy()
    out["year"] = out["year"].astype(int)
    return out.reset_index(drop=True)


def detail_title(party: str, detail: pd.DataFrame, lang: str = "en") -> str:
    """The heading of one party's table of :func:`budget_detail` in ``lang``."""
    w = DETAIL_WORDS[lang if lang in DETAIL_WORDS else "en"]
    n = "/".join(str(c) for c in dict.fromkeys(detail.attrs.get("replications", {}).values())) or "0"
    text = w["title"].format(party=party_label(party, lang), n=n,
                             amount=_words(lang)[detail.attrs.get("amount", "nominal")])
    return in_currency_text(text, detail.attrs.get("currency", "NOK"), lang)
