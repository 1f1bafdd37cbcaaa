"""Before the workload estimate measures seconds of pilot replications, the command says so on
stderr (issue 14: `effekt validate` of a 400 000-person world was silent for 5-13 s)."""

from __future__ import annotations

from effekt.experiments.cli import _check_workload, _pilot_notice
from effekt.experiments.scenario import load_experiment
from effekt.experiments.workload import PILOT_PERSONS, PILOT_SMALL_PERSONS

NBSP = "\u00a0"


def _default(kull: int | None = None):
    return load_experiment(None, [f"world.cohorts[0].size={kull}"] if kull else [])


def test_a_small_world_is_measured_without_a_word():
    assert _pilot_notice(_default(), "nb") is None and _pilot_notice(_default(), "en") is None


def test_a_large_world_names_its_size_and_the_pilots_in_the_readers_numbers():
    exp = _default(100_000)  # 200 000 people, both arms: two pilots
    nb, en = _pilot_notice(exp, "nb"), _pilot_notice(exp, "en")
    small, large = f"{PILOT_SMALL_PERSONS:,}", f"{PILOT_PERSONS:,}"
    assert nb == (f"Måler tid og minne for en replikasjon av 200{NBSP}000 personer (begge armer) på "
                  f"pilotreplikasjoner av {small.replace(',', NBSP)} og {large.replace(',', NBSP)} "
                  "personer …")
    assert en.startswith("Measuring the time and memory of a replication of 200000 people (both arms)")
    assert f"pilot replications of {small.replace(',', '')} and {large.replace(',', '')} people" in en


def test_a_world_measured_on_itself_says_one_replication(capsys):
    exp = _default(PILOT_SMALL_PERSONS // 2)  # 16 000 people: measured on one replication of itself
    assert _pilot_notice(exp, "en") == ("Measuring the time and memory of one replication of 16000 "
                                        "people (both arms) ...")
    work = _check_workload(exp, 1, refuse=False, lang="nb", cpu=False, notice_on=True)
    assert work.measured and work.persons == 16_000
    err = capsys.readouterr().err
    assert err.strip() == f"Måler tid og minne på én replikasjon av 16{NBSP}000 personer (begge armer) …"
    _check_workload(exp, 1, refuse=False, lang="nb", cpu=False, notice_on=False)  # -q: nothing
    assert capsys.readouterr().err == ""
