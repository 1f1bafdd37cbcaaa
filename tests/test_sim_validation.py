"""Bad pathway files fail when loaded, with a message naming the file, the stage and the key.

Each test writes a small pathway file that differs from a valid one in one place and checks the
error says where (file path and dotted key) and what is allowed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import SpecError, World, load_pathway
from sim.people import Cohort
from sim.specfile import validate

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
