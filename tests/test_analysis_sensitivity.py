"""Sensitivity analysis through our pipeline: Sobol indices of the Ishigami function (known in
closed form), Morris effects of a linear function, and a tornado of a real scenario."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from effekt.experiments.analysis.sensitivity import (
    Param,
    ScenarioModel,
    ishigami,
    morris,
    one_at_a_time,
    parse_params,
    sobol,
)
from effekt.experiments.cli import main
from effekt.specfile import SpecError


def test_sobol_indices_of_ishigami_match_closed_form():
    # a = 7, b = 0.1 (Ishigami & Homma 1990; Saltelli et al. 2008, p. 179):
    # V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2; V1 = (1 + b pi^4/5)^2 / 2, V2 = a^2/8, V3 = 0,
    # V13 = b^2 pi^8 (1/18 - 1/50)
    a, b = 7.0, 0.1
    V = a**2 / 8 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 18 + 0.5
    V1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    V2 = a**2 / 8
    V13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    want_s1 = {"x1": V1 / V, "x2": V2 / V, "x3": 0.0}
    want_st = {"x1": (V1 + V13) / V, "x2": V2 / V, "x3": V13 / V}
    params = [Param(k, -math.pi, math.pi) for k in ("x1", "x2", "x3")]
    res = sobol(ishigami, params, n=2048, seed=7).set_index("parameter")
    for k in want_s1:
        assert res.loc[k, "S1"] == pytest.approx(want_s1[k], abs=max(0.05, res.loc[k, "S1_conf"]))
        assert res.loc[k, "ST"] == pytest.approx(want_st[k], abs=max(0.05, res.loc[k, "ST_conf"]))
        assert res.loc[k, "ST_conf"] < 0.1
    assert list(res.index[:2]) == ["x1", "x2"]  # ordered by total effect


def test_morris_elementary_effects_of_a_linear_function_are_its_slopes_times_ranges():
    def f(v):
        return 3 * v["a"] - 2 * v["b"]

    params = [Param("a", 0, 2), Param("b", 1, 2), Param("c", 0, 1)]
    res = morris(f, params, trajectories=8, seed=1).set_index("parameter")
    # elementary effects are per unit of the [0, 1]-scaled range: slope x (high - low)
    assert res.loc["a", "mu_star"] == pytest.approx(6)
    assert res.loc["b", "mu_star"] == pytest.approx(2)
    assert res.loc["b", "mu"] == pytest.approx(-2)
    assert res.loc["c", "mu_star"] == pytest.approx(0)
    assert np.allclose(res["sigma"], 0)


def test_tornado_of_a_scenario_moves_npv_the_right_way():
    model = ScenarioModel(None, "investor_npv", replications=4)
    params = parse_params(["contract.prices.job_sustained=60000:90000",
                           "contract.provider.per_week"], model.resolved)
    assert params[1].low == pytest.approx(0.8 * model.base_value("contract.provider.per_week"))
    base = {p.key: model.base_value(p.key) for p in params}
    t = one_at_a_time(model, params, base, "investor_npv").set_index("parameter")
    # a higher price pays the investor more; a higher weekly cost costs the investor more
    assert t.loc["contract.prices.job_sustained", "y_high"] > t.loc["contract.prices.job_sustained",
                                                                    "y_low"]
    assert t.loc["contract.provider.per_week", "y_high"] < t.loc["contract.provider.per_week", "y_low"]
    # the base case sits between a parameter's low and high outcome when it is in its range
    lo, hi = sorted(t.loc["contract.provider.per_week", ["y_low", "y_high"]])
    assert lo <= t["y_base"].iloc[0] <= hi


def test_parameters_default_to_the_scenarios_design_uncertainties_and_levers():
    resolved = {"design": {"uncertainties": {"a.b": {"low": 1, "high": 2}},
                           "levers": {"c.d": [5, 3, 9], "e": ["x", "y"]}}}
    assert parse_params([], resolved) == [Param("a.b", 1, 2), Param("c.d", 3, 9)]
    with pytest.raises(SpecError, match="design.uncertainties"):
        parse_params([], {"design": {}})


def test_bad_parameter_is_a_clear_error():
    model = ScenarioModel(None, "investor_npv", replications=1)
    with pytest.raises(SpecError, match="job_strat"):
        parse_params(["contract.prices.job_strat=1:2"], model.resolved)
    with pytest.raises(SpecError, match="LOW < HIGH"):
        parse_params(["contract.prices.job_start=5:2"], model.resolved)


def test_cli_sensitivity_oat_writes_csv(tmp_path):
    out = tmp_path / "analysis" / "sensitivity_oat.csv"
    r = CliRunner().invoke(main, ["sensitivity", "--param", "contract.prices.job_start=30000:60000",
                                  "--runs", "2", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "contract.prices.job_start" in r.output
    assert out.exists()


# -- a posterior's numbers are sampled jointly (issue 12, item d) ---------------------------------

KA, KB = "pathway.stages.a.p", "pathway.stages.b.q"


def _correlated_posterior(tmp_path, n: int = 2000, rho: float = -0.6):
    """A posterior file of two correlated numbers with unequal weights, and its particles."""
    import json

    rng = np.random.default_rng(11)
    z = rng.multivariate_normal([0.5, 0.2], [[0.01, rho * 0.1 * 0.05], [rho * 0.1 * 0.05, 0.0025]], n)
    w = rng.uniform(0.5, 1.5, n)
    w /= w.sum()
    path = tmp_path / "ab.posterior.toml"
    path.write_text(f'[posterior]\nname = "ab"\n[particles]\nweights = {json.dumps(w.tolist())}\n'
                    f"{json.dumps(KA)} = {json.dumps(z[:, 0].tolist())}\n"
                    f"{json.dumps(KB)} = {json.dumps(z[:, 1].tolist())}\n", encoding="utf-8")
    return path, z, w


def _weighted_corr(z: np.ndarray, w: np.ndarray) -> float:
    m = w @ z
    c = (z - m).T @ ((z - m) * w[:, None])
    return float(c[0, 1] / math.sqrt(c[0, 0] * c[1, 1]))


def test_the_numbers_of_one_posterior_are_one_parameter_sampled_jointly(tmp_path):
    from effekt.experiments.analysis.sensitivity import _natural, evaluate_points, prior_params

    path, z, w = _correlated_posterior(tmp_path)
    resolved = {"pathway": {"stages": {"a": {"p": {"calibrated": str(path), "parameter": KA}},
                                       "b": {"q": {"calibrated": str(path), "parameter": KB}},
                                       "c": {"r": {"beta": [2, 2]}}}}}
    params = prior_params(resolved)
    labels = [p.label for p in params]
    assert labels == [f"{KA} (+1 drawn with it from the posterior ab)", "pathway.stages.c.r"]
    n = 4000
    X = _natural(params, np.random.default_rng(2).random((n, len(params))))
    points = [params[0].with_followers(x) for x in X[:, 0]]
    a = np.array([p[KA] for p in points])
    b = np.array([p[KB] for p in points])
    pairs = set(zip(np.round(a, 12), np.round(b, 12), strict=True))
    assert pairs <= set(zip(np.round(z[:, 0], 12), np.round(z[:, 1], 12), strict=True))  # whole particles
    want = _weighted_corr(z, w)
    assert want == pytest.approx(-0.6, abs=0.05)
    se = (1 - want**2) / math.sqrt(n)  # the sample correlation's Monte Carlo error
    assert np.corrcoef(a, b)[0, 1] == pytest.approx(want, abs=4 * se)
    # what a model sees: the variance of a + b with the covariance in it (drawn independently, the
    # marginals' variances would add up to about 0.0125 instead of about 0.0065)
    y = evaluate_points(lambda v: v[KA] + v[KB], params, X[:400])
    s = z[:, 0] + z[:, 1]
    want_var = float(w @ (s - w @ s) ** 2)
    assert np.var(y) == pytest.approx(want_var, rel=0.25)


def test_the_tornado_of_a_posterior_moves_its_numbers_to_one_particle(tmp_path):
    from effekt.experiments.analysis.sensitivity import prior_params

    path, z, _ = _correlated_posterior(tmp_path)
    resolved = {"pathway": {"stages": {"a": {"p": {"calibrated": str(path), "parameter": KA}},
                                       "b": {"q": {"calibrated": str(path), "parameter": KB}}}}}
    (p,) = prior_params(resolved)
    low = p.with_followers(p.low)
    i = int(np.nonzero(z[:, 0] == p.low)[0][0])
    assert low == {KA: p.low, KB: z[i, 1]}
    assert p.with_followers(0.123456789) == {KA: 0.123456789}  # no particle's value: the others stay
