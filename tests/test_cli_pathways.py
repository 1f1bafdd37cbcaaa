"""`effekt pathways list` and `effekt pathways show NAME`, through click's CliRunner.

Expected values are read from the TOML files themselves (stage counts, names) or computed by hand
(a triangular mean), never from the code that prints them.
"""

from __future__ import annotations

import tomllib
from itertools import takewhile
from pathlib import Path

import pytest
from click.testing import CliRunner

from effekt.experiments.cli import main
from effekt.experiments.cli_pathways import describe_duration
from effekt.priors import find_priors, point_values, with_values
from effekt.sim.distributions import Triangular, Uniform

PATHWAYS = Path(__file__).parents[1] / "sim" / "pathways"
BUILT_IN = sorted(p.stem for p in PATHWAYS.glob("*.toml"))


def _toml(name: str) -> dict:
    """The file as a table, numbers given as priors at their point values (what show shows)."""
    with (PATHWAYS / f"{name}.toml").open("rb") as f:
        data = tomllib.load(f)
    return with_values(data, point_values(find_priors(data)[0]))


def _invoke(*args: str):
    return CliRunner().invoke(main, ["pathways", *args, "--lang", "en"])


def test_the_six_seed_pathways_are_built_in():
    assert {"kongsberg_kull", "gloppen", "fjell_project_jobs", "baerum_pilot",
            "lyngdal_en_av_mange", "enkla_jobb"} <= set(BUILT_IN)


def test_list_shows_every_built_in_with_its_stage_count_title_and_source():
    r = _invoke("list")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    for name in BUILT_IN:
        data = _toml(name)
        row = next(line for line in lines if line.startswith(name + " "))
        assert row.split()[1] == str(len(data["stages"]))
        assert data["pathway"]["title"] in row
        assert data["pathway"]["source"] in r.output


def test_show_outlines_every_stage_with_kind_durations_exits_capacity_and_jobs():
    r = _invoke("show", "gloppen")
    assert r.exit_code == 0, r.output
    out = r.output
    for name, stage in _toml("gloppen")["stages"].items():
        assert name in out
        if stage["kind"] != "exit":
            assert f"{name}  [{stage['kind']}]" in out
    assert "class_seats: 12 slots" in out
    assert "needs: class_seats (12 slots)" in out
    assert "fixed 104 weeks" in out
    assert "uniform 8-26 weeks, mean 17 weeks" in out  # (8 + 26) / 2
    assert "15 % -> not_selected" in out
    assert "85 % -> practice_period (next)" in out  # the rest goes to next
    assert "permanent, 80 % FTE, 448\u202f000 NOK/yr" in out
    # exit stages are listed last, with their outcome
    ends = out.split("\nEnds\n")[1]
    assert "moved_away" in ends and "moved away" in ends
    assert "dropped_out" in ends and "not employed" in ends


@pytest.mark.parametrize("name", BUILT_IN)
def test_show_says_what_each_end_states_after_leaving(name):
    # read from the file: an end with `after` shows its multipliers, one without says business as usual
    out = _invoke("show", name).output
    ends = out.split("\nEnds\n")[1].splitlines()
    for stage_name, stage in _toml(name)["stages"].items():
        if stage["kind"] != "exit" or stage["outcome"] == "moved":
            continue
        line = next(x for x in ends if x.strip().startswith(stage_name + ":"))
        after = stage.get("after")
        if after is None:
            assert line.endswith("then business as usual)"), line
        else:
            assert f"job finding x{after['entry_rate_multiplier']:g} (stated)" in line, line
    for stage_name, stage in _toml(name)["stages"].items():
        if stage["kind"] == "employment" and "after" in stage:
            lines = out.splitlines()
            start = next(i for i, x in enumerate(lines) if x.startswith(f"  {stage_name}  [employment]"))
            block = "\n".join(takewhile(lambda x: x.startswith("      "), lines[start + 1:]))
            mult = stage["after"]["entry_rate_multiplier"]
            assert f"once this job is lost: business as usual, job finding x{mult:g} (stated)" in block


@pytest.mark.parametrize("name", BUILT_IN)
def test_show_works_for_every_built_in(name):
    r = _invoke("show", name)
    assert r.exit_code == 0, r.output
    assert _toml(name)["pathway"]["title"] in r.output


def test_show_reads_a_users_copy_of_a_pathway(tmp_path):
    text = (PATHWAYS / "kongsberg_kull.toml").read_text(encoding="utf-8")
    text = text.replace('name = "kongsberg_kull"', 'name = "my_kull"').replace("slots = 10", "slots = 3")
    path = tmp_path / "my_kull.toml"
    path.write_text(text, encoding="utf-8")
    r = _invoke("show", str(path))
    assert r.exit_code == 0, r.output
    assert "[my_kull]" in r.output
    assert "placements: 3 slots" in r.output


def test_show_unknown_name_is_a_clear_error():
    r = _invoke("show", "kongsbergg")
    assert r.exit_code == 2
    assert "kongsbergg" in r.output and "kongsberg_kull" in r.output
    assert "Traceback" not in r.output


def test_show_bad_file_names_the_file_the_stage_and_the_key(tmp_path):
    text = (PATHWAYS / "kongsberg_kull.toml").read_text(encoding="utf-8")
    path = tmp_path / "bad.toml"
    path.write_text(text.replace('{ to = "dropped_out", p = 0.05 }', '{ to = "dropped_out", p = 1.5 }'),
                    encoding="utf-8")
    r = _invoke("show", str(path))
    assert r.exit_code == 2
    assert "bad.toml" in r.output and "stages.course" in r.output and ".p" in r.output


def test_duration_descriptions_give_the_mean():
    assert describe_duration(Triangular(dist="triangular", low=12, mode=26, high=52)).endswith(
        "mean 30 weeks")  # (12 + 26 + 52) / 3
    assert describe_duration(Uniform(dist="uniform", low=2, high=8)).endswith("mean 5 weeks")


def test_the_example_in_the_docs_is_a_valid_pathway_that_runs(tmp_path):
    doc = (Path(__file__).parents[1] / "docs" / "pathways.md").read_text(encoding="utf-8")
    example = doc.split("### A complete small example", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    path = tmp_path / "my_kull.toml"
    path.write_text(example, encoding="utf-8")
    r = _invoke("show", str(path))
    assert r.exit_code == 0, r.output
    assert "placements: 6 slots" in r.output
    assert "triangular 8-20 weeks, mode 12, mean 13.3 weeks" in r.output  # (8 + 12 + 20) / 3
    assert "35 % -> job; group x D 1.3" in r.output
    assert "50 % -> no_job (next" in r.output  # 1 - 0.15 - 0.35 (for people outside group D)


def test_show_explains_person_dependent_exits():
    r = _invoke("show", "baerum_pilot")
    assert r.exit_code == 0, r.output
    line = next(x for x in r.output.splitlines() if "-> not_selected" in x)
    assert "norwegian -2" in line and "reference person" in line


def test_a_user_can_copy_change_and_run_a_pathway_without_python(tmp_path):
    text = (PATHWAYS / "gloppen.toml").read_text(encoding="utf-8")
    (tmp_path / "our_class.toml").write_text(
        text.replace('name = "gloppen"', 'name = "our_class"').replace("slots = 12", "slots = 8"),
        encoding="utf-8")
    scenario = tmp_path / "our_scenario.toml"
    scenario.write_text("""
[scenario]
name = "our_class"
title = "Our own Gloppen-style class"
currency = "NOK"
price_year = 2025
G = 130160
discount_rate = 0.04

[world]
horizon_weeks = 130
counterfactual = { mode = "parallel" }

[[world.cohorts]]
name = "class"
start_week = 0
size = 10
groups = { R = 1.0 }

[pathway]
template = "our_class.toml"

[contract]
template = "kongsberg_outcomes"

[design]
replications = 3
seed = 1
""", encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", str(scenario)])
    assert r.exit_code == 0, r.output
    assert "our_class" in r.output
    r = CliRunner().invoke(main, ["run", str(scenario), "--workers", "1", "--quiet",
                                  "--out", str(tmp_path / "res")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "res" / "manifest.json").exists()
