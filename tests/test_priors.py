"""Priors (effekt.priors): each distribution's mean and quantiles against closed forms, the point
value, strict refusals with their messages, the draws (stratified Latin hypercube, inside the
checked tails), and priors in data files and scenarios (validated at their point values, refused
when the model does not accept their tails, kept in the resolved tree)."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from effekt.experiments.analysis.common import number_at
from effekt.experiments.scenario import deep_merge, default_scenario_path, load_scenario, read_tree, resolve
from effekt.priors import (
    TAIL,
    Beta,
    Gamma,
    LogNormal,
    Normal,
    Point,
    PriorError,
    Triangular,
    Uniform,
    draw,
    find_priors,
    parse_prior,
)
from effekt.sim import builtin_dir, default_target_groups, load_pathway
from effekt.sim.world_data import DATA_DIR
from effekt.specfile import SpecError

Q = np.array([0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999])

# -- each distribution against its closed form ------------------------------------------------


def test_beta_mean_and_quantiles():
    p = parse_prior({"beta": [3, 5]})
    assert isinstance(p, Beta) and p.mean == pytest.approx(3 / 8)
    # beta(2, 1) has CDF x^2, so its quantile function is sqrt(q); beta(1, 1) is uniform
    assert parse_prior({"beta": [2, 1]}).ppf(Q) == pytest.approx(np.sqrt(Q))
    assert parse_prior({"beta": [1, 1]}).ppf(Q) == pytest.approx(Q)
    assert p.support == (0.0, 1.0)


def test_gamma_is_shape_and_scale():
    p = parse_prior({"gamma": [2, 3]})
    assert isinstance(p, Gamma) and p.mean == pytest.approx(6.0)  # shape x scale, not shape / rate
    # shape 1 is the exponential of mean = scale: quantile -scale log(1 - q)
    assert parse_prior({"gamma": [1, 4]}).ppf(Q) == pytest.approx(-4 * np.log1p(-Q))


def test_lognormal_is_median_and_sigma():
    p = parse_prior({"lognormal": [1.4, 0.2]})
    assert isinstance(p, LogNormal)
    assert p.mean == pytest.approx(1.4 * math.exp(0.2 ** 2 / 2))
    assert p.quantile(0.5) == pytest.approx(1.4)
    z = stats.norm.ppf(Q)  # log X = log 1.4 + 0.2 z
    assert p.ppf(Q) == pytest.approx(1.4 * np.exp(0.2 * z))


def test_normal_and_its_truncation():
    p = parse_prior({"normal": [10, 2]})
    assert isinstance(p, Normal) and p.mean == pytest.approx(10)
    assert p.quantile(0.975) == pytest.approx(10 + 1.959964 * 2, rel=1e-6)
    # truncated at its mean: a half-normal, mean mu + sd sqrt(2 / pi), median mu + sd z(0.75)
    half = parse_prior({"normal": [10, 2], "low": 10})
    assert half.mean == pytest.approx(10 + 2 * math.sqrt(2 / math.pi))
    assert half.quantile(0.5) == pytest.approx(10 + 2 * stats.norm.ppf(0.75))
    assert half.support == (10.0, math.inf)


def test_triangular_mean_and_quantiles():
    p = parse_prior({"triangular": [0, 1, 2]})
    assert isinstance(p, Triangular) and p.mean == pytest.approx(1.0)
    # F(x) = x^2 / 2 below the mode: F(0.5) = 0.125; symmetric above it
    assert p.ppf([0.125, 0.5, 0.875]) == pytest.approx([0.5, 1.0, 1.5])
    assert parse_prior({"triangular": [1, 2, 6]}).mean == pytest.approx(3.0)


def test_uniform_mean_and_quantiles():
    p = parse_prior({"uniform": [2, 6]})
    assert isinstance(p, Uniform) and p.mean == pytest.approx(4.0)
    assert p.ppf(Q) == pytest.approx(2 + 4 * Q)


def test_a_point_mass_is_its_number_as_written():
    p = parse_prior({"point": 10})
    assert isinstance(p, Point) and p.point_value == 10 and isinstance(p.point_value, int)
    assert p.values_at(np.array([0.01, 0.5, 0.99])) == [10, 10, 10]
    assert all(isinstance(v, int) for v in p.values_at(np.array([0.3])))
    assert parse_prior({"point": 0.62}).point_value == 0.62


def test_sampling_is_by_inverse_cdf():
    p = parse_prior({"lognormal": [2, 0.5]})
    x = p.sample(np.random.default_rng(7), 5)
    u = np.random.default_rng(7).random(5)
    assert x == pytest.approx(2 * np.exp(0.5 * stats.norm.ppf(u)))


def test_integer_priors_draw_whole_numbers():
    p = parse_prior({"gamma": [20, 0.5], "integer": True})
    values = p.values_at(np.linspace(0.01, 0.99, 9))
    assert all(isinstance(v, int) for v in values) and p.point_value == 10


# -- the point value and the words -----------------------------------------------------------


def test_the_point_value_is_value_when_given_else_the_mean():
    assert parse_prior({"value": 1.4, "lognormal": [1.4, 0.2]}).point_value == 1.4
    assert parse_prior({"lognormal": [1.4, 0.2]}).point_value == pytest.approx(1.4 * math.exp(0.02))
    assert parse_prior({"beta": [25, 15]}).point_value == pytest.approx(25 / 40)


def test_descriptions_in_both_languages():
    p = parse_prior({"value": 0.62, "beta": [25.1, 15.4]})
    en, nb = p.describe("en"), p.describe("nb")
    assert en.startswith("beta(25.1, 15.4): mean 0.6198, 90 % between 0.4923 and 0.7404")
    assert "0.62 without draws" in en
    assert nb.startswith("beta(25,1; 15,4): gjennomsnitt 0,6198, 90 % mellom 0,4923 og 0,7404")
    assert "0,62 uten trekninger" in nb
    assert parse_prior({"triangular": [1, 2, 4]}).describe("nb").startswith("trekant(1; 2; 4)")
    assert parse_prior({"point": 3}).describe("en") == "point mass at 3"
    with pytest.raises(ValueError, match="unknown language"):
        p.describe("sv")


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("table, message", [
    ({"beta": [0, 2]}, "beta needs a > 0 and b > 0, got [0, 2]"),
    ({"beta": [2, -1]}, "beta needs a > 0 and b > 0"),
    ({"beta": [1, 2, 3]}, "beta takes 2 numbers [a, b], got 3 numbers"),
    ({"beta": 0.5}, "beta takes 2 numbers [a, b], got 0.5"),
    ({"beta": [True, 2]}, "beta: True is not a number"),
    ({"gamma": [2, "x"]}, "gamma: 'x' is not a number"),
    ({"lognormal": [1.4, math.inf]}, "lognormal: inf is not a finite number"),
    ({"normal": [0, math.nan]}, "normal: nan is not a finite number"),
    ({"gamma": [2, 0]}, "gamma needs shape > 0 and scale > 0 (scale, not rate"),
    ({"lognormal": [0, 0.2]}, "lognormal needs median > 0 and sigma > 0"),
    ({"lognormal": [1.4, 0]}, "for a fixed number write point"),
    ({"normal": [0, 1], "low": 1, "high": 0}, "low (1) must be below high (0)"),
    ({"normal": [0, 1], "low": 40}, "holds almost none of normal(0, 1)"),
    ({"triangular": [1, 5, 3]}, "triangular needs low <= mode <= high"),
    ({"uniform": [2, 2]}, "uniform needs low < high, got [2, 2]"),
    ({"point": [1]}, "point takes one number"),
    ({"point": False}, "point: False is not a number"),
    ({"beta": [2, 2], "value": 1.2}, "value 1.2 lies outside the distribution, which ranges from 0 to 1"),
    ({"beta": [2, 2], "value": True}, "value: True is not a number"),
    ({"gamma": [2, 1], "integer": "yes"}, "integer: true or false"),
    ({"gamma": [20, 0.5], "integer": True, "value": 10.5}, "integer = true needs a whole number"),
    ({"beta": [2, 2], "gamma": [1, 1]}, "two distributions (beta, gamma): give one"),
    ({"beta": [2, 2], "vaule": 0.5}, "unknown key 'vaule' (did you mean 'value'?)"),
    ({"gamma": [2, 1], "low": 0}, "unknown key 'low' (only a normal is truncated)"),
    ({"calibrated": "no_such_calibration"}, "no posterior of that name"),  # reserved until issue 12
])
def test_impossible_priors_are_refused_saying_why(table, message):
    with pytest.raises(PriorError) as err:
        parse_prior(table)
    assert message in str(err.value)


def test_find_priors_names_each_key_and_suggests_a_misspelt_distribution():
    tree = {"stages": {"a": {"exits": [{"to": "x", "p": 0.1}, {"to": "y", "p": {"beta": [2, 3]}}]},
                       "b": {"duration": {"dist": "fixed", "value": 4}}},  # a duration is no prior
            "g": {"sd": {"lognormla": [0.5, 0.3]}, "m": {"value": 1.4, "gama": [2, 1]},
                  "bad": {"beta": [0, 1]}}}
    priors, tables, problems = find_priors(tree)
    assert list(priors) == ["stages.a.exits[1].p"] and tables["stages.a.exits[1].p"] == {"beta": [2, 3]}
    assert problems == [
        "g.sd: 'lognormla' is no distribution (did you mean 'lognormal'?); a prior is one of beta, "
        "gamma, lognormal, normal, triangular, uniform, point",
        "g.m: 'gama' is no distribution (did you mean 'gamma'?); a prior is one of beta, gamma, "
        "lognormal, normal, triangular, uniform, point",
        "g.bad: beta needs a > 0 and b > 0, got [0, 1]",
    ]
    assert find_priors({"design": {"x": {"beta": [1, 1]}}}, skip=("design",))[0] == {}


# -- draws -----------------------------------------------------------------------------------


PRIORS = {"a": parse_prior({"beta": [25.1, 15.4]}), "b": parse_prior({"lognormal": [1.4, 0.2]}),
          "c": parse_prior({"triangular": [0, 1, 5]})}


def test_latin_hypercube_draws_are_stratified_on_each_cdf():
    n = 16
    draws = draw(PRIORS, n, np.random.default_rng(3))
    assert len(draws) == n and all(list(d) == ["a", "b", "c"] for d in draws)
    for key, prior in PRIORS.items():
        u = (prior.cdf(np.array([d[key] for d in draws])) - TAIL) / (1 - 2 * TAIL)
        assert sorted(np.floor(u * n).astype(int)) == list(range(n)), key  # one draw per stratum


def test_draws_stay_inside_the_checked_tails_and_random_draws_extend():
    many = draw(PRIORS, 2000, np.random.default_rng(1), "random")
    for key, prior in PRIORS.items():
        x = np.array([d[key] for d in many])
        assert x.min() >= prior.quantile(TAIL) and x.max() <= prior.quantile(1 - TAIL)
    few = draw(PRIORS, 10, np.random.default_rng(1), "random")
    assert few == many[:10]  # plain random draws: more draws extend fewer
    assert draw(PRIORS, 5, np.random.default_rng(2)) == draw(PRIORS, 5, np.random.default_rng(2))


# -- in data files ---------------------------------------------------------------------------


def test_the_built_in_priors_keep_todays_numbers():
    kongsberg = load_pathway("kongsberg_kull")
    assert kongsberg.stages["work_training"].exits[1].p == 0.62
    assert kongsberg.stages["no_job"].after.entry_rate_multiplier == 1.4
    assert {g.employability_sd for g in default_target_groups().values()} == {0.5}
    sc = load_scenario(None)
    assert set(sc.priors) == {
        "pathway.stages.work_training.exits[1].p", "pathway.stages.no_job.after.entry_rate_multiplier",
        *(f"world.groups.{g}.employability_sd" for g in "ABCD")}  # no cohort of group R here
    assert sc.priors["pathway.stages.work_training.exits[1].p"].describe("en").startswith(
        "beta(25.1, 15.4)")


def test_the_springbrett_beta_reflects_the_counts_uncertainty():
    # beta(25, 38) is the share in paid work after 24 of 61 (uniform prior); the file maps its sd
    # through the simulated slope of about -0.81 per unit of p onto the exit probability
    share = stats.beta(25, 38)
    p = load_scenario(None).priors["pathway.stages.work_training.exits[1].p"]
    assert p.rv().std() == pytest.approx(share.std() / 0.81, rel=0.02)
    assert p.mean == pytest.approx(0.62, abs=0.001) and p.point_value == 0.62


def _pathway_file(tmp_path: Path, old: str, new: str) -> Path:
    text = (builtin_dir() / "kongsberg_kull.toml").read_text()
    assert old in text
    path = tmp_path / "pathway.toml"
    path.write_text(text.replace(old, new))
    return path


def test_a_pathway_file_with_a_prior_loads_at_its_point_value(tmp_path):
    path = _pathway_file(tmp_path, "p = 0.10 }", "p = { beta = [1, 9] } }")
    assert load_pathway(path).stages["referral_interview"].exits[0].p == pytest.approx(0.1)


def test_a_prior_the_model_refuses_at_its_tails_is_refused_naming_file_and_key(tmp_path):
    path = _pathway_file(tmp_path, "p = 0.10 }", "p = { uniform = [0.2, 1.4] } }")
    with pytest.raises(SpecError) as err:
        load_pathway(path)
    text = str(err.value)
    assert str(path) in text
    assert ("stages.referral_interview.exits[0].p: the prior uniform(0.2, 1.4) reaches 1.399 at its "
            "99.9 % quantile, which is not allowed here") in text
    assert "less than or equal to 1" in text


def test_a_scenario_refuses_a_prior_outside_what_the_number_may_be():
    with pytest.raises(SpecError) as err:
        load_scenario(None, ["pathway.stages.course.exits[0].p={ uniform = [0.2, 1.4] }"])
    text = str(err.value)
    assert "default.toml" in text and "kongsberg_kull.toml" in text  # the file and the template
    assert "pathway.stages.course.exits[0].p: the prior uniform(0.2, 1.4) reaches 1.399" in text
    # a beta on a probability is fine (its tails stay in [0, 1] and below the other exit's 0.85)
    sc = load_scenario(None, ["pathway.stages.course.exits[0].p={ beta = [1, 19] }"])
    assert sc.world.pathway.stages["course"].exits[0].p == pytest.approx(0.05)


def test_whole_scenario_checks_apply_to_the_tails():
    # the sum of a stage's exit probabilities may not exceed 1: a prior whose 99.9 % quantile
    # takes the job-search exit past 0.85 (with dropping out at 0.15) is refused
    with pytest.raises(SpecError, match=r"exits\[1\]\.p: the prior beta\(8, 2\)"):
        load_scenario(None, ["pathway.stages.work_training.exits[1].p={ value = 0.62, beta = [8, 2] }"])


def test_a_misspelt_distribution_in_a_scenario_is_named():
    with pytest.raises(SpecError, match=r"world.groups.A.employability_sd: 'betta' is no distribution "
                                        r"\(did you mean 'beta'\?\)"):
        load_scenario(None, ["world.groups.A.employability_sd={ betta = [2, 2] }"])


def test_the_resolved_tree_keeps_the_priors_and_resolves_again_to_the_same():
    sc = load_scenario(None)
    stage = sc.resolved["pathway"]["stages"]["no_job"]["after"]
    assert stage["entry_rate_multiplier"] == {"value": 1.4, "lognormal": [1.4, 0.2]}
    assert sc.resolved["world"]["groups"]["A"]["employability_sd"] == {
        "value": 0.5, "lognormal": [0.5, 0.3], "shared": "employability_sd"}
    again = resolve(sc.tree)
    assert again.resolved == sc.resolved and again.hash == sc.hash and again.priors == sc.priors
    assert again.world == sc.world


def test_the_point_values_are_todays_numbers():
    plain = load_scenario(None, ["pathway.stages.work_training.exits[1].p=0.62",
                                 "pathway.stages.no_job.after.entry_rate_multiplier=1.4",
                                 *(f"world.groups.{g}.employability_sd=0.5" for g in "ABCDR")])
    sc = load_scenario(None)
    assert plain.priors == {} and plain.world == sc.world and plain.terms == sc.terms


def test_an_override_replaces_a_prior_whole():
    merged = deep_merge({"x": {"value": 1.4, "lognormal": [1.4, 0.2]}}, {"x": {"gamma": [2, 0.7]}})
    assert merged == {"x": {"gamma": [2, 0.7]}}
    sc = load_scenario(None, ["pathway.stages.no_job.after.entry_rate_multiplier={ gamma = [2, 0.7] }"])
    assert sc.priors["pathway.stages.no_job.after.entry_rate_multiplier"].mean == pytest.approx(1.4)
    assert sc.world.pathway.stages["no_job"].after.entry_rate_multiplier == pytest.approx(1.4)


def test_analysis_keys_read_a_priors_point_value():
    sc = load_scenario(None)
    assert number_at(sc.resolved, "pathway.stages.work_training.exits[1].p", "--vary") == 0.62


def test_every_prior_line_in_the_built_in_files_is_a_valid_toml_table_with_a_source():
    for path in [builtin_dir() / "kongsberg_kull.toml", DATA_DIR / "target_groups.toml"]:
        data = tomllib.loads(path.read_text())
        priors, _, problems = find_priors(data)
        assert priors and not problems
        for line in path.read_text().splitlines():
            if any(f"{k} = [" in line for k in ("beta", "lognormal")):
                assert "assumption" in line or "derived" in line, line


def test_a_scenario_file_may_give_a_prior_too(tmp_path):
    text = default_scenario_path().read_text()
    assert "discount_rate = 0.04" in text
    path = tmp_path / "s.toml"
    path.write_text(text.replace("discount_rate = 0.04",
                                 "discount_rate = { value = 0.04, uniform = [0.02, 0.06] }"))
    sc = resolve(read_tree(path))
    assert sc.info.discount_rate == 0.04 and "scenario.discount_rate" in sc.priors


def test_a_prior_in_a_file_outside_the_scenarios_tree_is_refused_not_silently_fixed(tmp_path):
    # review 12: a prior in a business-as-usual pathway (or the fiscal rules) was taken at its
    # point value and never drawn, while the summary counted only the drawn ones
    from effekt.sim.pathway import business_as_usual_dir

    text = (business_as_usual_dir() / "aap_oppfolging.toml").read_text(encoding="utf-8")
    assert "p = 0.30 }," in text
    path = tmp_path / "aap_bau.toml"
    path.write_text(text.replace("p = 0.30 },", "p = { value = 0.30, beta = [30, 70] } },"),
                    encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_scenario(None, [f'world.groups.A.bau_pathway={{aap = "{path}", '
                             'kvalifiseringsstonad = "kvalifiseringsprogram"}'])
    msg = str(err.value)
    assert "stages.aap_follow_up.exits[1].p: a prior here would never be drawn" in msg
