"""Calibration files, the measures of published counts, and the posterior file that
``{ calibrated = ... }`` draws from: strict validation with clear messages, the same people counted
as tests/test_calibration.py counts, and draws that are the posterior's particles, jointly."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest

from effekt.experiments.calibrate import build_model, load_calibration_file
from effekt.experiments.calibrate.abc_smc import Generation, Population, Result
from effekt.experiments.calibrate.measures import Records, measure
from effekt.experiments.calibrate.posterior import Calibration, predictive_check, write_posterior
from effekt.experiments.calibrate.report import summary_lines
from effekt.experiments.calibrate.spec import EmployedAfterEntry, EmployedAfterFinishing, Reached
from effekt.experiments.design import Design, design_points
from effekt.experiments.scenario import default_scenario_path, read_tree, resolve
from effekt.priors import CalibratedPrior, PriorError, draw, find_priors, parse_prior
from effekt.sim import replication_seed, simulate
from effekt.specfile import SpecError, read_toml

sys.path.insert(0, str(Path(__file__).parent))
import test_calibration as tc  # noqa: E402  (the published figures' measures, as the tests define them)

KEYS = ["pathway.stages.work_training.exits[1].p", "pathway.stages.work_training.exits[0].p",
        "pathway.stages.no_job.after.entry_rate_multiplier"]

SPRINGBRETT = Path(__file__).parents[1] / "experiments" / "calibrations" / "springbrett.toml"


def _write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = SPRINGBRETT.read_text(encoding="utf-8")
    assert old in text
    return _write(tmp_path, text.replace(old, new))


def _problems(path: Path) -> str:
    with pytest.raises(SpecError) as err:
        spec, source = load_calibration_file(path)
        build_model(spec, source)
    return str(err.value)


# -- the shipped file ------------------------------------------------------------------------

def test_springbrett_loads_with_real_published_counts_and_says_which_is_held_out():
    spec, source = load_calibration_file("springbrett")
    model, priors = build_model(spec, source)
    assert list(priors) == KEYS
    assert {n: (t.count, t.of, t.held_out) for n, t in spec.targets.items()} == {
        "finishers_in_paid_work": (24, 61, False), "in_work_or_training_2016": (12, 48, True)}
    assert all("Spekter" in t.source for t in spec.targets.values())
    # a study has exactly the published denominators; the counts lie within them
    counts = model.simulate({k: p.point_value for k, p in priors.items()}, np.random.SeedSequence(5))
    assert counts.shape == (2,) and 0 <= counts[0] <= 61 and 0 <= counts[1] <= 48


def test_every_number_in_a_calibration_file_says_where_it_comes_from():
    for path in SPRINGBRETT.parent.glob("*.toml"):
        if path.name.endswith(".posterior.toml"):
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code, _, comment = line.partition("#")
            value = code.split("=", 1)[-1]
            if "=" in code and any(ch.isdigit() for ch in value) and not code.strip().startswith(
                    ("title", "source", "name")):
                assert any(w in comment for w in ("source", "assumption", "derived")) or "source" in code, \
                    f"{path.name}:{i}: {line}"


# -- bad files -------------------------------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "message"), [
    ("count = 24 ", "count = 64 ", "count (64) cannot exceed of (61)"),
    ('kind = "employed_after_finishing"', 'kind = "employed_after"', "employed_after_finishing"),
    ('stage = "work_training", weeks = 26', 'stage = "work_trainin", weeks = 26',
     "no stage 'work_trainin' in the pathway (did you mean 'work_training'?)"),
    ('"pathway.stages.no_job.after.entry_rate_multiplier" = "declared"',
     '"pathway.stages.no_job.after.entry_rate_multipler" = "declared"', "entry_rate_multipler"),
    ('"pathway.stages.no_job.after.entry_rate_multiplier" = "declared"',
     '"pathway.stages.course.exits[0].p" = "declared"', "gives that number no prior"),
    ('"pathway.stages.no_job.after.entry_rate_multiplier" = "declared"',
     '"pathway.stages.course.exits[0].p" = { point = 0.05 }', "cannot be fitted"),
    ('"pathway.stages.no_job.after.entry_rate_multiplier" = "declared"',
     '"world.horizon_weeks" = { uniform = [100, 200] }', "starting with 'pathway.'"),
    ('"pathway.stages.work_training.exits[0].p" = { triangular = [0.05, 0.15, 0.30] }',
     '"pathway.stages.work_training.exits[0].p" = { triangular = [0.05, 0.15, 0.60] }',
     "probabilities sum to"),
    ("held_out = false", "held_out = true", "every target is held out"),
    ("particles = 400 ", "particles = 4 ", "calibration.fit.particles"),
    ('pathway = "kongsberg_kull"', 'pathway = "kongsberg"', "no built-in pathway of that name"),
    ("[world]", "[wrld]", "wrld"),
])
def test_bad_calibration_files_are_refused_naming_the_key(tmp_path, old, new, message):
    text = _problems(_edited(tmp_path, old, new))
    assert message in text
    assert "c.toml" in text or "kongsberg" in text


def test_a_missing_calibration_file_or_name_is_refused():
    with pytest.raises(SpecError, match="no calibration file of that name; built-in: springbrett"):
        load_calibration_file("springbret")
    with pytest.raises(SpecError, match="file not found"):
        load_calibration_file("nowhere/c.toml")


# -- measures: the same people as tests/test_calibration.py ----------------------------------

@pytest.mark.parametrize("rep", range(4))
def test_the_measures_count_what_the_calibration_tests_count(rep):
    cases = [
        (tc.kongsberg_world(), tc.kongsberg_in_paid_work,
         EmployedAfterFinishing(kind="employed_after_finishing", stage="work_training", weeks=26,
                                except_to=["dropped_out"])),
        (tc.fjell_world(), tc.fjell_in_work,
         EmployedAfterEntry(kind="employed_after_entry", stage="project_position", event="hired", weeks=156)),
        (tc.gloppen_world(), tc.gloppen_certified,
         Reached(kind="reached", stage="year1_vocational", to_stage="helsefagarbeider", to_event="hired")),
    ]
    for world, theirs, spec in cases:
        t = simulate(world, replication_seed(tc.ROOT_SEED, rep))
        ids, hit = measure(Records(t), world.horizon_weeks, spec)
        assert (int(hit.sum()), len(ids)) == theirs(t), spec.kind
        assert (np.diff(ids) > 0).all()


# -- the posterior file and { calibrated = ... } ----------------------------------------------

@pytest.fixture(scope="module")
def posterior_file(tmp_path_factory) -> tuple[Path, np.ndarray, np.ndarray]:
    """A posterior file written from known particles (no fit: the file format is what is tested)."""
    spec, source = load_calibration_file("springbrett")
    _, priors = build_model(spec, source)
    rng = np.random.default_rng(3)
    n = 50
    theta = np.column_stack([rng.uniform(0.4, 0.7, n), rng.uniform(0.1, 0.2, n),
                             rng.uniform(1.1, 1.6, n)])
    w = rng.uniform(0.5, 1.5, n)
    w /= w.sum()
    pop = Population(keys=KEYS, theta=theta, weights=w, distances=np.zeros(n), counts=np.zeros((n, 2), int))
    res = Result(population=pop, generations=[Generation(0, float("inf"), 50, 1.0, 50.0),
                                              Generation(1, 0.0, 500, 0.1, 45.0)])
    pred = np.column_stack([rng.binomial(61, 0.39, 400), rng.binomial(48, 0.45, 400)])
    cal = Calibration(spec=spec, source=source, priors=priors, result=res, predictive=pred, seed=1,
                      settings={"tolerance": 0})
    path = write_posterior(cal, tmp_path_factory.mktemp("post"))
    return path, theta, w, cal


def test_the_posterior_file_holds_the_particles_and_what_was_fitted(posterior_file):
    path, theta, w, cal = posterior_file
    data = read_toml(path)
    assert data["posterior"]["name"] == "springbrett" and data["posterior"]["seed"] == 1
    assert data["posterior"]["tolerances"] == [float("inf"), 0.0]
    assert {"date", "effekt_version", "method", "simulations"} <= set(data["posterior"])
    assert np.allclose(data["particles"]["weights"], w)
    for j, key in enumerate(KEYS):
        assert np.array_equal(data["particles"][key], theta[:, j])
    assert data["targets"]["in_work_or_training_2016"]["held_out"] is True
    # the predictive check: published 24 against binomial(61, 0.39) draws; 12 of 48 far in the tail
    checks = {c.name: c for c in predictive_check(cal)}
    assert checks["finishers_in_paid_work"].low <= 24 <= checks["finishers_in_paid_work"].high
    assert checks["in_work_or_training_2016"].p_at_most < 0.01
    text = "\n".join(summary_lines(cal, "en"))
    assert "Held-out targets" in text and "in the tail" in text
    assert "Holdt utenfor" in "\n".join(summary_lines(cal, "nb"))


def test_a_calibrated_prior_is_the_posterior_marginal(posterior_file):
    path, theta, w, _ = posterior_file
    prior = parse_prior({"calibrated": str(path)}, "pathway.stages.work_training.exits[1].p")
    assert isinstance(prior, CalibratedPrior)
    assert prior.point_value == pytest.approx(float(w @ theta[:, 0]))  # the posterior mean
    assert prior.support == (theta[:, 0].min(), theta[:, 0].max())
    # a pathway file's own key (without 'pathway.') finds the same parameter
    same = parse_prior({"calibrated": str(path)}, "stages.work_training.exits[1].p")
    assert same.parameter == prior.parameter
    fixed = parse_prior({"calibrated": str(path), "value": 0.5}, "stages.work_training.exits[1].p")
    assert fixed.point_value == 0.5
    # its inverse CDF is the marginal one (monotone: what a sensitivity analysis samples)
    u = np.linspace(0, 1, 101)
    x = prior.ppf(u)
    assert (np.diff(x) >= 0).all() and x[0] == theta[:, 0].min() and x[-1] == theta[:, 0].max()
    order = np.argsort(theta[:, 0])
    assert prior.quantile(0.5) == theta[order, 0][np.searchsorted(np.cumsum(w[order]), 0.5)]


def test_draws_from_one_posterior_are_joint_particles(posterior_file):
    path, theta, w, _ = posterior_file
    tree = {"stages": {"a": {"p": {"calibrated": str(path), "parameter": KEYS[0]}},
                       "b": {"q": {"calibrated": str(path), "parameter": KEYS[2]}},
                       "c": {"r": {"beta": [2, 2]}}}}
    priors, _, problems = find_priors(tree)
    assert not problems
    draws = draw(priors, 400, np.random.default_rng(1), "lhs")
    pairs = {(round(d["stages.a.p"], 12), round(d["stages.b.q"], 12)) for d in draws}
    particles = {(round(a, 12), round(b, 12)) for a, b in zip(theta[:, 0], theta[:, 2], strict=True)}
    assert pairs <= particles  # every draw is one particle for both keys
    # particles are drawn by weight: the draws' mean is near the weighted mean
    assert np.mean([d["stages.a.p"] for d in draws]) == pytest.approx(float(w @ theta[:, 0]), abs=0.02)
    # the independent prior is not tied to them: its draws are not a function of the particle
    r = np.array([d["stages.c.r"] for d in draws])
    assert len(set(np.round(r, 9))) > 300


def test_a_scenario_draws_a_calibrated_number_jointly(posterior_file):
    path, theta, _, _ = posterior_file
    tree = read_tree(default_scenario_path(), [f"{key}={{ calibrated = \"{path}\" }}" for key in KEYS[:2]])
    scenario = resolve(tree)
    assert isinstance(scenario.priors[KEYS[0]], CalibratedPrior)
    design = Design(parameters={"draws": 8})
    points = design_points(design, scenario.priors)
    rows = {(round(p[KEYS[0]], 12), round(p[KEYS[1]], 12)) for p in points}
    assert rows <= {(round(a, 12), round(b, 12)) for a, b in zip(theta[:, 0], theta[:, 1], strict=True)}


@pytest.mark.parametrize(("table", "message"), [
    ({"calibrated": "no_such_calibration"}, "no posterior of that name"),
    ({"calibrated": "nowhere/x.posterior.toml"}, "no such posterior file"),
    ({"calibrated": "{path}", "parameter": "pathway.stages.x.p"}, "is not in the posterior"),
    ({"calibrated": "{path}", "paramter": KEYS[0]}, "unknown key 'paramter' (did you mean 'parameter'?)"),
    ({"calibrated": "{path}", "beta": [1, 1]}, "either drawn from a posterior or from a distribution"),
    ({"calibrated": "{path}", "parameter": KEYS[0], "value": 0.99}, "outside the posterior's particles"),
    ({"calibrated": 3}, "a calibration's name or a posterior file's path"),
])
def test_bad_calibrated_priors_are_refused_saying_why(posterior_file, table, message):
    path = posterior_file[0]
    table = {k: (str(path) if v == "{path}" else v) for k, v in table.items()}
    with pytest.raises(PriorError) as err:
        parse_prior(table, "stages.other.p")
    assert message in str(err.value)


def test_a_number_the_posterior_does_not_hold_is_refused(posterior_file):
    with pytest.raises(PriorError, match="none of its parameters is this number"):
        parse_prior({"calibrated": str(posterior_file[0])}, "stages.course.exits[0].p")


def test_a_broken_posterior_file_is_refused(tmp_path, posterior_file):
    text = posterior_file[0].read_text(encoding="utf-8")
    broken = copy.copy(text).replace("weights = [", "weights = [0.5, ", 1)
    p = _write(tmp_path, broken, "b.posterior.toml")
    with pytest.raises(PriorError, match="one per particle"):
        parse_prior({"calibrated": str(p), "parameter": KEYS[0]})
    p2 = _write(tmp_path, "[posterior]\nname = 'x'\n", "c.posterior.toml")
    with pytest.raises(PriorError, match="not a posterior file"):
        parse_prior({"calibrated": str(p2), "parameter": KEYS[0]})


def test_the_built_in_springbrett_posterior_is_found_by_name(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no ./calibrations here: the built-in one is used
    data = read_toml(SPRINGBRETT.with_name("springbrett.posterior.toml"))
    for key in KEYS:
        prior = parse_prior({"calibrated": "springbrett"}, key)
        assert prior.point_value == pytest.approx(data["summary"][key]["mean"])
        assert prior.quantile(0.05) == pytest.approx(data["summary"][key]["low"])
    assert data["targets"]["finishers_in_paid_work"]["held_out"] is False
    assert len(data["particles"]["weights"]) == data["posterior"]["particles"] == 400
