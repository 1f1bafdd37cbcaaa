"""Budgets per year: every party's flows by arm, year and item, nominal and discounted.

By hand: a year of monthly flows summed and discounted month by month (a geometric series), the
commissioners' contract item split into its items, a person's benefit saved and employer
contributions by year. The identity the table exists for: the NPV KPIs of ``runs`` are the
discounted sums of ``budgets`` (to 1 NOK), on hand-made tables, on every built-in pathway with its
contract, on random small scenarios (hypothesis) and in a stored results directory. The reader:
means over replications by party and year, in bokmål and English, in ``effekt summary`` and the
report.
"""

from __future__ import annotations

import io
import math
import re
import shutil

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from effekt.contracts import (
    BUDGETS,
    Evaluation,
    KpiRegistry,
    Terms,
    Valuation,
    evaluate,
    kpis_for,
    load_terms,
)
from effekt.contracts.budgets import budget_ledger, budgets, by_year
from effekt.contracts.fiscal import FISCAL_ITEMS, FiscalParams
from effekt.contracts.records import person, persons_table, spell, spells_table
from effekt.experiments import PATHWAY_TEMPLATES, load_budgets, load_runs, load_scenario, run_batch
from effekt.experiments.budgets import (
    ALL_YEARS,
    DETAIL_COLUMNS,
    NET_ITEM,
    PUBLIC_TOTAL,
    budget_detail,
    budgets_per_year,
    render_budgets,
    yearly_net,
)
from effekt.experiments.cli import main
from effekt.experiments.report import gather, render_html
from effekt.experiments.report_text import nok
from effekt.experiments.runner import valuation_of
from effekt.sim import replication_seed, simulate
from effekt.specfile import SpecError

RATE = 0.04
V = (1 + RATE) ** (-1 / 12)  # a month's discount factor
YEAR0 = (1 - V**12) / (1 - V)  # sum of V**m for m = 0 .. 11


# ---------------------------------------------------------------------------------------------
# the table from a ledger, by hand


def test_a_year_is_twelve_months_summed_and_discounted_month_by_month():
    ledger = {("treatment", "kommune", "benefits"): np.full(14, -100.0)}
    t = by_year(ledger, RATE, public={"kommune"})
    assert list(t.columns) == BUDGETS.names
    assert t["year"].tolist() == [0, 1]
    assert t["amount_nominal"].tolist() == pytest.approx([-1200.0, -200.0])
    # year 0: 100 x (1 + v + ... + v^11); year 1: months 12 and 13
    assert t["amount_discounted"].tolist() == pytest.approx([-100 * YEAR0, -100 * (V**12 + V**13)])
    assert t["public"].tolist() == [True, True]
    assert str(t["year"].dtype) == "int32"


def test_a_zero_rate_discounts_nothing_and_zero_years_have_no_row():
    ledger = {("control", "state", "income_tax"): np.r_[np.zeros(12), np.full(12, 5.0), np.zeros(12)]}
    t = by_year(ledger, 0.0, public={"state"})
    assert t[["year", "amount_nominal", "amount_discounted"]].values.tolist() == [[1, 60.0, 60.0]]


def test_rows_come_by_arm_treatment_control_difference_then_party_item_year():
    a = np.ones(12)
    ledger = {("difference", "state", "benefits"): a, ("control", "state", "benefits"): a,
              ("treatment", "state", "income_tax"): a, ("treatment", "kommune", "benefits"): a}
    t = by_year(ledger, RATE, public={"state", "kommune"})
    assert list(zip(t["arm"], t["party"], t["item"], strict=True)) == [
        ("treatment", "kommune", "benefits"), ("treatment", "state", "income_tax"),
        ("control", "state", "benefits"), ("difference", "state", "benefits")]


def test_the_contract_item_is_split_into_the_contract_rows_and_the_contract_parties_join():
    pay = np.r_[np.zeros(11), -300.0]  # the kommune pays 300 in month 11
    fiscal = {("treatment", "kommune", "benefits"): np.full(12, -10.0),
              ("treatment", "kommune", "contract"): pay - 1.0,
              ("control", "kommune", "benefits"): np.full(12, -12.0),
              ("difference", "kommune", "benefits"): np.full(12, 2.0),
              ("difference", "kommune", "contract"): pay - 1.0,
              ("treatment", "participants", "earnings"): np.full(12, 50.0)}
    contract = [("kommune", "outcome_payment", pay), ("kommune", "coupon", -np.ones(12) / 12),
                ("investor", "outcome_payment", -pay), ("investor", "funding", np.r_[-100.0, np.zeros(11)]),
                ("provider", "delivery_cost", np.r_[-100.0, np.zeros(11)])]
    ledger, public = budget_ledger(fiscal, contract, ["kommune"])
    assert public == {"kommune"}  # the participants, investor and provider are no public budgets
    assert ("treatment", "kommune", "contract") not in ledger
    for arm in ("treatment", "difference"):
        assert ledger[(arm, "kommune", "outcome_payment")].sum() == -300.0
        assert ledger[(arm, "kommune", "coupon")].sum() == pytest.approx(-1.0)
        assert ledger[(arm, "investor", "outcome_payment")].sum() == 300.0
        assert ledger[(arm, "provider", "delivery_cost")].sum() == -100.0
    assert not any(k[0] == "control" and k[1] in ("investor", "provider") for k in ledger)
    t = budgets(fiscal, contract, ["kommune"], RATE)
    # the split sums to the fiscal ledger's contract item, nominal and discounted
    kommune = t[(t["arm"] == "difference") & (t["party"] == "kommune")]
    assert kommune["amount_nominal"].sum() == pytest.approx(24.0 - 300.0 - 1.0)
    disc = 2.0 * YEAR0 - 300.0 * V**11 - YEAR0 / 12
    assert kommune["amount_discounted"].sum() == pytest.approx(disc)
    assert set(t.loc[~t["public"], "party"]) == {"participants", "investor", "provider"}


def test_without_a_difference_arm_the_contract_parties_are_in_treatment_only():
    fiscal = {("treatment", "state", "benefits"): np.full(12, -1.0),
              ("treatment", "state", "contract"): np.full(12, -2.0)}
    contract = [("state", "outcome_payment", np.full(12, -2.0)),
                ("investor", "outcome_payment", np.full(12, 2.0))]
    t = budgets(fiscal, contract, ["state"], RATE)
    assert set(t["arm"]) == {"treatment"}


def test_the_schema_says_each_columns_unit_and_labels_in_both_languages():
    for f in BUDGETS:
        md = {k.decode(): v.decode() for k, v in f.metadata.items()}
        assert set(md) == {"unit", "label_nb", "label_en"} and md["label_nb"] and md["label_en"]
    assert BUDGETS.field("amount_nominal").metadata[b"unit"] == b"NOK"
    assert BUDGETS.field("amount_discounted").metadata[b"unit"] == b"NOK (NPV)"


# ---------------------------------------------------------------------------------------------
# from evaluate: by hand, and the NPVs as the discounted sums

G = 100_000.0
FLAT = FiscalParams.model_validate({
    "income_tax": {"wage_points": [0, 1e7], "average_rates": [0.2, 0.2], "kommune_shares": [0.25, 0.25]},
    "employer_contributions": {"rate": 0.141},
    "integration_grant": {"per_year": []},
})


def test_a_job_instead_of_aap_by_year_by_hand():
    """One person for two years (104 weeks = 24 months): in work at 300 000 with the programme,
    on 2 G of AAP (the state's) without. The state saves 200 000 of AAP a year and gains 14.1 %
    employer contributions, 42 300 a year; the participant earns 300 000 a year; year 1 is worth
    year 0 discounted by one year."""
    persons = persons_table([person(0), person(0, "control")])
    spells = spells_table([spell(0, "employed", 0, 104, annual_wage=300_000),
                           spell(0, "not_employed", 0, 104, "control")])
    terms = load_terms("kongsberg_outcomes")
    ev = evaluate(terms, persons, spells, 104, Valuation(G=G, fiscal=FLAT, discount_rate=RATE))
    b = ev.budgets.set_index(["arm", "party", "item", "year"])
    for party, item, per_year in (("state", "benefits", 200_000), ("state", "employer_contributions", 42_300),
                                  ("participants", "earnings", 300_000)):
        for year in (0, 1):
            row = b.loc[("difference", party, item, year)]
            assert row["amount_nominal"] == pytest.approx(per_year)
            assert row["amount_discounted"] == pytest.approx(per_year / 12 * YEAR0 * V ** (12 * year))
    assert b.loc[("control", "state", "benefits", 0), "amount_nominal"] == pytest.approx(-200_000)
    assert ("control", "state", "employer_contributions", 0) not in b.index
    assert_npvs_are_discounted_sums(ev, terms)


def assert_npvs_are_discounted_sums(ev: Evaluation, terms: Terms) -> None:
    """Every NPV and net KPI of the public budgets, and every investor's NPV, is the sum of the
    budgets table (to 1 NOK); each public party's flows per arm are the fiscal ledger's, the
    contract parties' per year the cashflows'."""
    reg: KpiRegistry = kpis_for(terms)
    b = ev.budgets
    diff = b[b["arm"] == "difference"]
    fiscal = reg.select(measure="fiscal_npv", party_kind="public") + reg.select(measure="fiscal_net")
    assert fiscal
    for kpi in fiscal:
        value = ev.kpis[kpi.name]
        if diff.empty:  # no controls (the KPIs are undefined), or nobody treated (nothing differs)
            assert math.isnan(value) or abs(value) <= 1.0, kpi.name
            continue
        rows = diff[diff["party"] == kpi.party] if kpi.party else diff[diff["public"]]
        col = "amount_discounted" if kpi.measure == "fiscal_npv" else "amount_nominal"
        assert abs(value - rows[col].sum()) <= 1.0, (kpi.name, value, rows[col].sum())
    if not diff.empty:  # the items, undiscounted: the contract's are its cashflow items
        contract_items = set(ev.cashflows["item"])
        for item in FISCAL_ITEMS:
            mine = diff["item"].isin(contract_items) if item == "contract" else diff["item"] == item
            value = diff.loc[diff["public"] & mine, "amount_nominal"].sum()
            assert abs(ev.kpis[f"fiscal_{item}"] - value) <= 1.0, item
    for kpi in reg.select(measure="npv"):
        rows = b[(b["arm"] == "treatment") & (b["party"] == kpi.party)]
        assert abs(ev.kpis[kpi.name] - rows["amount_discounted"].sum()) <= 1.0, kpi.name
    public = b[b["public"]].groupby(["arm", "party"])["amount_nominal"].sum()
    ledger = ev.fiscal[ev.fiscal["party"].isin(set(b.loc[b["public"], "party"]))]
    np.testing.assert_allclose(public.to_numpy(), ledger.groupby(["arm", "party"])["amount"].sum()
                               .reindex(public.index).to_numpy(), atol=1e-6)
    cash = ev.cashflows.assign(year=ev.cashflows["month"] // 12).groupby(["party", "year"])["amount"].sum()
    own = b[(b["arm"] == "treatment") & b["party"].isin(set(ev.cashflows["party"]))]
    own = own[~own["public"] | ~own["item"].isin(set(ev.fiscal["item"]))]
    got = own.groupby(["party", "year"])["amount_nominal"].sum()
    both = cash.index.union(got.index)
    np.testing.assert_allclose(got.reindex(both, fill_value=0.0).to_numpy(),
                               cash.reindex(both, fill_value=0.0).to_numpy(), atol=1e-6)


def _evaluate(sc, replication: int = 0) -> Evaluation:
    t = simulate(sc.world, replication_seed(sc.design.seed, replication))
    return evaluate(sc.terms, t.persons, t.spells, sc.world.horizon_weeks, valuation_of(sc),
                    events=t.events, design=sc.evaluation)


def _scenario(pathway: str, contract: str, extra: list[str] = ()):
    weeks = math.ceil(load_terms(contract).contract.term_months * 52 / 12) + 1
    return load_scenario(None, [f"pathway.template={pathway}", f"contract.template={contract}",
                                f"world.horizon_weeks={max(weeks, 156)}", *extra])


@pytest.mark.parametrize("pathway", sorted(PATHWAY_TEMPLATES))
def test_npvs_are_the_discounted_sums_of_the_budgets_on_every_built_in_pathway(pathway):
    sc = _scenario(pathway, PATHWAY_TEMPLATES[pathway])
    ev = _evaluate(sc)
    assert {"treatment", "control", "difference"} <= set(ev.budgets["arm"])
    assert "outcome_payment" in set(ev.budgets["item"]) or ev.kpis["outcome_payments"] == 0
    assert_npvs_are_discounted_sums(ev, sc.terms)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=st.sampled_from(sorted(PATHWAY_TEMPLATES.items())), size=st.integers(1, 8),
       mode=st.sampled_from(["parallel", "rct", "none"]), rate=st.floats(0.0, 0.1),
       displacement=st.floats(0.0, 0.5), substitution=st.floats(0.0, 0.5),
       extra_weeks=st.integers(0, 80), replication=st.integers(0, 10_000))
def test_npvs_are_the_discounted_sums_of_the_budgets_on_random_small_scenarios(
        pair, size, mode, rate, displacement, substitution, extra_weeks, replication):
    pathway, contract = pair
    weeks = math.ceil(load_terms(contract).contract.term_months * 52 / 12) + 1 + extra_weeks
    try:
        sc = load_scenario(None, [
            f"pathway.template={pathway}", f"contract.template={contract}", f"world.horizon_weeks={weeks}",
            f"world.cohorts[0].size={size}", f"world.counterfactual.mode={mode}",
            f"scenario.discount_rate={rate}", f"world.labour_market.displacement_share={displacement}",
            f"world.labour_market.substitution_share={substitution}"])
    except SpecError:  # e.g. a contract that compares with a control arm the mode does not have
        assume(False)
    assert_npvs_are_discounted_sums(_evaluate(sc, replication), sc.terms)


# ---------------------------------------------------------------------------------------------
# the stored table and its reader

SCENARIO = ["design.replications=5", "world.cohorts[0].size=6"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("budgets") / "out"
    run_batch(load_scenario(None, SCENARIO), out, chunk=2, progress=False)
    return out


def test_every_task_writes_a_budgets_file_with_the_declared_schema(results):
    files = sorted((results / "budgets" / "point=0").glob("*.parquet"))
    assert [f.stem for f in files] == sorted(f.stem for f in (results / "runs" / "point=0").glob("*.parquet"))
    schema = pq.read_schema(files[0])
    assert schema.names == ["replication", *BUDGETS.names]
    for f in BUDGETS:
        assert schema.field(f.name).type == f.type and schema.field(f.name).metadata == f.metadata


def test_stored_npvs_equal_the_stored_discounted_sums_to_one_krone(results):
    runs, b = load_runs(results), load_budgets(results)
    assert sorted(b["replication"].unique()) == list(range(5))
    reg = runs.attrs["kpis"]
    diff = b[b["arm"] == "difference"]
    for kpi in reg.select(measure="fiscal_npv", party_kind="public"):
        rows = diff[diff["party"] == kpi.party] if kpi.party else diff[diff["public"]]
        sums = rows.groupby("replication")["amount_discounted"].sum().reindex(runs["replication"])
        assert np.abs(sums.to_numpy() - runs[kpi.name].to_numpy()).max() <= 1.0, kpi.name
    inv = b[(b["arm"] == "treatment") & (b["party"] == "investor")]
    sums = inv.groupby("replication")["amount_discounted"].sum().reindex(runs["replication"])
    assert np.abs(sums.to_numpy() - runs["investor_npv"].to_numpy()).max() <= 1.0
    assert b.attrs["columns"]["amount_nominal"]["unit"] == "NOK"


def _hand_budgets() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three replications of one point. Replication 2 has no controls (its difference is
    undefined, not 0); replication 1 has no kommune row in year 1 (0 there)."""
    rows = [  # replication, arm, party, public, year, item, nominal
        (0, "difference", "kommune", True, 0, "benefits", 100.0),
        (0, "difference", "kommune", True, 1, "benefits", 300.0),
        (0, "difference", "kommune", True, 1, "outcome_payment", -50.0),
        (0, "difference", "state", True, 0, "income_tax", 40.0),
        (0, "difference", "investor", False, 1, "outcome_payment", 50.0),
        (1, "difference", "kommune", True, 0, "benefits", 200.0),
        (1, "difference", "state", True, 1, "income_tax", 20.0),
        (1, "treatment", "state", True, 0, "benefits", -999.0),
        (2, "treatment", "kommune", True, 0, "benefits", -1.0),
    ]
    columns = ["replication", "arm", "party", "public", "year", "item", "amount_nominal"]
    b = pd.DataFrame(rows, columns=columns)
    b = b.assign(point=0, amount_discounted=b["amount_nominal"] / 2)
    runs = pd.DataFrame({"point": 0, "replication": [0, 1, 2], "controls": [5.0, 5.0, 0.0]})
    return b, runs


def test_budgets_per_year_by_hand():
    b, runs = _hand_budgets()
    t = budgets_per_year(b, runs)
    assert t.attrs["replications"] == {0: 2}
    assert list(t.index) == ["kommune", "state", PUBLIC_TOTAL, "investor"]
    assert list(t.columns) == [0, 1, "total"]
    # kommune: year 0 (100 + 200) / 2; year 1 (300 - 50 + 0) / 2
    assert t.loc["kommune"].tolist() == [150.0, 125.0, 275.0]
    assert t.loc["state"].tolist() == [20.0, 10.0, 30.0]
    assert t.loc[PUBLIC_TOTAL].tolist() == [170.0, 135.0, 305.0]
    assert t.loc["investor"].tolist() == [0.0, 25.0, 25.0]
    disc = budgets_per_year(b, runs, amount="discounted")
    assert disc.loc[PUBLIC_TOTAL, "total"] == 305.0 / 2
    # without runs: over the replications that have the arm (the same two here)
    assert budgets_per_year(b).loc["kommune"].tolist() == [150.0, 125.0, 275.0]
    treat = budgets_per_year(b, runs, arm="treatment")
    assert treat.attrs["replications"] == {0: 3}
    assert treat.loc["state", 0] == pytest.approx(-333.0)
    with pytest.raises(ValueError, match="allowed"):
        budgets_per_year(b, arm="both")


def test_a_sweep_gets_a_block_per_design_point():
    b, runs = _hand_budgets()
    b2 = pd.concat([b, b.assign(point=1, amount_nominal=2 * b["amount_nominal"])])
    r2 = pd.concat([runs, runs.assign(point=1)])
    t = budgets_per_year(b2, r2)
    assert t.loc[(1, "kommune")].tolist() == [300.0, 250.0, 550.0]
    text = render_budgets(t, "text", "en")
    assert "design point 0" in text and "design point 1" in text


def test_the_table_reads_in_bokmal_and_english():
    b, runs = _hand_budgets()
    t = budgets_per_year(b, runs)
    nb, en = render_budgets(t, "text", "nb"), render_budgets(t, "text", "en")
    assert "Budsjetter per år" in nb and "kommunen" in nb and "år 1" in nb and "tiltaket minus" in nb
    assert "offentlige budsjetter i alt" in nb and "investorene" in nb
    assert "Budgets per year" in en and "year 1" in en and "programme minus control" in en
    assert "public budgets in total" in en
    md = render_budgets(t, "markdown", "en")
    assert "| party | year 0 | year 1 | total |" in md
    csv = render_budgets(t, "csv", "en")
    assert csv.splitlines()[0] == "party,year 0,year 1,total"
    assert "kommune,150.00,125.00,275.00" in csv


def test_cli_summary_shows_budgets_per_year_in_both_languages(results):
    r = CliRunner().invoke(main, ["summary", str(results), "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "Budgets per year: programme minus control, nominal NOK" in r.output
    assert "kommune" in r.output and "year 0" in r.output
    r = CliRunner().invoke(main, ["summary", str(results), "--lang", "nb"])
    assert r.exit_code == 0, r.output
    assert "Budsjetter per år" in r.output and "kommunen" in r.output and "staten" in r.output
    r = CliRunner().invoke(main, ["summary", str(results), "--budgets", "--format", "csv", "--lang", "en"])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(pd.io.common.StringIO(r.output))
    assert list(table.columns[:2]) == ["party", "year 0"]
    expected = budgets_per_year(load_budgets(results), load_runs(results))
    assert table.set_index("party").loc["kommune", "total"] == pytest.approx(expected.loc["kommune", "total"],
                                                                          abs=0.01)


def test_results_without_budgets_still_summarise_and_say_why_there_are_none(results, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(results, old)
    shutil.rmtree(old / "budgets")  # as an effekt from before budgets/ left them
    r = CliRunner().invoke(main, ["summary", str(old), "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "fiscal_npv_total" in r.output and "Budgets per year" not in r.output
    r = CliRunner().invoke(main, ["summary", str(old), "--budgets", "--lang", "en"])
    assert r.exit_code == 2 and "no budgets/" in r.output and "--overwrite" in r.output
    assert "Traceback" not in r.output
    assert gather(old, ts_runs=1).budgets is None


def test_the_report_has_the_budgets_per_year(results):
    data = gather(results, ts_runs=2)
    assert data.budgets is not None and "kommune" in data.budgets.index
    nb, en = render_html(data, "nb"), render_html(data, "en")
    assert "Budsjetter per år" in nb and "<th>part</th><th>år 0</th>" in nb and "<td>kommunen</td>" in nb
    assert "Budgets per year" in en and "<th>party</th><th>year 0</th>" in en


# ---------------------------------------------------------------------------------------------
# by party, year and item: with, without, the difference and its range (the report and exports)


def _two_replications() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two replications of one point, the kommune in years 0 and 1, by hand. Replication 1 has
    no benefits row in the control arm's year 1 (0 there)."""
    rows = [  # replication, arm, party, public, year, item, nominal
        (0, "treatment", "kommune", True, 0, "benefits", -100.0),
        (0, "treatment", "kommune", True, 1, "income_tax", 30.0),
        (0, "control", "kommune", True, 0, "benefits", -200.0),
        (0, "control", "kommune", True, 1, "benefits", -50.0),
        (0, "difference", "kommune", True, 0, "benefits", 100.0),
        (0, "difference", "kommune", True, 1, "benefits", 50.0),
        (0, "difference", "kommune", True, 1, "income_tax", 30.0),
        (1, "treatment", "kommune", True, 0, "benefits", -300.0),
        (1, "control", "kommune", True, 0, "benefits", -200.0),
        (1, "difference", "kommune", True, 0, "benefits", -100.0),
        (1, "difference", "investor", False, 1, "outcome_payment", 40.0),
        (1, "treatment", "investor", False, 1, "outcome_payment", 40.0),
    ]
    columns = ["replication", "arm", "party", "public", "year", "item", "amount_nominal"]
    b = pd.DataFrame(rows, columns=columns)
    b = b.assign(point=0, amount_discounted=b["amount_nominal"] / 2)
    runs = pd.DataFrame({"point": 0, "replication": [0, 1], "controls": [5.0, 5.0]})
    return b, runs


def test_budget_detail_by_hand():
    b, runs = _two_replications()
    d = budget_detail(b, runs)
    assert d.attrs["replications"] == {0: 2}
    assert list(d.columns) == DETAIL_COLUMNS
    assert list(dict.fromkeys(d["party"])) == ["kommune", "investor"]  # the public parties first
    k = d[d["party"] == "kommune"].set_index(["year", "item"])
    # year 0 benefits: treatment (-100 - 300) / 2, control (-200 - 200) / 2, difference (100 - 100) / 2
    assert k.loc[(0, "benefits"), ["treatment", "control", "difference"]].tolist() == [-200.0, -200.0, 0.0]
    # the 5th and 95th percentiles of the two differences 100 and -100 (linear): -100 + 0.05 x 200 ...
    assert k.loc[(0, "benefits"), ["low", "high"]].tolist() == pytest.approx([-90.0, 90.0])
    # year 1: benefits only in replication 0's control (-50) and difference (50), 0 in replication 1
    assert k.loc[(1, "benefits"), ["treatment", "control", "difference"]].tolist() == [0.0, -25.0, 25.0]
    # the net of a year sums the items per replication: year 1 differences 80 and 0
    assert k.loc[(1, NET_ITEM), ["difference", "low", "high"]].tolist() == pytest.approx([40.0, 4.0, 76.0])
    # all years: per replication 100 + 80 = 180 and -100 + 0 = -100
    assert k.loc[(ALL_YEARS, NET_ITEM), ["difference", "low", "high"]].tolist() == pytest.approx(
        [40.0, -86.0, 166.0])
    assert k.loc[(ALL_YEARS, NET_ITEM), "treatment"] == pytest.approx((-100 + 30 - 300) / 2)
    # the rows of a party: its years in order, the net last in each, then all years
    assert [y for y, _ in k.index] == [0, 0, 1, 1, 1, ALL_YEARS, ALL_YEARS, ALL_YEARS]
    assert [i for _, i in k.index][:2] == ["benefits", NET_ITEM]
    inv = d[d["party"] == "investor"].set_index(["year", "item"])
    paid = inv.loc[(1, "outcome_payment"), ["treatment", "control", "difference"]]
    assert paid.tolist() == [20.0, 0.0, 20.0]
    disc = budget_detail(b, runs, "discounted")
    net = disc[(disc["party"] == "kommune") & (disc["item"] == NET_ITEM) & (disc["year"] == ALL_YEARS)]
    assert net["difference"].item() == pytest.approx(20.0)
    yearly = yearly_net(d)
    assert yearly[["party", "year", "difference"]].values.tolist() == [["kommune", 0, 0.0],
                                                                         ["kommune", 1, 40.0]]
    with pytest.raises(ValueError, match="allowed"):
        budget_detail(b, runs, "real")


def test_budget_detail_without_controls_has_no_difference():
    b, runs = _two_replications()
    b = b[b["arm"] == "treatment"]
    d = budget_detail(b, runs.assign(controls=0.0))
    assert d["treatment"].notna().all() and d["difference"].isna().all() and d["control"].isna().all()


def test_the_report_has_each_public_partys_budget_by_year_and_item(results):
    data = gather(results, ts_runs=2)
    runs = load_runs(results)
    npv = data.budget_items_npv
    yearly = npv[(npv["item"] == NET_ITEM) & (npv["year"] != ALL_YEARS)]
    reg = runs.attrs["kpis"]
    parties = [k for k in reg.select(measure="fiscal_npv", party_kind="public") if k.party]
    assert {k.party for k in parties} <= set(yearly["party"])
    for kpi in parties:  # the yearly nets, discounted, add up to the party's NPV (the runs table)
        mine = yearly[yearly["party"] == kpi.party]
        assert mine["difference"].sum() == pytest.approx(runs[kpi.name].mean(), abs=1.0), kpi.name
        items = npv[(npv["party"] == kpi.party) & (npv["item"] != NET_ITEM) & (npv["year"] != ALL_YEARS)]
        assert items["difference"].sum() == pytest.approx(runs[kpi.name].mean(), abs=1.0), kpi.name
    nb, en = render_html(data, "nb"), render_html(data, "en")
    assert "Budsjettet til kommunen per år og post" in nb and "Budsjettet til staten per år og post" in nb
    assert "The budget of kommune by year and item" in en and "The budget of state by year and item" in en
    assert "Netto forskjell per år for hver offentlig part" in nb
    assert "Net difference per year for each public party" in en
    for word in ("med tiltaket", "uten tiltaket", "stønader", "inntektsskatt", "netto", "alle år, nåverdi"):
        assert word in nb, word
    # the present value row of the kommune's table shows the mean of fiscal_npv_kommune
    table = nb[nb.index("Budsjettet til kommunen per år og post"):]
    row = table[table.index('class="npv"'):]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row[:row.index("</tr>")])
    assert cells[4] == nok(runs["fiscal_npv_kommune"].mean(), "nb")


def test_the_budgets_csv_reads_back_in_norwegian_excel_and_in_english():
    b, runs = _hand_budgets()
    t = budgets_per_year(b, runs)
    nb = render_budgets(t, "csv", "nb")
    assert nb.startswith("\ufeff") and nb.splitlines()[0] == "\ufeffpart;år 0;år 1;i alt"
    back = pd.read_csv(io.StringIO(nb.removeprefix("\ufeff")), sep=";", decimal=",").set_index("part")
    assert back.loc["kommunen"].tolist() == [150.0, 125.0, 275.0]
    assert back.loc["investorene"].tolist() == [0.0, 25.0, 25.0]
    en = render_budgets(t, "csv", "en")
    assert not en.startswith("\ufeff") and "kommune,150.00,125.00,275.00" in en


def test_the_text_table_rounds_money_as_the_formatting_module_does():
    """Issue 13 leftovers: no krone-exact f"{x:,.0f}" in the text table; amounts read as
    experiments.formatting.money without the unit (the heading names it)."""
    b, runs = _hand_budgets()
    b2 = b.assign(amount_nominal=b["amount_nominal"] * 12_345.678)
    t = budgets_per_year(b2, runs)
    nb, en = render_budgets(t, "text", "nb"), render_budgets(t, "text", "en")
    # kommune: 150 x 12 345.678 = 1 851 851.7 -> 1,9 mill.; total 275 x ... = 3 395 061 -> 3,4 mill.
    assert "1,9\u00a0mill." in nb and "3,4\u00a0mill." in nb and "1851852" not in nb.replace("\u00a0", "")
    assert "1.9\u00a0million" in en and "3.4\u00a0million" in en
