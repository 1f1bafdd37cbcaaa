"""Two-level Monte Carlo: outer draws of the priors as design points ([design.parameters] draws,
--draws), inner replications under common random numbers; a point-mass prior reproduces today's
runs exactly; draws do not depend on the executor; the variance decomposition recovers known
components; summaries say what the ranges are; sensitivity samples the priors by default."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from effekt.experiments.analysis import sensitivity as sa
from effekt.experiments.batch import run_batch
from effekt.experiments.cli import main
from effekt.experiments.design import Design, design_points
from effekt.experiments.executors import ProcessExecutor, SerialExecutor
from effekt.experiments.parameter_uncertainty import (
    draw_info,
    note_lines,
    parameter_table,
    variance_components,
)
from effekt.experiments.scenario import load_experiment, load_scenario
from effekt.experiments.summary import load_runs
from effekt.priors import parse_prior
from effekt.specfile import SpecError

P_KEY = "pathway.stages.work_training.exits[1].p"
M_KEY = "pathway.stages.no_job.after.entry_rate_multiplier"
DRAWN = [M_KEY, P_KEY, *(f"world.groups.{g}.employability_sd" for g in "ABCD")]
POINT_MASSES = [f"{P_KEY}={{ point = 0.62 }}", f"{M_KEY}={{ point = 1.4 }}",
                *(f"world.groups.{g}.employability_sd={{ point = 0.5 }}" for g in "ABCDR")]
"""Every built-in prior of the default scenario as a point mass at today's number."""


# -- design points ---------------------------------------------------------------------------


def test_draws_are_design_points_named_by_their_dotted_keys():
    exp = load_experiment(None, ["design.replications=2", "design.parameters.draws=5"], sweep=False)
    assert len(exp.points) == 5 and exp.drawn == DRAWN and exp.draws == 5
    assert exp.parameters == DRAWN  # the runs table's parameter columns
    for point, sc in zip(exp.points, exp.scenarios, strict=True):
        assert sc.world.pathway.stages["work_training"].exits[1].p == point[P_KEY]
        assert sc.world.groups["B"].employability_sd == point["world.groups.B.employability_sd"]
        assert sc.priors == {}  # at a draw every prior is a number
    assert len({p[P_KEY] for p in exp.points}) == 5
    # reproducible: the same seed gives the same draws, another seed others
    assert load_experiment(None, ["design.parameters.draws=5"]).points == exp.points
    assert load_experiment(None, ["design.parameters.draws=5", "design.seed=1"]).points != exp.points


def test_draws_cross_a_sweep_with_the_same_draws_in_every_policy():
    exp = load_experiment(None, ["design.parameters.draws=3",
                                 "design.sweep={ 'contract.prices.job_start' = [30000, 60000] }"])
    assert len(exp.points) == 6
    first, second = exp.points[:3], exp.points[3:]
    assert {p["contract.prices.job_start"] for p in first} == {30000}
    assert [{k: v for k, v in p.items() if k != "contract.prices.job_start"} for p in first] == \
        [{k: v for k, v in p.items() if k != "contract.prices.job_start"} for p in second]


def test_a_sweep_on_a_priors_key_sets_it_and_it_is_not_drawn():
    exp = load_experiment(None, ["design.parameters.draws=2", f"design.sweep={{ '{P_KEY}' = [0.5, 0.7] }}"])
    assert P_KEY not in exp.drawn and [p[P_KEY] for p in exp.points] == [0.5, 0.5, 0.7, 0.7]


def test_a_range_and_a_prior_on_the_same_key_are_refused():
    with pytest.raises(SpecError) as err:
        load_experiment(None, [f"design.uncertainties={{ '{P_KEY}' = {{ low = 0.5, high = 0.7 }} }}",
                               "design.samples=4"])
    assert f"design.uncertainties.'{P_KEY}': the scenario's files also give {P_KEY} a prior (beta(25.1" \
        in str(err.value)
    assert "a number is uncertain in one way" in str(err.value)


def test_draws_without_priors_are_refused():
    plain = [f"{P_KEY}=0.62", f"{M_KEY}=1.4", *(f"world.groups.{g}.employability_sd=0.5" for g in "ABCDR")]
    with pytest.raises(SpecError, match="design.parameters.draws = 3: the scenario declares no priors"):
        load_experiment(None, [*plain, "design.parameters.draws=3"])


def test_the_design_sampler_is_a_latin_hypercube_or_random():
    priors = {"x": parse_prior({"uniform": [0, 1]})}
    lhs = design_points(Design(parameters={"draws": 10}), priors)
    assert sorted(np.floor((np.array([p["x"] for p in lhs]) - 0.001) / 0.998 * 10)) == list(range(10))
    rand = design_points(Design(parameters={"draws": 10, "sampler": "random"}), priors)
    assert rand != lhs
    with pytest.raises(ValueError, match="sampler"):
        Design(parameters={"draws": 10, "sampler": "sobol"})


# -- the runs ---------------------------------------------------------------------------------


def _kpis(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.drop(columns=[c for c in runs.columns if c in DRAWN or "employability_sd" in c
                              or c == "point"]).reset_index(drop=True)


def test_a_point_mass_prior_reproduces_todays_runs_exactly(tmp_path):
    today = run_batch(load_scenario(None, ["design.replications=3"]), tmp_path / "today", progress=False)
    exp = load_experiment(None, ["design.replications=3", "design.parameters.draws=2", *POINT_MASSES],
                          sweep=False)
    assert len(exp.points) == 2 and all(p[P_KEY] == 0.62 for p in exp.points)
    drawn = run_batch(exp, tmp_path / "drawn", progress=False)
    base = _kpis(load_runs(today.out))
    runs = load_runs(drawn.out)
    assert set(runs["point"]) == {0, 1}
    for _, df in runs.groupby("point"):
        pd.testing.assert_frame_equal(_kpis(df), base, check_exact=True)
    for name in ("cashflows", "budgets"):
        a = pd.read_parquet(today.out / name).drop(columns="point").reset_index(drop=True)
        b = pd.read_parquet(drawn.out / name)
        b = b[b["point"].astype(int) == 1].drop(columns="point").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_exact=True, check_categorical=False)


def test_draws_give_the_same_tables_on_every_executor(tmp_path):
    exp = load_experiment(None, ["design.replications=2", "design.parameters.draws=3"], sweep=False)
    serial = run_batch(exp, tmp_path / "serial", executor=SerialExecutor(), chunk=1, progress=False)
    with ProcessExecutor(2) as executor:
        procs = run_batch(exp, tmp_path / "procs", executor=executor, chunk=2, progress=False)
    a, b = load_runs(serial.out), load_runs(procs.out)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert list(a.columns[1:7]) == DRAWN  # after the replication: the draws' values
    assert a.groupby("point")[P_KEY].nunique().eq(1).all()


def test_draws_resume_and_extend(tmp_path):
    runner = CliRunner()
    out = str(tmp_path / "res")
    args = ["batch", str(_default()), "--runs", "2", "--draws", "2", "--out", out, "--workers", "1",
            "--lang", "en"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "2 draws of 6 priors x 2 replications" in first.output
    again = runner.invoke(main, args)
    assert again.exit_code == 0, again.output
    more = runner.invoke(main, [*args[:3], "3", *args[4:]])
    assert more.exit_code == 0, more.output
    runs = load_runs(out)
    assert len(runs) == 6 and sorted(runs.groupby("point")["replication"].max()) == [2, 2]


def _default():
    from effekt.experiments.scenario import default_scenario_path

    return default_scenario_path()


# -- the variance decomposition ---------------------------------------------------------------


def test_the_decomposition_recovers_known_components():
    rng = np.random.default_rng(12)
    d, r = 400, 40
    theta = rng.normal(0, 2.0, d)          # parameters: variance 4
    luck = rng.normal(0, 1.0, (d, r))      # luck: variance 1
    c = variance_components(theta[:, None] + luck)
    se_theta = 4 * np.sqrt(2 / (d - 1))    # the sampling error of a variance of 400 normal draws
    assert c["parameters"] == pytest.approx(4, abs=3 * se_theta)
    assert c["luck"] == pytest.approx(1, abs=0.05)
    assert c["share_parameters"] + c["share_luck"] == pytest.approx(1)
    assert c["total"] == pytest.approx(c["parameters"] + c["luck_shared"] + c["luck_interaction"])


def test_the_decomposition_is_unbiased_under_common_random_numbers():
    # the luck of replication r is the same in every draw (sd 3): the two-way estimator keeps the
    # parameters' variance (4); the one-way one (between - within / R) would lose 9 / R = 2.25
    rng = np.random.default_rng(5)
    d, r = 2000, 4
    y = rng.normal(0, 2.0, d)[:, None] + rng.normal(0, 3.0, r)[None, :] + rng.normal(0, 1.0, (d, r))
    c = variance_components(y)
    assert c["parameters"] == pytest.approx(4, abs=0.5)
    one_way = y.mean(axis=1).var(ddof=1) - y.var(axis=1, ddof=1).mean() / r
    assert one_way < 3  # what the task's estimator would say: biased low by s2_b / R


def test_the_sums_of_squares_add_up_exactly():
    y = np.random.default_rng(0).normal(size=(6, 5)) * np.arange(1, 6)
    c = variance_components(y)
    d, r = y.shape
    total_ss = ((y - y.mean()) ** 2).sum()
    parts = (d - 1) * c["ms_draw"] + (r - 1) * c["ms_rep"] + (d - 1) * (r - 1) * c["ms_res"]
    assert parts == pytest.approx(total_ss)
    assert np.isnan(variance_components(y[:1])["parameters"])


@pytest.fixture(scope="module")
def drawn_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("two_level") / "res"
    exp = load_experiment(None, ["design.replications=4", "design.parameters.draws=4"], sweep=False)
    run_batch(exp, out, progress=False)
    return out


def test_a_small_real_run_decomposes_into_shares_that_sum_to_one(drawn_run):
    runs = load_runs(drawn_run)
    info = draw_info(__import__("json").loads((drawn_run / "manifest.json").read_text()))
    assert info.draws == 4 and info.drawn == DRAWN and len(info.declared) == 6
    table = parameter_table(runs, info.drawn)
    row = table.loc["investor_npv"]
    assert row["n"] == 16 and row["parameters"] + row["luck"] == pytest.approx(1)
    x = runs["investor_npv"].to_numpy()
    assert row["p5"] == pytest.approx(np.percentile(x, 5)) and row["mean"] == pytest.approx(x.mean())
    y = runs.pivot(index="point", columns="replication", values="investor_npv").to_numpy()
    c = variance_components(y)
    assert row["sd"] ** 2 == pytest.approx(c["parameters"] + c["luck_shared"] + c["luck_interaction"])
    assert table.loc["participants", "n"] == 16 and np.isnan(table.loc["participants", "parameters"])


def test_the_summary_reports_predictive_intervals_and_the_decomposition(drawn_run):
    res = CliRunner().invoke(main, ["summary", str(drawn_run), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "Parameter uncertainty: 4 draws of 6 uncertain numbers x 4 replications" in res.output
    assert "parameters" in res.output and "luck" in res.output
    assert "design point 3" not in res.output  # pooled over the draws, not one block each
    nb = CliRunner().invoke(main, ["summary", str(drawn_run), "--lang", "nb"])
    assert "Parameterusikkerhet: 4 trekninger av 6 usikre tall x 4 replikasjoner" in nb.output
    csv = CliRunner().invoke(main, ["summary", str(drawn_run), "--format", "csv", "--lang", "en"])
    assert csv.output.splitlines()[0].startswith("kpi,label,n,mean,ci_low,ci_high,p5,p50,p95,sd,parameters")


def test_without_draws_the_summary_says_the_ranges_are_chance_alone(tmp_path):
    out = tmp_path / "res"
    run_batch(load_scenario(None, ["design.replications=2"]), out, progress=False)
    en = CliRunner().invoke(main, ["summary", str(out), "--lang", "en"]).output
    nb = CliRunner().invoke(main, ["summary", str(out), "--lang", "nb"]).output
    assert ("Every range here is chance alone: 6 uncertain numbers in the scenario's files were held "
            "at their point values; run with --draws N") in en
    assert "Alle spenn her er bare tilfeldighet: 6 usikre tall i scenarioets filer ble holdt fast" in nb
    plain = note_lines(draw_info({"scenario": {"world": {"cohorts": []}}}))
    assert plain == []


def test_run_with_draws_prints_the_share_from_the_parameters(tmp_path):
    res = CliRunner().invoke(main, ["run", "--runs", "2", "--draws", "3", "--out", str(tmp_path / "r"),
                                    "--workers", "1", "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "Parameter uncertainty: 3 draws of 6 uncertain numbers x 2 replications" in res.output
    assert "Share of the variance from the uncertain numbers" in res.output
    ok = CliRunner().invoke(main, ["validate", str(_default()), "--set", "design.parameters.draws=3",
                                     "--lang", "en"])
    assert "6 priors (3 draws)" in ok.output


# -- sensitivity over the priors ---------------------------------------------------------------


def test_sensitivity_samples_the_priors_by_default():
    sc = load_scenario(None)
    params = sa.parse_params([], sc.resolved, sc.source)
    assert sorted([p.key for p in params] + [k for p in params for k, _ in p.followers]) == DRAWN
    assert sum("employability_sd" in p.key for p in params) == 1  # one unknown (shared), varied as one
    p = next(p for p in params if p.key == M_KEY)
    assert (p.low, p.high) == pytest.approx((1.4 * np.exp(-1.644854 * 0.2), 1.4 * np.exp(1.644854 * 0.2)),
                                            rel=1e-6)  # the tornado's 5 % and 95 % quantiles
    assert p.at_unit(np.array([0.5]))[0] == pytest.approx(1.4)  # the sampler's axis is the CDF's
    # explicit boxes keep working
    box = sa.parse_params([f"{P_KEY}=0.5:0.7"], sc.resolved, sc.source)
    assert box == [sa.Param(P_KEY, 0.5, 0.7)]
    assert sa.parse_params([P_KEY], sc.resolved, sc.source)[0].low == pytest.approx(0.8 * 0.62)


def test_morris_over_priors_evaluates_the_model_at_their_quantiles():
    prior = parse_prior({"lognormal": [1.0, 0.5]})
    params = [sa.Param.of_prior("x", prior), sa.Param("y", 0.0, 2.0)]
    seen = []

    def model(values):
        seen.append(dict(values))
        return values["x"] + values["y"]

    sa.morris(model, params, trajectories=4, seed=1)
    xs = np.array([v["x"] for v in seen])
    assert xs.min() >= prior.quantile(0.001) and xs.max() <= prior.quantile(0.999)
    assert {round(float(prior.cdf(x)), 3) for x in xs} <= {0.001, 0.334, 0.666, 0.999}  # Morris' levels
    assert max(v["y"] for v in seen) <= 2.0


def test_the_tornado_over_priors_runs_the_scenario(tmp_path):
    model = sa.ScenarioModel(None, "in_work_24m_treatment", replications=2)
    params = [p for p in sa.parse_params([], model.resolved) if p.key == M_KEY]
    base = {p.key: model.base_value(p.key) for p in params}
    assert base == {M_KEY: 1.4}
    table = sa.one_at_a_time(model, params, base, "in_work_24m_treatment")
    assert table.loc[0, "low"] == pytest.approx(params[0].low)
    assert table.loc[0, "y_high"] >= table.loc[0, "y_low"]


def test_the_samples_of_design_uncertainties_are_uncertain_in_the_summary_as_in_decide(tmp_path):
    # review 12: the summary took each sampled value of a [design.uncertainties] range for a policy
    # of its own, while effekt decide took the same column as an uncertain parameter
    import json

    from effekt.experiments.analysis.decision import load_decision
    from effekt.experiments.parameter_uncertainty import policy_runs

    key = "world.counterfactual.entry_rate_multiplier"
    exp = load_experiment(None, [f'design.uncertainties={{"{key}" = {{ low = 0.8, high = 1.2 }}}}',
                                 "design.samples=3", "design.replications=2",
                                 'design.levers={"contract.prices.job_start" = [30000, 45000]}'])
    out = tmp_path / "out"
    run_batch(exp, out, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    info = draw_info(manifest)
    assert info.drawn == [key] and info.draws == 3  # 3 samples for each of the 2 prices
    groups = policy_runs(load_runs(out), manifest["parameters"], info.drawn)
    assert len(groups) == 2 and all(len(df) == 3 * 2 for _, df in groups)
    res = load_decision(out)
    assert res.uncertain == [key] and res.policy == ["contract.prices.job_start"]
