"""Bad pathway files fail when loaded, with a message naming the file, the stage and the key.

Each test writes a small pathway file that differs from a valid one in one place and checks the
error says where (file path and dotted key) and what is allowed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from effekt.sim import SpecError, World, load_pathway, simulate
from effekt.sim.people import Cohort
from effekt.sim.streams import Streams
from effekt.sim.world import Counterfactual
from effekt.specfile import validate

VALID = """
[pathway]
name = "t"
title = "test"
source = "test"
entry = "interview"

[capacity.placements]
slots = 3

[stages.interview]
kind = "screening"
duration = { dist = "fixed", value = 2 }
exits = [{ to = "rejected", p = 0.1 }]
next = "course"

[stages.course]
kind = "course"
duration = { dist = "triangular", low = 2, mode = 4, high = 8 }
exits = [{ to = "dropped", p = 0.1 }, { to = "exam", p = 0.2 }]
next = "training"

[stages.training]
kind = "placement"
capacity = "placements"
duration = { dist = "exponential", mean = 20 }
next = "exam"

[stages.exam]
kind = "exam"
duration = { dist = "fixed", value = 1 }
exits = [{ to = "exam", p = 0.3, limit = 2, otherwise = "dropped" }]
next = "job"

[stages.job]
kind = "employment"
employment = { contract = "permanent", fte = 1.0, annual_wage = 450000 }

[stages.rejected]
kind = "exit"
outcome = "not_employed"

[stages.dropped]
kind = "exit"
outcome = "not_employed"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my_pathway.toml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_pathway(path)
    message = str(info.value)
    assert str(path) in message  # always names the file
    assert "Traceback" not in message
    return message


def test_the_valid_file_loads(tmp_path):
    pw = load_pathway(write(tmp_path, VALID))
    assert pw.stages["exam"].exits[0].limit == 2


def test_unknown_stage_kind(tmp_path):
    msg = error_of(tmp_path, VALID.replace('kind = "course"', 'kind = "lecture"'))
    assert "stages.course.kind" in msg
    assert "'screening'" in msg and "'exam'" in msg  # lists what is allowed


@pytest.mark.parametrize("bad", ["1.5", "-0.2"])
def test_probability_outside_unit_interval(tmp_path, bad):
    text = VALID.replace('{ to = "rejected", p = 0.1 }', f'{{ to = "rejected", p = {bad} }}')
    msg = error_of(tmp_path, text)
    assert "stages.interview.exits[0].p" in msg
    allowed = "less than or equal to 1" if bad == "1.5" else "greater than or equal to 0"
    assert allowed in msg


def test_exits_summing_over_one(tmp_path):
    msg = error_of(tmp_path, VALID.replace('{ to = "exam", p = 0.2 }', '{ to = "exam", p = 0.95 }'))
    assert "stages.course.exits" in msg
    assert "sum to 1.05" in msg and "at most 1" in msg


def test_exits_short_of_one_without_next(tmp_path):
    text = VALID.replace('exits = [{ to = "rejected", p = 0.1 }]\nnext = "course"',
                         'exits = [{ to = "rejected", p = 0.1 }, { to = "course", p = 0.5 }]')
    msg = error_of(tmp_path, text)
    assert "stages.interview.exits" in msg and "no 'next'" in msg


def test_negative_duration(tmp_path):
    msg = error_of(tmp_path, VALID.replace('duration = { dist = "fixed", value = 2 }',
                                           'duration = { dist = "fixed", value = -2 }'))
    assert "stages.interview.duration" in msg and "value" in msg
    assert "greater than or equal to 0" in msg


def test_impossible_triangular_duration(tmp_path):
    msg = error_of(tmp_path, VALID.replace("low = 2, mode = 4, high = 8", "low = 9, mode = 4, high = 8"))
    assert "stages.course.duration" in msg and "low <= mode <= high" in msg


def test_unknown_distribution(tmp_path):
    msg = error_of(tmp_path, VALID.replace('dist = "exponential"', 'dist = "weibull"'))
    assert "stages.training.duration" in msg and "exponential" in msg


def test_missing_duration(tmp_path):
    msg = error_of(tmp_path, VALID.replace('duration = { dist = "exponential", mean = 20 }\n', ""))
    assert "stages.training.duration" in msg and "needs a duration" in msg


def test_unreachable_stage(tmp_path):
    msg = error_of(tmp_path, VALID + '\n[stages.orphan]\nkind = "exit"\noutcome = "moved"\n')
    assert "stages.orphan" in msg and "not reachable" in msg and "interview" in msg


def test_cycle_without_exit(tmp_path):
    # training -> exam -> training forever: exam's only way on has probability 0
    text = VALID.replace('exits = [{ to = "exam", p = 0.3, limit = 2, otherwise = "dropped" }]\nnext = "job"',
                         'exits = [{ to = "job", p = 0.0 }]\nnext = "training"')
    msg = error_of(tmp_path, text)
    assert "stages.training" in msg and "stages.exam" in msg
    assert "cycle without exit" in msg


def test_retake_loop_with_probability_one_and_no_limit_is_a_cycle_without_exit(tmp_path):
    msg = error_of(tmp_path, VALID.replace('{ to = "exam", p = 0.3, limit = 2, otherwise = "dropped" }',
                                           '{ to = "exam", p = 1.0 }'))
    assert "stages.exam" in msg and "cycle without exit" in msg


def test_retake_loop_with_probability_one_and_a_limit_is_fine(tmp_path):
    load_pathway(write(tmp_path, VALID.replace("p = 0.3, limit = 2", "p = 1.0, limit = 2")))


def test_limit_needs_otherwise(tmp_path):
    msg = error_of(tmp_path, VALID.replace(', otherwise = "dropped"', ""))
    assert "stages.exam.exits[0]" in msg and "otherwise" in msg


def test_missing_capacity(tmp_path):
    msg = error_of(tmp_path, VALID.replace('capacity = "placements"', 'capacity = ["placements", "mentors"]'))
    assert "stages.training.capacity" in msg and "'mentors'" in msg
    assert "declared: placements" in msg and "[capacity.mentors]" in msg


def test_capacity_without_slots(tmp_path):
    msg = error_of(tmp_path, VALID.replace("slots = 3", 'title = "places"'))
    assert "capacity.placements.slots" in msg and "required" in msg


def test_zero_slots(tmp_path):
    msg = error_of(tmp_path, VALID.replace("slots = 3", "slots = 0"))
    assert "capacity.placements.slots" in msg and "greater than or equal to 1" in msg


def test_dangling_next(tmp_path):
    msg = error_of(tmp_path, VALID.replace('next = "training"', 'next = "trainig"'))
    assert "stages.course.next" in msg and "no stage named 'trainig'" in msg and "training" in msg


def test_misspelt_key_gets_a_suggestion(tmp_path):
    msg = error_of(tmp_path, VALID.replace("duration = { dist = \"fixed\", value = 1 }",
                                           "duraton = { dist = \"fixed\", value = 1 }"))
    assert "stages.exam.duraton" in msg and "did you mean 'duration'" in msg


def test_exit_stage_with_a_duration(tmp_path):
    text = VALID.replace('[stages.rejected]\nkind = "exit"',
                         '[stages.rejected]\nkind = "exit"\nduration = { dist = "fixed", value = 1 }')
    msg = error_of(tmp_path, text)
    assert "stages.rejected.duration" in msg and "exit stage" in msg


def test_unknown_logistic_term(tmp_path):
    msg = error_of(tmp_path, VALID.replace('{ to = "dropped", p = 0.1 }',
                                           '{ to = "dropped", p = 0.1, logistic = { height = 0.1 } }'))
    assert "stages.course.exits[0].logistic" in msg and "height" in msg and "'age'" in msg


def test_subsidy_without_wage(tmp_path):
    msg = error_of(tmp_path, VALID.replace('capacity = "placements"',
                                           'capacity = "placements"\nfunding = { wage_payer = "kommune" }'))
    assert "stages.training.funding" in msg and "wage" in msg


def test_several_problems_are_all_reported(tmp_path):
    text = VALID.replace('next = "training"', 'next = "nowhere"').replace(
        'capacity = "placements"', 'capacity = "seats"')
    msg = error_of(tmp_path, text)
    assert "stages.course.next" in msg and "stages.training.capacity" in msg
    assert msg.count("\n  - ") >= 2


def test_cohort_starting_in_an_unknown_stage():
    pw = load_pathway("kongsberg_kull")
    with pytest.raises(ValueError, match=r"cohorts\[0\]\.stage: no stage named 'nope'"):
        World(pathway=pw, horizon_weeks=52,
              cohorts=[Cohort(name="c", start_week=0, size=3, groups={"A": 1}, stage="nope")])


def test_cohort_schedule_past_the_horizon():
    pw = load_pathway("kongsberg_kull")
    with pytest.raises(ValueError, match=r"cohorts\[0\]\.repeats: 'k 3' would start at week 104"):
        World(pathway=pw, horizon_weeks=100,
              cohorts=[Cohort(name="k", start_week=0, size=3, groups={"A": 1}, repeats=3,
                              repeat_every_weeks=52)])


@pytest.mark.parametrize("cohort, key", [
    ({"arrival": "poisson"}, "rate_per_week: needed"),
    ({"rate_per_week": 2.0}, "rate_per_week: only for arrival = 'poisson'"),
    ({"repeats": 3}, "repeat_every_weeks: needed when repeats > 1"),
    ({"arrival": "in_batches"}, "arrival: Input should be 'together' or 'poisson'"),
    ({"size": 0}, "size: Input should be greater than or equal to 1"),
])
def test_bad_cohorts_name_the_key(cohort, key):
    data = {"name": "k", "start_week": 0, "size": 5, "groups": {"A": 1.0}} | cohort
    with pytest.raises(SpecError) as info:
        validate(Cohort, data, "scenario.toml")
    assert "scenario.toml" in str(info.value) and key in str(info.value)


def test_group_multiplier_for_an_unknown_group(tmp_path):
    text = VALID.replace('{ to = "dropped", p = 0.1 }',
                         '{ to = "dropped", p = 0.1, group_multiplier = { Q = 2 } }')
    pw = load_pathway(write(tmp_path, text))
    key = r"stages\.course\.exits\[0\]\.group_multiplier: unknown target group"
    with pytest.raises(ValueError, match=key):
        World(pathway=pw, horizon_weeks=52, cohorts=[Cohort(name="c", start_week=0, size=3, groups={"A": 1})])


# -- exits of a stage without 'next' must take everyone, whatever the person ---------------------

LAST_STAGE = """
[pathway]
name = "t"
title = "test"
source = "test"
entry = "search"

[stages.search]
kind = "job_search"
duration = { dist = "fixed", value = 2 }
exits = [EXITS]

[stages.job]
kind = "employment"
employment = { contract = "permanent", fte = 1.0, annual_wage = 450000 }

[stages.out]
kind = "exit"
outcome = "not_employed"
"""


def last_stage(exits: str) -> str:
    return LAST_STAGE.replace("EXITS", exits)


def test_group_multiplier_lowering_exits_of_a_stage_without_next_is_refused(tmp_path):
    # The reviewer's case: validation accepted it and the engine crashed with KeyError: None for
    # the 40 % of group A whose exits summed to 0.6.
    text = last_stage('{ to = "job", p = 0.5, group_multiplier = { A = 0.2 } }, { to = "out", p = 0.5 }')
    msg = error_of(tmp_path, text)
    assert "stages.search.exits[0].group_multiplier" in msg
    assert "group A" in msg and "sum to 0.6" in msg and "'next'" in msg


def test_logistic_exit_of_a_stage_without_next_is_refused(tmp_path):
    text = last_stage('{ to = "job", p = 0.5 }, { to = "out", p = 0.5, logistic = { age = 0.1 } }')
    msg = error_of(tmp_path, text)
    assert "stages.search.exits[1].logistic" in msg and "'next'" in msg


def test_the_same_exits_with_a_next_stage_load(tmp_path):
    text = (last_stage('{ to = "job", p = 0.5, group_multiplier = { A = 0.2 } }, '
                       '{ to = "out", p = 0.3, logistic = { age = 0.1 } }')
            .replace('exits = [{ to = "job"', 'next = "out"\nexits = [{ to = "job"'))
    assert load_pathway(write(tmp_path, text)).stages["search"].next == "out"


def test_multipliers_that_keep_a_group_at_one_are_accepted_and_run(tmp_path):
    # group A: job 0.5 * 0.5 = 0.25, out 0.5 * 1.5 = 0.75, sum 1: a quarter of A find the job
    text = last_stage('{ to = "job", p = 0.5, group_multiplier = { A = 0.5 } }, '
                      '{ to = "out", p = 0.5, group_multiplier = { A = 1.5 } }')
    pw = load_pathway(write(tmp_path, text))
    n = 4000
    w = World(pathway=pw, horizon_weeks=10, counterfactual=Counterfactual(mode="none"),
              cohorts=[Cohort(name="c", start_week=0, size=n, groups={"A": 1})])
    ev = simulate(w, 3).events.to_pandas()
    hired = ((ev.event == "hired") & (ev.stage == "job")).sum()
    assert ((ev.event == "exited") & (ev.stage == "out")).sum() + hired == n
    assert abs(hired / n - 0.25) < 3.5 * (0.25 * 0.75 / n) ** 0.5


class _AlwaysHigh:
    """A stand-in generator whose uniform draws are all just below 1."""

    def random(self, *args, **kwargs):
        return 1 - 1e-12


def test_exits_summing_to_one_within_rounding_take_everyone(tmp_path):
    # 0.4 + 0.5999999995 is accepted as summing to 1 (tolerance 1e-9); a draw in the gap above
    # the sum used to find no exit and no 'next' (KeyError: None). It must go to an exit.
    exits = '{ to = "job", p = 0.4 }, { to = "out", p = 0.5999999995 }'
    pw = load_pathway(write(tmp_path, last_stage(exits)))
    w = World(pathway=pw, horizon_weeks=10, counterfactual=Counterfactual(mode="none"),
              cohorts=[Cohort(name="c", start_week=0, size=3, groups={"A": 1})])
    streams = Streams.from_seed(1).replace(pathway=_AlwaysHigh())
    ev = simulate(w, streams).events.to_pandas()
    assert (ev.event == "exited").sum() == 3  # the last exit takes the top of the unit interval


# -- initial caseloads part-way through a stage ----------------------------------------------------

STAGES = {
    "fixed": '{ dist = "fixed", value = 4 }',
    "uniform": '{ dist = "uniform", low = 2, high = 6 }',
    "triangular": '{ dist = "triangular", low = 2, mode = 4, high = 8 }',
    "empirical": '{ dist = "empirical", values = [3, 5, 12], weights = [1, 1, 0] }',
    "lognormal": '{ dist = "lognormal", median = 5, sigma = 0 }',  # sigma 0: always 5 weeks
}


@pytest.mark.parametrize("dist, elapsed, upper", [
    ("fixed", 4, 4), ("fixed", 1000, 4), ("uniform", 6, 6), ("triangular", 9, 8),
    ("empirical", 5, 5),  # 12 has weight 0: nobody lasts longer than 5 weeks
    ("lognormal", 6, 5),
])
def test_caseload_that_has_been_in_its_stage_longer_than_it_can_last_is_refused(tmp_path, dist, elapsed,
                                                                                 upper):
    text = VALID.replace('{ dist = "triangular", low = 2, mode = 4, high = 8 }', STAGES[dist])
    pw = load_pathway(write(tmp_path, text))
    with pytest.raises(ValueError, match=rf"cohorts\[1\]\.elapsed_weeks: {elapsed:g} weeks, but stage "
                                         rf"'course' lasts at most {upper:g} weeks"):
        World(pathway=pw, horizon_weeks=52,
              cohorts=[Cohort(name="k", start_week=0, size=3, groups={"A": 1}),
                       Cohort(name="c", start_week=0, size=3, groups={"A": 1}, stage="course",
                              elapsed_weeks=elapsed)])


@pytest.mark.parametrize("dist, elapsed", [
    ("fixed", 3.5), ("uniform", 5.9), ("triangular", 7), ("empirical", 4.9), ("lognormal", 4.5),
])
def test_caseload_part_way_through_its_stage_is_accepted_and_finishes_in_time(tmp_path, dist, elapsed):
    text = VALID.replace('{ dist = "triangular", low = 2, mode = 4, high = 8 }', STAGES[dist])
    pw = load_pathway(write(tmp_path, text))
    w = World(pathway=pw, horizon_weeks=52, counterfactual=Counterfactual(mode="none"),
              cohorts=[Cohort(name="c", start_week=0, size=20, groups={"A": 1}, stage="course",
                              elapsed_weeks=elapsed)])
    sp = simulate(w, 5).spells.to_pandas()
    course = sp[sp.stage == "course"]
    upper = {"fixed": 4, "uniform": 6, "triangular": 8, "empirical": 5, "lognormal": 5}[dist]
    left = course.end - course.start
    assert len(course) == 20 and (left > 0).all() and (left <= upper - elapsed + 1e-9).all()


def test_caseload_in_a_stage_that_ends_the_pathway_cannot_have_elapsed_weeks():
    pw = load_pathway("kongsberg_kull")
    end = next(n for n, st in pw.stages.items() if st.duration is None)
    with pytest.raises(ValueError, match=rf"cohorts\[0\]\.elapsed_weeks: stage '{end}' has no duration"):
        World(pathway=pw, horizon_weeks=52,
              cohorts=[Cohort(name="c", start_week=0, size=3, groups={"A": 1}, stage=end, elapsed_weeks=2)])


# -- the horizon has an upper bound ------------------------------------------------------------------

def test_horizon_of_a_thousand_years_is_the_longest_allowed():
    pw = load_pathway("kongsberg_kull")
    cohorts = [Cohort(name="c", start_week=0, size=3, groups={"A": 1})]
    assert World(pathway=pw, horizon_weeks=52000, cohorts=cohorts).horizon_weeks == 52000
    too_long = r"horizon_weeks: 52000\.5 is too long; at most 52000 weeks \(1000 years\)"
    with pytest.raises(ValueError, match=too_long):
        World(pathway=pw, horizon_weeks=52000.5, cohorts=cohorts)


def test_scenario_with_an_absurd_horizon_is_refused_at_load_naming_the_key():
    from effekt.experiments.scenario import load_scenario  # the scenario reuses World's validation

    with pytest.raises(SpecError) as info:
        load_scenario(assignments=["world.horizon_weeks=1e9"])
    assert "world.horizon_weeks: 1000000000 is too long" in str(info.value)


# -- what a pathway states after leaving: `after` --------------------------------------------------

AFTER_ON_DROPPED = '[stages.dropped]\nkind = "exit"\noutcome = "not_employed"\nafter = {}'


def with_after(value: str) -> str:
    return VALID.replace('[stages.dropped]\nkind = "exit"\noutcome = "not_employed"',
                         AFTER_ON_DROPPED.replace("{}", value))


def test_after_on_an_exit_and_on_a_terminal_job_loads(tmp_path):
    text = with_after("{ entry_rate_multiplier = 1.5, job_loss_multiplier = 0.5, source = \"assumption\" }")
    text = text.replace('employment = { contract = "permanent", fte = 1.0, annual_wage = 450000 }',
                        'employment = { contract = "permanent", fte = 1.0, annual_wage = 450000 }\n'
                        'after = { job_loss_multiplier = 2 }')
    pw = load_pathway(write(tmp_path, text))
    assert pw.stages["dropped"].after.multipliers == (1.5, 0.5)
    assert pw.stages["job"].after.multipliers == (1.0, 2.0)  # an integer is a number; unset keys are 1
    assert pw.stages["rejected"].after is None


@pytest.mark.parametrize(("value", "allowed"), [
    ("{ entry_rate_multiplier = 0 }", "greater than 0"),
    ("{ entry_rate_multiplier = -1.5 }", "greater than 0"),
    ("{ job_loss_multiplier = inf }", "finite number"),
    ("{ entry_rate_multiplier = nan }", "finite number"),
    ("{ entry_rate_multiplier = true }", "valid number"),
    ("{ job_loss_multiplier = \"0.5\" }", "valid number"),
])
def test_after_multipliers_must_be_positive_finite_numbers(tmp_path, value, allowed):
    msg = error_of(tmp_path, with_after(value))
    key = "entry_rate_multiplier" if "entry" in value else "job_loss_multiplier"
    assert f"stages.dropped.after.{key}" in msg and allowed in msg


def test_after_refuses_unknown_keys_with_a_suggestion(tmp_path):
    msg = error_of(tmp_path, with_after("{ entry_multiplier = 1.5 }"))
    assert "stages.dropped.after.entry_multiplier: unknown key" in msg
    assert "did you mean 'entry_rate_multiplier'" in msg
    assert "job_loss_multiplier" in msg  # lists what is allowed


def test_after_only_on_a_stage_through_which_people_leave(tmp_path):
    text = VALID.replace('capacity = "placements"',
                         'capacity = "placements"\nafter = { entry_rate_multiplier = 1.5 }')
    msg = error_of(tmp_path, text)
    assert "stages.training.after" in msg and "exit stage" in msg


def test_after_is_refused_on_a_moved_exit(tmp_path):
    text = with_after("{ entry_rate_multiplier = 1.5 }").replace(
        'outcome = "not_employed"\nafter', 'outcome = "moved"\nafter')
    msg = error_of(tmp_path, text)
    assert "stages.dropped.after" in msg and "moved" in msg


# -- target-group keys of earlier versions are refused, saying what to write instead -------------

def test_a_target_group_file_with_post_entry_rate_is_refused_saying_what_to_do(tmp_path):
    from effekt.sim.people import TargetGroups
    from effekt.specfile import load_spec

    text = (Path(__file__).parents[1] / "sim" / "data" / "target_groups.toml").read_text(encoding="utf-8")
    text = text.replace("bau_job_loss_rate = 0.35  # assumption",
                        "bau_job_loss_rate = 0.35\npost_entry_rate = 0.30")
    path = tmp_path / "groups.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(TargetGroups, path)
    msg = str(info.value)
    assert str(path) in msg and "groups.A: post_entry_rate is no longer a target-group key" in msg
    assert "after = { entry_rate_multiplier" in msg  # what to write instead


@pytest.mark.parametrize(("key", "says"), [
    ("post_entry_rate", "after = { entry_rate_multiplier"),
    ("job_loss_rate", "job_loss_rate is now bau_job_loss_rate"),
])
def test_a_scenario_setting_a_removed_group_key_is_refused_naming_it(key, says):
    from effekt.experiments.scenario import load_scenario

    with pytest.raises(SpecError) as info:
        load_scenario(assignments=[f"world.groups.R.{key}=0.63"])
    msg = str(info.value)
    assert f"world.groups.R: {key}" in msg and says in msg


@pytest.mark.parametrize("bad", ["true", '"0.5"', "inf", "nan"])
def test_a_jobs_numbers_refuse_booleans_strings_and_infinities(bad):
    from effekt.experiments import load_scenario
    from effekt.specfile import SpecError

    key = "pathway.stages.permanent_job.employment.job_loss_multiplier"
    with pytest.raises(SpecError) as err:
        load_scenario(None, [f"{key}={bad}"])
    assert "job_loss_multiplier" in str(err.value)
