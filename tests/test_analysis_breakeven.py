"""Break-even on a case with a closed-form answer, and the commissioner's break-even."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from effekt.experiments.analysis.breakeven import breakeven, find_breakeven, render
from effekt.experiments.analysis.common import replicate, scenario_with
from effekt.experiments.cli import main
from effekt.experiments.executors import ProcessExecutor

PATHWAY = """
[pathway]
name = "deterministic"
title = "Deterministic test pathway"
source = "test: every duration fixed, no exits"
entry = "course"

[capacity.placements]
title = "Places"
slots = 100

[stages.course]
kind = "course"
title = "Course"
duration = { dist = "fixed", value = 4 }
next = "work_training"

[stages.work_training]
kind = "placement"
title = "Work training"
capacity = "placements"
duration = { dist = "fixed", value = 12 }
next = "temporary_job"

[stages.temporary_job]
kind = "employment"
title = "Temporary job"
duration = { dist = "fixed", value = 26 }
employment = { contract = "temporary", fte = 0.8, annual_wage = 420000 }
next = "permanent_job"

[stages.permanent_job]
kind = "employment"
title = "Permanent job"
employment = { contract = "permanent", fte = 0.8, annual_wage = 448000, job_loss_multiplier = 0 }
"""

SCENARIO = """
[scenario]
name = "deterministic"

[world]
horizon_weeks = 156
counterfactual = { mode = "parallel", entry_rate_multiplier = 0 }

[[world.cohorts]]
name = "kull"
start_week = 0
size = 10
groups = { A = 1.0 }

[pathway]
template = "det_pathway.toml"

[contract]
template = "kongsberg_outcomes"
prices = { job_start = 20000, job_sustained = 10000 }
caps = { per_person = 1000000, contract = 100000000 }
provider = { per_cohort = 100000, per_participant = 10000, per_week = 500 }

[design]
replications = 3
seed = 1
"""


@pytest.fixture
def deterministic(tmp_path):
    """Ten people, all through a 4-week course and 12 weeks of work training into a job they
    never lose: every outcome and cost is known by hand."""
    (tmp_path / "det_pathway.toml").write_text(PATHWAY)
    path = tmp_path / "det.toml"
    path.write_text(SCENARIO)
    return path


def test_investor_breakeven_price_matches_hand_calculation(deterministic):
    # Costs: 100 000 per kull + 10 x 10 000 per participant + 500 x 10 people x 16 programme weeks
    # = 280 000. Every one of the 10 gets a job start (20 000) and a sustained job (p) within the
    # term and no cap binds, so the investor gets 10 x (20 000 + p) back. IRR = 0 exactly when
    # money back = money in: p = 280 000 / 10 - 20 000 = 8 000.
    b = breakeven(deterministic, "investor", "contract.prices.job_sustained", replications=3,
                  points=5, low=0, high=20000, bootstrap=100)
    assert b.value == pytest.approx(8000, abs=0.5)
    # nothing is random, so resampling replications cannot move it
    assert b.ci_low == pytest.approx(8000, abs=0.5) and b.ci_high == pytest.approx(8000, abs=0.5)
    # the grid is monotone: more per outcome, higher IRR
    assert np.all(np.diff(b.grid["mean"]) > 0)


def test_investor_breakeven_on_npv_target_and_integer_key(deterministic):
    # NPV break-even on the number of people: 100 000 per kull is fixed; each person brings
    # 30 000 of payments and costs 10 000 + 16 x 500 = 18 000, so undiscounted the investor breaks
    # even at 100 000 / 12 000 = 8.33 people; payments come months after the costs, so discounting
    # moves it up a little, never down. People come whole: the answer is a step in [8.33, 10].
    b = breakeven(deterministic, "investor", "world.cohorts[0].size", metric="npv",
                  replications=2, points=5, low=2, high=18, bootstrap=0)
    assert 100000 / 12000 <= b.value <= 10
    at = {n: replicate(scenario_with(deterministic, {"world.cohorts[0].size": n}), 1)
          for n in (int(np.floor(b.value)), int(np.ceil(b.value)))}
    assert at[int(np.floor(b.value))]["investor_npv"].iloc[0] < 0 < at[int(np.ceil(b.value))][
        "investor_npv"].iloc[0]


def test_commissioner_breakeven_balances_payments_and_savings(deterministic):
    # in the deterministic case the control arm never finds work, so the public saves benefits
    # and gains taxes; the break-even price is where the outcome payments eat exactly that
    b = breakeven(deterministic, "commissioner", "contract.prices.job_sustained", replications=4,
                  points=4, low=0, high=3_000_000, bootstrap=50)
    assert np.isfinite(b.value)
    # check by an independent route: run the scenario at the break-even price and read the
    # contracts layer's own net public balance (NPV, after outcome payments)
    runs = replicate(scenario_with(deterministic, {"contract.prices.job_sustained": b.value}), 4)
    assert runs["fiscal_npv_total"].mean() == pytest.approx(0, abs=1.0)
    assert b.ci_low <= b.value <= b.ci_high
    # and a price 10 % lower leaves the public better off
    lower = replicate(scenario_with(deterministic, {"contract.prices.job_sustained": 0.9 * b.value}), 4)
    assert lower["fiscal_npv_total"].mean() > 0


def test_find_breakeven_on_a_linear_function_recovers_root_and_ci():
    # y_r(v) = v - 3 + e_r with e_r fixed per replication (common random numbers): the mean
    # crosses 0 at 3 + mean(e); the bootstrap CI is the CI of -mean(e), about +-1.96 sd/sqrt(n)
    e = np.random.default_rng(4).normal(0, 1, 400)
    res = find_breakeven(lambda v: v - 3 + e, 0, 10, points=5, bootstrap=400,
                         rng=np.random.default_rng(1))
    assert res["value"] == pytest.approx(3 - e.mean(), abs=1e-6)
    half = 1.96 * e.std(ddof=1) / np.sqrt(len(e))
    assert res["ci_high"] - res["ci_low"] == pytest.approx(2 * half, rel=0.2)


def test_cli_breakeven_and_bad_key(deterministic):
    r = CliRunner().invoke(main, ["breakeven", str(deterministic), "--for", "investor", "--vary",
                                  "contract.prices.job_sustained", "--low", "0", "--high", "20000",
                                  "--points", "3", "--runs", "2", "--bootstrap", "10", "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "Break-even for the investor" in r.output and "= 8 000 " in r.output
    r = CliRunner().invoke(main, ["breakeven", str(deterministic), "--for", "investor", "--vary",
                                  "contract.prices.job_sustaind", "--runs", "2"])
    assert r.exit_code == 2
    assert "job_sustaind" in r.output and "job_sustained" in r.output


def test_parallel_grid_gives_the_same_answer(deterministic):
    kw = dict(replications=2, points=3, low=0, high=20000, bootstrap=20)
    a = breakeven(deterministic, "investor", "contract.prices.job_sustained", **kw)
    with ProcessExecutor(2) as executor:
        b = breakeven(deterministic, "investor", "contract.prices.job_sustained", executor=executor, **kw)
    assert a.value == b.value and a.ci_low == b.ci_low
    assert a.grid.equals(b.grid)


def test_find_breakeven_has_no_hidden_fixed_seed():
    # the bootstrap's generator must be handed in (breakeven() derives it from the root seed)
    with pytest.raises(TypeError, match="rng"):
        find_breakeven(lambda v: np.full(3, v - 1.0), 0, 2, points=3, bootstrap=5)


@pytest.fixture
def shared(tmp_path):
    """The deterministic case with the outcome payments shared by the kommune and the state."""
    (tmp_path / "det_pathway.toml").write_text(PATHWAY)
    path = tmp_path / "shared.toml"
    path.write_text(SCENARIO.replace("prices = { job_start = 20000, job_sustained = 10000 }",
                                     "prices = { job_start = 20000, job_sustained = 10000 }\n"
                                     "commissioners = { kommune = 0.5, state = 0.5 }"))
    return path


@pytest.mark.parametrize("party, column", [("kommune", "fiscal_npv_kommune"), ("state", "fiscal_npv_state"),
                                           ("public", "fiscal_npv_total")])
def test_each_public_party_breaks_even_on_its_own_budget(shared, party, column):
    b = breakeven(shared, party, "contract.prices.job_sustained", replications=2, points=3,
                  low=0, high=1_000_000, bootstrap=0)
    assert b.party == party and b.metric == "npv" and b.target == 0
    # by an independent route: at the break-even price that party's own budget KPI is zero ...
    runs = replicate(scenario_with(shared, {"contract.prices.job_sustained": b.value}), 2)
    assert runs[column].mean() == pytest.approx(0, abs=1.0)
    # ... and the metric is named in the output
    assert f"fiscal KPI {column}" in render(b)
    assert "mean fiscal NPV of the" in render(b)


def test_the_kommune_and_the_state_differ_from_the_public_budgets(shared):
    # each pays half of the outcome payments but keeps only its own savings: its break-even
    # price is not the one of all public budgets together (which the old 'commissioner' was)
    kw = dict(replications=2, points=3, low=0, high=1_000_000, bootstrap=0)
    public = breakeven(shared, "commissioner", "contract.prices.job_sustained", **kw)
    kommune = breakeven(shared, "kommune", "contract.prices.job_sustained", **kw)
    assert public.party == "public"
    assert abs(public.value - kommune.value) > 1000


def test_investor_breakeven_on_the_probability_of_loss(deterministic):
    # nothing is random: every replication loses below the break-even price of 8 000 (see the
    # hand calculation above) and none above, so P(loss) crosses 50 % there
    b = breakeven(deterministic, "investor", "contract.prices.job_sustained", metric="loss",
                  replications=2, points=5, low=0, high=20000, bootstrap=0)
    assert b.target == 0.5 and b.value == pytest.approx(8000, abs=1)
    assert list(b.grid["mean"]) == [1, 1, 0, 0, 0]
    assert "the probability that the investor loses money = 50 %" in render(b)
    # the default is the money multiple, at 1
    m = breakeven(deterministic, "investor", "contract.prices.job_sustained", replications=2,
                  points=3, low=0, high=20000, bootstrap=0)
    assert (m.metric, m.target) == ("multiple", 1.0)
    assert "mean money multiple (money back per krone put in) = 1" in render(m)


def test_an_undefined_irr_is_left_out_and_counted_not_taken_as_minus_100():
    from effekt.contracts import common_kpis
    from effekt.experiments.analysis.breakeven import investor_values, irr_left_out

    runs = pd.DataFrame({"investor_irr": [np.nan, np.nan, 0.1, np.nan],
                         "investor_received": [0.0, 50.0, 110.0, 0.0],
                         "investor_invested": [100.0, 100.0, 100.0, 0.0],
                         "investor_multiple": [0.0, 0.5, 1.1, np.nan],
                         "investor_loss": [1.0, 1.0, 0.0, 0.0], "investor_npv": [-100.0, -60.0, 5.0, 0.0]})
    irr = investor_values(runs, "irr", common_kpis())
    assert irr[0] == -1.0 and np.isnan(irr[1]) and irr[2] == 0.1  # money back, no rate: not -100 %
    assert irr_left_out(runs, common_kpis()) == (1, 1)
    assert list(investor_values(runs, "loss", common_kpis())) == [1.0, 1.0, 0.0, 0.0]


def test_cli_names_the_metric_and_suggests_a_party(deterministic):
    r = CliRunner().invoke(main, ["breakeven", str(deterministic), "--for", "kommnue", "--vary",
                                  "contract.prices.job_sustained", "--runs", "2", "--lang", "en"])
    assert r.exit_code == 2
    assert "did you mean 'kommune'" in r.output and "investor, kommune, state, public" in r.output
    r = CliRunner().invoke(main, ["breakeven", str(deterministic), "--for", "kommune", "--metric", "irr",
                                  "--vary", "contract.prices.job_sustained", "--runs", "2", "--lang", "en"])
    assert r.exit_code == 2 and "'irr' for the kommune: allowed: npv" in r.output
    r = CliRunner().invoke(main, ["breakeven", str(deterministic), "--for", "investor", "--metric", "irr",
                                  "--vary", "contract.prices.job_sustained", "--low", "0", "--high",
                                  "20000", "--points", "3", "--runs", "2", "--bootstrap", "0",
                                  "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "where the investor's mean IRR (per year) = 0 %" in r.output
    # at price 0 the investor gets the job starts back but not all it put in: a defined (negative)
    # IRR in this case; a total loss would be said to count as -100 %
    assert "Break-even for the investor" in r.output


def test_cli_breakeven_in_bokmal_without_e_notation(deterministic):
    r = CliRunner().invoke(main, ["breakeven", str(deterministic), "--for", "kommune", "--vary",
                                  "contract.prices.job_sustained", "--low", "0", "--high", "3000000",
                                  "--points", "4", "--runs", "2", "--bootstrap", "0", "--lang", "nb"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Balansepunkt for kommunen: contract.prices.job_sustained = ")
    assert "gjennomsnittlig nåverdi for kommunen mot det kontrafaktiske" in r.output
    assert "kommunen: budsjett-KPI fiscal_npv_kommune" in r.output
    assert "verdi" in r.output and "3 000 000" in r.output
    # the price values and the grid: never 3e+06 (the cap's own message is the contract's)
    assert "= 2e+06" not in r.output and not any("e+0" in line for line in r.output.splitlines()[-5:])


# -- one rule for an undefined IRR (issue 13 leftovers) --------------------------------------------

def _totals(flows: list[list[float]]) -> pd.DataFrame:
    """Investor KPIs of hand-written monthly cashflows: IRR by the contracts layer, money in and
    back summed by hand."""
    from effekt.contracts import UndefinedIRR, irr

    rows = []
    for f in flows:
        a = np.array(f, dtype=float)
        try:
            rate = irr(a)
        except UndefinedIRR:
            rate = np.nan
        rows.append({"investor_irr": rate, "investor_invested": -a[a < 0].sum(),
                     "investor_received": a[a > 0].sum()})
    return pd.DataFrame(rows)


HAND_FLOWS = [[-100.0, 0.0, 121.0],       # 10 % a month: (1.1)^12 - 1 a year
              [-100.0, 0.0, 0.0],         # a total loss
              [-100.0, 230.0, -132.0],    # NPV zero at 10 % and at 20 % a month: no one rate
              [-100.0, 50.0, -10.0],      # money back, but NPV = -100 + 50x - 10x^2 < 0 for every x
              [0.0, 50.0]]                # nothing put in


def test_one_rule_for_an_undefined_irr_in_the_summary_and_in_breakeven():
    from effekt.contracts import NO_SINGLE_RATE, common_kpis, undefined_irr_reasons
    from effekt.experiments import answers
    from effekt.experiments.analysis.breakeven import irr_left_out, irr_reached

    runs = _totals(HAND_FLOWS)
    assert runs["investor_irr"].iloc[0] == pytest.approx(1.1**12 - 1)
    expected = [None, "nothing_back", NO_SINGLE_RATE, NO_SINGLE_RATE, "nothing_invested"]
    assert list(undefined_irr_reasons(runs["investor_irr"], runs["investor_invested"],
                                      runs["investor_received"])) == expected
    assert list(answers.irr_reasons_from_kpis(runs, common_kpis())) == expected
    assert irr_left_out(runs, common_kpis()) == (2, 1)
    # reaching 50 % a year: only the first; the two without a single rate count as not reaching it
    reached = irr_reached(runs, 0.5, common_kpis())
    assert list(reached[:4]) == [1.0, 0.0, 0.0, 0.0] and np.isnan(reached[4])
    # a target of -100 % is reached by the total loss (its IRR is -100 % by convention) too
    assert list(irr_reached(runs, -1.0, common_kpis())[:4]) == [1.0, 1.0, 0.0, 0.0]


def test_breakeven_on_irr_with_undefined_runs_is_on_reaching_the_target(deterministic, monkeypatch):
    """Four replications at price v: IRR v/10000 - 1, v/10000 - 0.5, and two with money back but no
    single rate. Leaving those out, the mean IRR is v/10000 - 0.75: zero at 7 500 (biased upward).
    Counting them as not reaching 0 %, half the replications reach it from v = 10 000 on: the
    break-even is 10 000."""
    from effekt.experiments.analysis import breakeven as be
    from effekt.experiments.analysis.common import number_at

    key = "contract.prices.job_sustained"

    def fake(scenarios, replications, seed=None, executor=None):
        out = []
        for sc in scenarios:
            v = number_at(sc.resolved, key, "--vary", sc.source)
            irr = np.array([v / 10000 - 1, v / 10000 - 0.5, np.nan, np.nan])
            out.append(pd.DataFrame({"replication": range(4), "investor_irr": irr,
                                     "investor_invested": 100.0, "investor_received": 50.0,
                                     "investor_multiple": 0.5, "investor_loss": 1.0,
                                     "investor_npv": -50.0}))
        return out

    monkeypatch.setattr(be, "replicate_many", fake)
    b = be.breakeven(deterministic, "investor", key, metric="irr", replications=4, points=5,
                     low=0, high=20000, bootstrap=0)
    assert b.metric == "irr_reached" and b.value == pytest.approx(10000)
    assert list(b.grid["mean"]) == pytest.approx([0.0, 0.25, 0.5, 0.5, 0.5])
    en, nb = render(b, "en"), render(b, "nb")
    assert "the probability that the investor's IRR reaches 0 % a year" in en and "= 50 %" in en
    assert "not on the mean IRR (leaving them out would bias it upward)" in en
    assert "IRR undefined in 2 of 4 replications that got money back" in en
    assert "counted as not reaching the target" in en
    assert "sannsynligheten for at investorens internrente når 0 % per år" in nb


def test_breakeven_on_irr_without_undefined_runs_stays_on_the_mean(deterministic, monkeypatch):
    from effekt.experiments.analysis import breakeven as be
    from effekt.experiments.analysis.common import number_at

    key = "contract.prices.job_sustained"

    def fake(scenarios, replications, seed=None, executor=None):
        vs = [number_at(sc.resolved, key, "--vary", sc.source) / 10000 for sc in scenarios]
        return [pd.DataFrame({"replication": range(2), "investor_irr": [v - 1, v - 0.5],
                              "investor_invested": 100.0, "investor_received": 50.0,
                              "investor_multiple": 0.5, "investor_loss": 1.0, "investor_npv": -50.0})
                for v in vs]

    monkeypatch.setattr(be, "replicate_many", fake)
    b = be.breakeven(deterministic, "investor", key, metric="irr", replications=2, points=5,
                     low=0, high=20000, bootstrap=0)
    assert b.metric == "irr" and b.value == pytest.approx(7500)  # mean v/10000 - 0.75 = 0


def _irr_runs(key: str, reps: int, undefined, calls: list[float]):
    """A fake ``replicate_many``: at price v, ``reps`` replications with IRR v/10000 - 1 but
    ``undefined(v)`` of them money back and no single rate; every value asked for is kept in
    ``calls``."""
    from effekt.experiments.analysis.common import number_at

    def fake(scenarios, replications, seed=None, executor=None):
        out = []
        for sc in scenarios:
            v = number_at(sc.resolved, key, "--vary", sc.source)
            calls.append(float(v))
            irr = np.full(reps, v / 10000 - 1)
            irr[:undefined(v)] = np.nan
            out.append(pd.DataFrame({"replication": range(reps), "investor_irr": irr,
                                     "investor_invested": 100.0, "investor_received": 50.0,
                                     "investor_multiple": 0.5, "investor_loss": 1.0,
                                     "investor_npv": -50.0}))
        return out
    return fake


def test_one_odd_replication_does_not_change_what_the_irr_breakeven_means(deterministic, monkeypatch):
    """Review 14 item 6: one replication of 40 at one value of 5 (0.5 % of the grid, below the 5 %
    threshold) with money back but no single rate: the break-even stays on the mean IRR (of the
    others: v/10000 - 1 = 0 at 10 000), said once, and each value is simulated once."""
    from effekt.experiments.analysis import breakeven as be

    key, calls = "contract.prices.job_sustained", []
    monkeypatch.setattr(be, "replicate_many", _irr_runs(key, 40, lambda v: 1 if v == 20000 else 0, calls))
    b = be.breakeven(deterministic, "investor", key, metric="irr", replications=40, points=5,
                     low=0, high=20000, bootstrap=0)
    assert b.metric == "irr" and b.value == pytest.approx(10000)
    assert len(calls) == len(set(calls)) and calls[:5] == [0, 5000, 10000, 15000, 20000]
    assert [k for k, _ in b.notes].count("irr_left_out") == 1
    assert ("irr_share_mean", {"share": "0.5 %", "limit": "5 %"}) in b.notes
    en, nb = render(b, "en"), render(b, "nb")
    assert "0.5 % of the grid's replications" in en and "the metric stays the mean IRR" in en
    assert "IRR undefined in 1 of 40 replications that got money back" in en and "left out of the mean" in en
    assert "not on the mean IRR" not in en and "holdt utenfor gjennomsnittet" in nb


def test_above_the_threshold_the_irr_breakeven_is_on_reaching_the_target(deterministic, monkeypatch):
    """One replication in 10 at every value (10 %, above 5 %): P(IRR >= 0) = 0.9 from 10 000 on, 0
    below; the level 50 % is crossed at 10 000. Every value is simulated once, its note said once."""
    from effekt.experiments.analysis import breakeven as be

    key, calls = "contract.prices.job_sustained", []
    monkeypatch.setattr(be, "replicate_many", _irr_runs(key, 10, lambda v: 1, calls))
    b = be.breakeven(deterministic, "investor", key, metric="irr", replications=10, points=5,
                     low=0, high=20000, bootstrap=0)
    assert b.metric == "irr_reached" and b.value == pytest.approx(10000, abs=1)
    assert list(b.grid["mean"]) == pytest.approx([0.0, 0.0, 0.9, 0.9, 0.9])
    assert len(calls) == len(set(calls))
    noted = [values["v"] for key_, values in b.notes if key_ == "irr_undefined"]
    assert sorted(noted) == sorted(calls)
    assert ("irr_share_switch", {"share": "10.0 %", "limit": "5 %"}) in b.notes
    assert "10.0 % of the grid's replications" in render(b, "en")
