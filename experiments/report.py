"""``effekt report DIR``: one self-contained HTML file a KS adviser can mail to a colleague.

The report reads a results directory (``runs/``, ``cashflows/``, ``budgets/``, ``manifest.json``),
re-simulates the replications it needs for time series (seeds are deterministic, so they are the
same ones), and writes a plain-language summary with the key numbers and their uncertainty, the
caveats, the figures embedded as PNG and the budgets per year. No scripts, no network: it opens
anywhere.

Optional extras found in ``DIR/analysis/``: ``sensitivity_oat.csv`` (tornado, from
``effekt sensitivity --method oat --out DIR/analysis/sensitivity_oat.csv``),
``sensitivity_morris.csv`` and ``sensitivity_sobol.csv`` (the same with ``--method morris|sobol``)
and ``compare.csv`` (from ``effekt compare ... --out DIR/analysis/compare.csv``).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from effekt.contracts import KpiRegistry, common_kpis, in_currency_text, in_currency_words
from effekt.experiments import answers, report_tracks
from effekt.experiments import report_figures as fig
from effekt.experiments.analysis.common import scenario_from_results
from effekt.experiments.budgets import PUBLIC_TOTAL, budget_detail, budgets_per_year, load_budgets
from effekt.experiments.budgets import WORDS as BUDGET_WORDS
from effekt.experiments.budgets import labelled as budget_labels
from effekt.experiments.budgets import party_label as budget_party
from effekt.experiments.budgets import title as budget_title
from effekt.experiments.contract_checks import payment_notices, term_notices
from effekt.experiments.formatting import money
from effekt.experiments.parameter_labels import parameter_label
from effekt.experiments.report_budgets import budget_section
from effekt.experiments.report_text import TEXT, largest, nok, number, pct, points
from effekt.experiments.summary import (
    HORIZON_TEXT,
    horizon_lines,
    horizon_table,
    load_kpis,
    load_runs,
    wilson,
    window_years,
    work_share_kpis,
)
from effekt.experiments.summary import parameters as sweep_parameters
from effekt.experiments.timeseries import band, in_work_by_month, simulate_replications, stage_reach
from effekt.specfile import SpecError, said
from effekt.titles import title as titled

CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:60em;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.lead{font-size:1.1em}.key li{margin:.3em 0}.caveat{background:#fff8e1;border-left:4px solid #d4a017;
padding:.5em 1em}figure{margin:1.5em 0}figure img{max-width:100%}
figcaption{font-weight:bold;margin-bottom:.4em}
.note{color:#555;font-size:.9em}table{border-collapse:collapse;font-size:.9em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th:first-child,td:first-child{text-align:left}
"""


@dataclass
class ReportData:
    """Everything the report shows, gathered once (tests inspect this rather than the HTML)."""

    runs: pd.DataFrame
    cashflows: pd.DataFrame
    scenario: object | None
    in_work: pd.DataFrame | None = None      # replication, arm, month, share
    in_ordinary_work: pd.DataFrame | None = None  # the same in ordinary work (None where equal)
    reach: pd.DataFrame | None = None        # replication, stage, people
    fiscal_source: str = "none"              # "runs" (contracts' fiscal KPIs) or "none"
    oat: pd.DataFrame | None = None
    morris: pd.DataFrame | None = None
    sobol: pd.DataFrame | None = None
    compare: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    kpis: KpiRegistry = field(default_factory=common_kpis)  # the KPIs' declarations
    budgets: pd.DataFrame | None = None      # budgets per year (budgets.budgets_per_year), or None
    files: list[Path] | None = None          # the files the scenario read (answers.scenario_files)
    budget_items: pd.DataFrame | None = None  # by party, year and item, nominal (budgets.budget_detail)
    budget_items_npv: pd.DataFrame | None = None  # the same discounted (net over all years = NPV)
    point: int = 0                           # the design point shown
    points: int = 1                          # the design points in the results directory
    parameters: list[str] = field(default_factory=list)  # the swept scenario keys (manifest)
    point_values: dict = field(default_factory=dict)     # their values at the point shown
    sweep: pd.DataFrame | None = None        # every point's replications (report_sweep.sweep_runs)


def _read_cashflows(out: Path, point: int) -> pd.DataFrame:
    path = out / "cashflows"
    if not path.exists():
        return pd.DataFrame(columns=["replication", "party", "month", "item", "amount"])
    cols = ["point", "replication", "party", "month", "item", "amount"]
    try:  # read only this design point's partition
        cash = pd.read_parquet(path, columns=cols, filters=[("point", "=", point)])
    except (ValueError, TypeError, KeyError, OSError):
        cash = pd.read_parquet(path, columns=cols)
    cash["point"] = cash["point"].astype(int)
    return cash[cash["point"] == point]


def gather(out: str | Path, point: int = 0, ts_runs: int = 200) -> ReportData:
    """Read a results directory and re-simulate up to ``ts_runs`` replications for time series."""
    from effekt.experiments import report_sweep

    out = Path(out)
    every = load_runs(out)
    runs = every[every["point"] == point].reset_index(drop=True)
    if runs.empty:
        raise SpecError(str(out), [said(f"runs: no replications for design point {point}",
                                        f"runs: ingen replikasjoner for designpunkt {point}")])
    data = ReportData(runs=runs, cashflows=_read_cashflows(out, point), scenario=None,
                      kpis=load_kpis(out), files=answers.scenario_files(out))
    data.point, data.points = point, int(every["point"].nunique())
    data.parameters = [p for p in sweep_parameters(out) if p in every]
    if data.points > 1 and data.parameters:  # a sweep: which point this is, and a view across them
        data.point_values = report_sweep.point_values(every, data.parameters, point)
        data.sweep = report_sweep.sweep_runs(every, data.parameters, data.kpis,
                                             seed=report_sweep.root_seed(out))
    try:
        data.scenario = scenario_from_results(out, point)
    except SpecError as err:
        data.notes.append(f"scenario could not be rebuilt ({err.problems[0] if err.problems else err})")
    sc = data.scenario
    if sc is not None:
        reps = set(sorted(runs["replication"].astype(int))[:ts_runs])
        iw, ow, rc = [], [], []
        try:
            for r, t in simulate_replications(sc, max(reps) + 1):
                if r not in reps:
                    continue
                persons, spells = t.persons.to_pandas(), t.spells.to_pandas()
                iw.append(in_work_by_month(persons, spells, sc.world.horizon_weeks)
                          .assign(replication=r))
                ow.append(in_work_by_month(persons, spells, sc.world.horizon_weeks, ordinary_only=True)
                          .assign(replication=r))
                rc.append(stage_reach(t.events).rename("people").reset_index().assign(replication=r))
        except (ValueError, KeyError, TypeError) as err:  # a model that cannot run this scenario
            data.notes.append(f"no_ts:{err}")
            sc = None
    if sc is not None:
        data.in_work = pd.concat(iw, ignore_index=True)
        ordinary = pd.concat(ow, ignore_index=True)
        if not np.allclose(ordinary["share"], data.in_work["share"], atol=1e-12, equal_nan=True):
            data.in_ordinary_work = ordinary  # the programme's own jobs make a difference
        data.reach = pd.concat(rc, ignore_index=True)
        if not _same_as_stored(data.in_work, runs):
            data.notes.append("drift")
    if any(k.name in runs for k in data.kpis.select(measure="fiscal_npv")):
        data.fiscal_source = "runs"
    try:  # results made before budgets/ was stored have none
        stored = load_budgets(out, point)
        data.budgets = budgets_per_year(stored, runs, registry=data.kpis)
        data.budget_items = budget_detail(stored, runs, registry=data.kpis)
        data.budget_items_npv = budget_detail(stored, runs, "discounted", registry=data.kpis)
    except FileNotFoundError:
        data.budgets = None
    analysis = out / "analysis"
    if (analysis / "sensitivity_oat.csv").exists():
        data.oat = pd.read_csv(analysis / "sensitivity_oat.csv")
    for name in ("morris", "sobol"):
        if (analysis / f"sensitivity_{name}.csv").exists():
            setattr(data, name, pd.read_csv(analysis / f"sensitivity_{name}.csv"))
    if (analysis / "compare.csv").exists():
        data.compare = pd.read_csv(analysis / "compare.csv")
    return data


def _same_as_stored(in_work: pd.DataFrame, runs: pd.DataFrame) -> bool:
    """Do the re-simulated replications reproduce the stored in-work KPIs at 12 months? If not,
    the model changed since the results were produced (a different effekt version)."""
    col = "in_work_12m_treatment"  # declared by every contract (effekt.contracts.common_kpis)
    if col not in runs:
        return True
    at = in_work[(in_work["month"] == 12) & (in_work["arm"] == "treatment")].set_index("replication")
    stored = runs.set_index("replication")[col].reindex(at.index)
    both = at["share"].notna() & stored.notna()
    return bool(np.allclose(at["share"][both], stored[both], atol=1e-9))


def _fiscal_table(data: ReportData) -> pd.DataFrame | None:
    """Per public party and in total: mean gain before outcome payments, mean outcome payments
    (NPV), and the net NPV with its 90 % band over replications.

    The net comes from the contracts layer's declared ``fiscal_npv`` KPIs, one per public party
    and one for their total (they include the outcome payments); results without them (made by an
    older effekt) get no fiscal figure.
    """
    runs, sc = data.runs, data.scenario
    if data.fiscal_source == "none":
        return None
    rate = sc.info.discount_rate if sc is not None else 0.04
    cash = data.cashflows
    pay = cash[cash["item"] == "outcome_payment"].assign(
        pv=lambda d: -d["amount"] / (1 + rate) ** (d["month"] / 12.0))
    paid = pay.groupby(["replication", "party"])["pv"].sum().unstack(fill_value=0.0)
    r = runs.set_index("replication")
    budgets = [k for k in data.kpis.select(measure="fiscal_npv", party_kind="public") if k.name in r]
    budgets = sorted(budgets, key=lambda k: (k.party is None, k.party or ""))  # the total last
    net = {k.party or "total": r[k.name] for k in budgets if r[k.name].notna().any()}
    rows = {}
    public = [p for p in net if p != "total"]
    for party, x in net.items():
        x = x.dropna()
        if x.empty:
            continue
        parties = public if party == "total" else [party]
        p_paid = sum((paid[q].reindex(x.index, fill_value=0.0) for q in parties if q in paid),
                     pd.Series(0.0, x.index))
        rows[party] = {"gain": float((x + p_paid).mean()), "paid": float(p_paid.mean()),
                       "net": float(x.mean()), "net_low": float(x.quantile(0.05)),
                       "net_high": float(x.quantile(0.95))}
    return pd.DataFrame(rows).T if rows else None


def _offset_line(data: ReportData, lang: str) -> str | None:
    """One line on what displacement and substitution take from the public budgets (NPV, mean):
    the budgets' total before and after, and the shares the scenario states; None when it states
    none (or, without the scenario, when the stored offsets are all zero) or the results have no
    offset KPIs (made by an older effekt)."""
    runs, sc = data.runs, data.scenario
    try:
        offset = data.kpis.at("fiscal_offset_npv", arm="difference").name
        net = data.kpis.at("fiscal_npv", arm="difference").name
    except KeyError:
        return None
    if offset not in runs or net not in runs:
        return None
    d = getattr(sc, "displacement_share", math.nan) if sc is not None else math.nan
    s = getattr(sc, "substitution_share", math.nan) if sc is not None else math.nan
    stated = (d > 0 or s > 0) if sc is not None else bool((runs[offset].fillna(0.0) != 0).any())
    if not stated:
        return None
    lost, after = float(runs[offset].mean()), float(runs[net].mean())
    return TEXT[lang]["offset_line"].format(d=pct(d, lang), s=pct(s, lang), lost=nok(-lost, lang),
                                            gross=nok(after - lost, lang), net=nok(after, lang))


def _primary_title(sc, lang: str) -> str:
    """The contract's primary outcome by its title in ``lang`` (its key when it has none; ``?``
    without a scenario or a primary outcome)."""
    primary = getattr(sc.terms, "primary", "") if sc is not None else ""
    if not primary:
        return "?"
    return titled(sc.terms.outcomes.get(primary), lang, primary)


def _summary_lines(data: ReportData, lang: str) -> tuple[str, list[str], list[str]]:
    t = TEXT[lang]
    runs, sc = data.runs, data.scenario
    n_reps = len(runs)
    what = ""
    if sc is not None:
        what = t["what_text"].format(
            n=sc.world.size, pathway=titled(sc.world.pathway.pathway, lang, sc.world.pathway.name),
            contract=titled(sc.terms.contract, lang, sc.terms.contract.name),
            years=number(sc.world.horizon_weeks / 52.0, lang), reps=n_reps,
            cf=t[f"cf_{sc.world.counterfactual.mode}"])
    key = []
    for kpi in work_share_kpis(data.kpis, runs):  # in ordinary work beside in work where it differs
        tr = kpi.name
        ct = next((k.name for k in data.kpis.select(measure=kpi.measure, arm="control")), "")
        measured = t.get(kpi.measure, kpi.label(lang))
        measured = measured[:1].upper() + measured[1:]
        if tr in runs and runs[tr].notna().any() and (ct not in runs or runs[ct].isna().all()):
            key.append(t["work_line_only"].format(what=measured, t=pct(runs[tr].mean(), lang)))
        elif tr in runs and ct in runs and runs[tr].notna().any():
            d = (runs[tr] - runs[ct]).dropna()
            half = 1.96 * d.std(ddof=1) / math.sqrt(len(d)) if len(d) > 1 else math.nan
            key.append(t["work_line"].format(what=measured, t=pct(runs[tr].mean(), lang),
                                             c=pct(runs[ct].mean(), lang),
                                             d=points(d.mean(), lang), lo=points(d.mean() - half, lang),
                                             hi=points(d.mean() + half, lang)))
    if "outcome_payments" in runs:
        x = runs["outcome_payments"]
        m, p5, p95 = x.mean(), x.quantile(0.05), x.quantile(0.95)
        like = largest(m, p5, p95)
        key.append(t["pay_line"].format(mean=nok(m, lang, like), p5=nok(p5, lang, like),
                                        p95=nok(p95, lang, like)))
    extra_line = answers.per_extra_sentence(runs, _primary_title(sc, lang), lang, replications=True,
                                            typeset=True)
    if extra_line:  # in plain words when the programme adds no outcomes
        key.append(extra_line)
    design_line, design_caveat = _design_lines(data, lang)
    if design_line:
        key.append(design_line)
    key.extend(_investor_lines(data, lang))
    ft = _fiscal_table(data)
    if ft is not None:
        parts = [f"{t.get(p, p)} {nok(ft.loc[p, 'net'], lang)}" for p in ft.index if p != "total"]
        total = ft.loc["total"] if "total" in ft.index else None
        low = total["net_low"] if total is not None else math.nan
        high = total["net_high"] if total is not None else math.nan
        key.append(t["fiscal_line"].format(parts=", ".join(parts), p5=nok(low, lang, largest(low, high)),
                                           p95=nok(high, lang, largest(low, high))))
        offset = _offset_line(data, lang)
        if offset:
            key.append(offset)
    windows = horizon_lines(runs, data.kpis, lang, _windows(sc))
    key.extend(windows[:1])  # the two windows side by side; a warning where their signs differ:
    caveats = [t["mc_caveat"], t["cf_caveat"]]
    if design_caveat:
        caveats.append(design_caveat)
    if sc is not None:  # every file the scenario read, the user's own by path
        caveats[:0] = answers.provenance_lines(
            answers.provenance(data.files) if data.files is not None else None, lang)
    caveats[:0] = windows[1:]  # first among the caveats
    # a contract that pays nothing, or cannot pay for an outcome, is said first of all
    notices = payment_notices(runs, sc.terms if sc is not None else None)
    if sc is not None:
        notices = term_notices(sc.world, sc.terms) + notices
    caveats[:0] = [n.text(lang) for n in notices]
    for n in data.notes:
        if n == "drift":
            caveats.append(t["drift"])
        elif n.startswith("no_ts:"):
            caveats.append(t["no_ts"].format(why=n.removeprefix("no_ts:")))
        else:
            caveats.append(n)
    driver = answers.driver_sentence(runs, data.kpis, lang, typeset=True)
    if driver:  # what drives the result, first of the key numbers
        key.insert(0, driver)
    return what, key, caveats


def _investor_lines(data: ReportData, lang: str) -> list[str]:
    """The investors' money multiple and probability of loss (95 % Wilson CI) first, then the
    IRR where it is defined, with the count, and why it is not elsewhere (from the cashflows when
    the results have them, else from the KPIs)."""
    runs = data.runs
    lines = []
    loss = runs["investor_loss"] if "investor_loss" in runs else None
    ci = wilson(float(loss.sum()), len(loss)) if loss is not None and len(loss) else None
    multiple = answers.multiple_sentence(runs, data.kpis, lang, replications=True, ci=ci, typeset=True)
    if multiple:
        lines.append(multiple + ".")
    if "investor_irr" in runs:
        reasons = (answers.irr_reasons_from_cashflows(runs, data.cashflows)
                   if not data.cashflows.empty else answers.irr_reasons_from_kpis(runs, data.kpis))
        lines.append(answers.irr_sentence(runs["investor_irr"], reasons, lang, replications=True,
                                          typeset=True) + ".")
    return lines


def _windows(sc) -> tuple[float, float] | None:
    """The scenario's two windows in years (the contract period, the long run), None without a
    long run or a scenario."""
    long = getattr(sc, "long_run_weeks", None) if sc is not None else None
    return (sc.world.horizon_weeks / 52.0, long / 52.0) if long is not None else None


def _horizon_section(data: ReportData, lang: str) -> str:
    """The public budgets over the contract period and the long run side by side, one row per
    public party (:func:`effekt.experiments.summary.horizon_table`), a party whose signs differ
    in bold; empty without a long run."""
    table = horizon_table(data.runs, data.kpis)
    if table.empty:
        return ""
    w, esc = HORIZON_TEXT[lang], html.escape
    contract, long = _windows(data.scenario) or (None, None)
    head = "".join(f"<th>{esc(c)}</th>" for c in (
        w["party"], w["contract"].format(years=window_years(contract, lang)),
        w["long_run"].format(years=window_years(long, lang))))
    rows = []
    for party, r in table.iterrows():
        bold = ' style="font-weight:bold"' if r["signs_differ"] else ""
        name = budget_party(PUBLIC_TOTAL if party == "total" else str(party), lang)
        rows.append(f"<tr{bold}><td>{esc(name[:1].upper() + name[1:])}</td>"
                    f"<td>{nok(float(r['contract']), lang)}</td>"
                    f"<td>{nok(float(r['long_run']), lang)}</td></tr>")
    return (f"<h2>{esc(w['title'])}</h2><table><tr>{head}</tr>{''.join(rows)}</table>"
            f"<p class=\"note\">{esc(w['note'])}</p>")


def _design_lines(data: ReportData, lang: str) -> tuple[str | None, str | None]:
    """What the contract paid for beside the true additional effect, and the bias of its
    evaluation design (:class:`effekt.contracts.EvaluationDesign`): a key line (None for results
    without these KPIs, made by an older effekt) and a caveat (None without the scenario)."""
    t, runs, sc = TEXT[lang], data.runs, data.scenario
    design = getattr(sc, "evaluation", None)
    caveat = None
    if design is not None:
        caveat = t[f"bias_{design.design}"].format(source=design.source or "?")

    def col(measure: str, arm: str | None = None) -> str | None:
        found = [k.name for k in data.kpis.select(measure=measure, arm=arm) if k.name in runs]
        return found[0] if found else None

    paid, measured = col("paid_outcomes"), col("measured_additional_outcomes", "difference")
    true, share = col("additional_outcomes", "difference"), col("paid_not_additional_share")
    if paid is None or measured is None:
        return None, caveat
    def num(x: float) -> str:
        return number(x, lang).replace("-", "\u2212") if np.isfinite(x) else "?"

    line = t["design_line"].format(
        design=design.label(lang) if design is not None else "?", what=_primary_title(sc, lang),
        paid=num(runs[paid].mean()), measured=num(runs[measured].mean()))
    x = runs[true].dropna() if true is not None else pd.Series(dtype=float)
    if len(x):
        half = 1.96 * x.std(ddof=1) / math.sqrt(len(x)) if len(x) > 1 else math.nan
        line += " " + t["true_line"].format(true=num(x.mean()), lo=num(x.mean() - half),
                                            hi=num(x.mean() + half))
        y = runs[share].dropna() if share is not None else pd.Series(dtype=float)
        if len(y):
            line += " " + t["not_additional_line"].format(share=pct(y.mean(), lang))
    else:
        line += " " + t["true_none"]
    return line, caveat


def figures(data: ReportData, lang: str) -> list[tuple[str, str, str]]:
    """(caption, data URI, note) for each figure the data allow (axes in the scenario's currency)."""
    t = in_currency_words(TEXT[lang], data.kpis.currency, lang)
    out: list[tuple[str, str, str]] = []
    sc, runs = data.scenario, data.runs
    if data.reach is not None and sc is not None:
        depth = sc.world.pathway.stage_order(exits=False)  # stage -> steps from the entry
        reps = data.reach["replication"].nunique()
        mean = (data.reach.groupby("stage")["people"].sum() / reps).reindex(list(depth), fill_value=0.0)
        # in pathway order; stages as many steps from the entry: the more common first
        order = sorted(depth, key=lambda s: (depth[s], -mean[s]))
        mean = mean.reindex(order)
        titles = [titled(sc.world.pathway.stages[s], lang, s) for s in order]
        series = pd.Series(mean.to_numpy(), index=titles)
        series = pd.concat([pd.Series({t["people"]: float(sc.world.size)}), series])
        for kpi in work_share_kpis(data.kpis, runs):
            col = kpi.name
            if col in runs and runs[col].notna().any():
                part = runs["participants"].mean() if "participants" in runs else sc.world.size
                series[t.get(kpi.measure, kpi.label(lang))] = float(runs[col].mean() * part)
        every = (data.reach.groupby("stage")["people"].sum() / reps).reindex(
            list(sc.world.pathway.stage_order()), fill_value=0.0)  # the ends too, for the note
        stages = "; ".join(f"{titled(sc.world.pathway.stages[s], lang, s)} {number(v, lang)}"
                           for s, v in every.items())
        out.append((t["funnel"], fig.funnel(series, t, lang), t["funnel_note"].format(stages=stages)))
    if data.in_work is not None:
        ordinary = band(data.in_ordinary_work) if data.in_ordinary_work is not None else None
        out.append((t["in_work"], fig.in_work(band(data.in_work), t, ordinary, lang),
                    t["ordinary_note"] if ordinary is not None else ""))
    cash = data.cashflows
    if not cash.empty:
        # what the commissioners pay out (also right with investor tranches as parties)
        pay = cash[(cash["item"] == "outcome_payment") & (cash["amount"] < 0)].assign(
            amount=lambda d: -d["amount"])
        if not pay.empty:
            reps = runs["replication"].unique()
            months = np.arange(int(cash["month"].max()) + 1)
            grid = (pay.pivot_table(index="replication", columns="month", values="amount",
                                    aggfunc="sum").reindex(index=reps, columns=months).fillna(0.0))
            cum = grid.cumsum(axis=1)
            by_month = pd.DataFrame({"month": months, "mean": grid.mean().to_numpy(),
                                     "cum_mean": cum.mean().to_numpy(),
                                     "cum_low": cum.quantile(0.05).to_numpy(),
                                     "cum_high": cum.quantile(0.95).to_numpy()})
            out.append((t["payments"], fig.payments(by_month, t, lang, data.kpis.currency), ""))
    if "investor_irr" in runs:
        irr = runs["investor_irr"].to_numpy(float)
        loss = runs["investor_loss"] if "investor_loss" in runs else pd.Series((irr < 0).astype(float))
        lo, hi = wilson(float(loss.sum()), len(loss))
        txt = f"{pct(loss.mean(), lang)} (95 % {t['ci']} {pct(lo, lang)}\u2013{pct(hi, lang)})"
        out.append((t["irr"], fig.irr_histogram(irr, int(np.isnan(irr).sum()), float(loss.mean()),
                                                 t, txt, lang), ""))
    if not cash.empty:
        reps = runs["replication"].nunique()
        months = np.arange(int(cash["month"].max()) + 1)
        by = (cash.groupby(["month", "party"])["amount"].sum().unstack(fill_value=0.0)
              .reindex(months, fill_value=0.0) / reps)
        out.append((t["cash"], fig.cash_by_party(by.cumsum(), t, lang, data.kpis.currency), ""))
    ft = _fiscal_table(data)
    if ft is not None and len(ft):
        out.append((t["fiscal"], fig.fiscal(ft.fillna(0.0), t, lang, data.kpis.currency), ""))
    if data.oat is not None and len(data.oat):
        output = _output_words(data, str(data.oat["output"].iloc[0]), lang) if "output" in data.oat else ""
        out.append((t["tornado"], fig.tornado(data.oat, t, output, lang), ""))
    for name, draw in (("morris", fig.morris_bars), ("sobol", fig.sobol_bars)):
        table = getattr(data, name)
        if table is not None and len(table):
            output = _output_words(data, str(table["output"].iloc[0]), lang) if "output" in table else ""
            out.append((t[name].format(out=output), draw(table, t, lang), ""))
    if data.compare is not None and len(data.compare):
        kpis = ["in_work_24m_treatment", "outcome_payments", "investor_irr", "investor_npv"]
        labels = {k: data.kpis.label(k, lang) for k in kpis}
        kinds = {k: data.kpis[k].kind if k in data.kpis else None for k in kpis}
        out.append((t["compare"], fig.compare(data.compare, kpis, t, labels, lang, kinds), ""))
    return out


def _output_words(data: ReportData, kpi: str, lang: str) -> str:
    """A sensitivity analysis's output KPI as a reader knows it: its declared label in quotes
    («Investorene: nåverdi ...»), not its code name; the name itself where none is declared."""
    label = data.kpis.label(kpi, lang)
    if label == kpi:
        return kpi
    if lang == "nb" and data.kpis.currency == "NOK":
        label = label.replace("(NOK)", "(kr)")
    return f"«{label}»"


def render_html(data: ReportData, lang: str = "nb", source: str = "") -> str:
    """The report as one HTML document."""
    t = TEXT[lang]
    esc = html.escape
    what, key, caveats = _summary_lines(data, lang)
    title = t["title"]
    if data.scenario is not None and data.scenario.info.title:
        own = getattr(data.scenario.info, "title_nb", "") if lang == "nb" else ""
        title = f"{t['title']}: {own or data.scenario.info.title}"
    parts = [
        "<!DOCTYPE html>", f'<html lang="{lang}">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if data.point_values:  # one point of a sweep: which, and how to see another
        from effekt.experiments import report_sweep

        sentence = report_sweep.point_sentence(data.point_values, data.point, data.points, lang)
        other = report_sweep.WORDS[lang]["other"].format(out=source or "DIR", last=data.points - 1)
        parts.append(f'<p class="lead">{esc(sentence)}</p><p class="note">{esc(other)}</p>')
    parts.append(f"<h2>{esc(t['summary'])}</h2>")
    if what:
        parts.append(f'<p class="lead"><b>{esc(t["what"])}:</b> {esc(what)}</p>')
    parts.append(f"<h3>{esc(t['key'])}</h3><ul class=\"key\">")
    parts.extend(f"<li>{esc(k)}</li>" for k in key)
    parts.append(f"</ul><div class=\"caveat\"><h3>{esc(t['caveats'])}</h3><ul>")
    parts.extend(f"<li>{esc(c)}</li>" for c in caveats)
    parts.append(f"</ul></div><h2>{esc(t['figures'])}</h2>")
    for caption, uri, note in figures(data, lang):
        parts.append(f'<figure><figcaption>{esc(caption)}</figcaption><img src="{uri}" '
                     f'alt="{esc(caption)}">')
        if note:
            parts.append(f'<p class="note">{esc(note)}</p>')
        parts.append("</figure>")
    windows = _horizon_section(data, lang)
    if windows:
        parts.append(windows)
    if data.budgets is not None and len(data.budgets):
        parts.append(_budgets_table(data.budgets, lang))
    if data.budget_items is not None and len(data.budget_items):  # by party, year and item
        parts.append(budget_section(data.budget_items, data.budget_items_npv, lang))
    if data.compare is not None and len(data.compare):
        parts.append(_compare_table(data.compare, lang, data.kpis))
    parts.append(report_tracks.track_section(data, lang))  # each track's share (several tracks at once)
    if data.sweep is not None:
        parts.append(_sweep_section(data, lang))
    parts.append(f'<p class="note">{esc(t["generated"].format(version=version("effekt"), dir=source))}'
                 "</p></body></html>")
    return in_currency_text("\n".join(parts), data.kpis.currency, lang)  # amounts in the scenario's money


def _sweep_section(data: ReportData, lang: str) -> str:
    """The section across a sweep's design points (:mod:`effekt.experiments.report_sweep`), with
    the grid figure when two swept parameters take a few values each."""
    from effekt.experiments import report_sweep

    sw, uri = data.sweep, None
    axes = report_sweep.grid_parameters(sw, data.parameters)
    if len(axes) >= 2:
        a, b = axes[:2]
        loss, npv, _ = report_sweep.grid(sw, a, b)
        w = report_sweep.WORDS[lang]
        uri = fig.sweep_grid(loss, npv, parameter_label(a, lang, code=""), parameter_label(b, lang, code=""),
                             (w["loss"], w["npv"]), lang, data.kpis.currency)
    return report_sweep.sweep_section(sw, data.parameters, lang, data.kpis.currency, uri)


def render_compare_html(table: pd.DataFrame, lang: str = "nb", source: str = "",
                        kpis: KpiRegistry | None = None) -> str:
    """A standalone page for ``effekt compare --html``: the comparison plot and table, labelled by
    ``kpis`` (the compared contracts' declared KPIs; default those every contract has)."""
    esc = html.escape
    attached = table.attrs.get("kpis")
    reg = kpis if kpis is not None else attached if isinstance(attached, KpiRegistry) else common_kpis()
    t = in_currency_words(TEXT[lang], reg.currency, lang)
    shown = ["in_work_24m_treatment", "outcome_payments", "investor_irr", "investor_npv",
             "fiscal_npv_total"]
    uri = fig.compare(table, shown, t, {k: reg.label(k, lang) for k in shown}, lang,
                      {k: reg[k].kind if k in reg else None for k in shown})
    page = "\n".join([
        "<!DOCTYPE html>", f'<html lang="{lang}">', "<head>", '<meta charset="utf-8">',
        f"<title>{esc(t['compare'])}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        f"<h1>{esc(t['compare'])}</h1>",
        f'<figure><img src="{uri}" alt="{esc(t["compare"])}"></figure>',
        _compare_table(table, lang, reg),
        f'<p class="note">{esc(t["generated"].format(version=version("effekt"), dir=source))}</p>',
        "</body></html>"])
    return in_currency_text(page, reg.currency, lang)


def _budgets_table(table: pd.DataFrame, lang: str) -> str:
    """The budgets per year (:func:`effekt.experiments.budgets.budgets_per_year`): each party's
    flows by year, the programme minus the control arm, nominal NOK, mean over replications;
    parties down (the public ones, their sum in bold, then the others), years across."""
    flat = budget_labels(table, lang)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in flat.columns)
    rows = []
    for party, r in zip(table.index, flat.itertuples(index=False), strict=True):
        cells = [html.escape(str(r[0]))] + [nok(float(v), lang) for v in r[1:]]
        row = "".join(f"<td>{c}</td>" for c in cells)
        bold = ' style="font-weight:bold"' if party == PUBLIC_TOTAL else ""
        rows.append(f"<tr{bold}>{row}</tr>")
    return (f"<h2>{html.escape(budget_title(table, lang))}</h2><table><tr>{head}</tr>{''.join(rows)}"
            f"</table><p class=\"note\">{html.escape(BUDGET_WORDS[lang]['note'])}</p>")


def _compare_table(table: pd.DataFrame, lang: str, kpis: KpiRegistry) -> str:
    """The comparison's means, KPIs down (by their declared labels), scenarios across; shares,
    probabilities and rates as percentages (by the KPIs' declared kind)."""
    t = TEXT[lang]
    wide = table.pivot_table(index="kpi", columns="scenario", values="mean", sort=False)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in wide.columns)
    rows = []

    def cell(kpi: str, v: float, like: float) -> str:
        if not np.isfinite(v):
            return "\u2013"
        kind = kpis[kpi].kind if kpi in kpis else None
        if kind in ("share", "indicator", "rate"):
            return pct(v, lang, 1)
        if kind == "money" or abs(like) >= 1000:  # one scale per row (its largest mean)
            return money(v, lang, unit=False, unicode_minus=True, like=like)
        return number(v, lang, 2)

    for k, r in wide.iterrows():
        finite = [abs(float(v)) for v in r if np.isfinite(v)]
        like = max(finite) if finite else 0.0
        cells = "".join(f"<td>{cell(str(k), float(v), like)}</td>" for v in r)
        rows.append(f"<tr><td>{html.escape(kpis.label(str(k), lang))}</td>{cells}</tr>")
    return (f"<h3>{html.escape(t['compare'])}</h3><table><tr><th>{t['kpi']} ({t['mean']})</th>"
            f"{head}</tr>{''.join(rows)}</table>")


NO_RUNS = {"nb": "{out}: her er ingen runs/-mappe (er det en resultatmappe fra effekt?)",
           "en": "{out}: no runs/ dataset here (is it an effekt results directory?)"}
"""What ``effekt report`` says of a folder without replications, in bokmål and English."""


def write_report(out_dir: str | Path, html_path: str | Path | None = None, lang: str = "nb",
                 point: int = 0, ts_runs: int = 200) -> Path:
    """Build the report of results directory ``out_dir``; returns the HTML file written."""
    if lang not in TEXT:
        raise SpecError("--lang", [said(f"'{lang}': allowed: {', '.join(TEXT)}",
                                        f"'{lang}': tillatt: {', '.join(TEXT)}")])
    out_dir = Path(out_dir)
    from effekt.experiments.national.results import refuse_national

    refuse_national(out_dir, "report", lang)  # a national run: its totals, not "design point 1 of 357"
    if not (out_dir / "runs").exists():
        raise FileNotFoundError(NO_RUNS[lang].format(out=out_dir))
    path = Path(html_path) if html_path else out_dir / "report.html"
    data = gather(out_dir, point=point, ts_runs=ts_runs)
    path.write_text(render_html(data, lang, str(out_dir)), encoding="utf-8")
    return path
