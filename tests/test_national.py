"""The national run: the kommune file, the national scenario file, shards and their sums.

A small national scenario (three kommuner of four people, four replications) is run serially; its
national totals must equal the sum of its kommune shards' values replication by replication, each
kommune's results must equal running that kommune alone as an ordinary scenario with the same seed,
and the stored tables must not depend on how the replications are chunked into shards, nor on an
interruption and resume. The Dask loopback test is in test_national_dask.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from effekt.experiments.batch import run_batch
from effekt.experiments.executors import SerialExecutor
from effekt.experiments.national.aggregate import (
    additive,
    budget_summary,
    kpi_summary,
    per_replication,
    read_runs,
)
from effekt.experiments.national.kommuner import KOMMUNER_FILE, read_kommuner, split_by_population
from effekt.experiments.national.run import run_national
from effekt.experiments.national.spec import (
    NATIONAL_FILE,
    kommune_seed,
    load_national,
    split_size,
    with_size_and_seed,
)
from effekt.experiments.scenario import default_scenario_path, load_scenario, read_tree, resolve
from effekt.experiments.store import read_kpis
from effekt.experiments.store import read_table as table
from effekt.specfile import SpecError

DEFAULT = default_scenario_path()
SMALL = ["3303", "1151", "4601"]  # Kongsberg, Utsira, Bergen
REPS = 4


def national_file(tmp_path: Path, extra: str = "", national: str = "") -> Path:
    """A national scenario of three kommuner of four people (take-up 0.0001 of at most 21 040 people
    outside work, Bergen's, rounds to at most 2, so the minimum size of 4 decides)."""
    path = tmp_path / "small_national.toml"
    path.write_text(f"""
[national]
name = "small_national"
scenario = "{DEFAULT.as_posix()}"
take_up = 0.0001
min_size = 4
replications = {REPS}
seed = 7
include = {SMALL!r}
{national}
{extra}
""".replace("'", '"'), encoding="utf-8")
    return path




@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("national")
    nat = load_national(national_file(tmp))
    out = tmp / "out"
    run_national(nat, out, SerialExecutor(), progress=False)
    return nat, out


# --- the kommune file ------------------------------------------------------------------------------

def test_the_shipped_kommune_file_is_klass_131_with_357_kommuner_in_15_fylker():
    table_ = read_kommuner()
    numbers = [k.number for k in table_.kommuner]
    assert len(numbers) == 357 == len(set(numbers))
    assert len(table_.fylker) == 15
    by = table_.by_number
    assert (by["0301"].fylke_name, by["3303"].name) == ("Oslo", "Kongsberg")
    assert by["3303"].fylke_name == "Buskerud"
    assert by["4601"].name == "Bergen" and by["4601"].fylke == "46"
    assert all(k.number[:2] == k.fylke for k in table_.kommuner)
    # every figure that cannot be checked here says so, and the header names the SSB classification
    assert all(k.is_assumption for k in table_.kommuner)
    head = KOMMUNER_FILE.read_text(encoding="utf-8").split("kommunenummer,")[0]
    assert "Klass, classification 131" in head and "assumption" in head


def test_people_outside_work_are_400_000_split_by_population_share():
    from fractions import Fraction

    table_ = read_kommuner()
    by = table_.by_number
    assert all(k.population is not None and k.population > 0 for k in table_.kommuner)
    whole = sum(k.population for k in table_.kommuner)
    assert whole == 5_550_203  # the header's sum (SSB's national figure at 1 January 2024)
    assert sum(k.people_outside_work for k in table_.kommuner) == 400_000
    for k in table_.kommuner:  # each share is its exact share rounded down or up, nothing else
        exact = Fraction(400_000 * k.population, whole)
        assert int(exact) <= k.people_outside_work <= int(exact) + 1, k.number
    # hand-checked: Oslo 400 000 x 717 710 / 5 550 203 = 51 725.4; Utsira 400 000 x 215 / 5 550 203 = 15.5
    assert (by["0301"].population, by["0301"].people_outside_work) == (717_710, 51_725)
    assert (by["1151"].population, by["1151"].people_outside_work) == (215, 15)
    assert by["0301"].people_outside_work > 3000 * by["1151"].people_outside_work
    # the figures' origin is named on each row and in the header, honestly
    assert all("norway-geodata" in k.population_source for k in table_.kommuner)
    head = KOMMUNER_FILE.read_text(encoding="utf-8").split("kommunenummer,")[0]
    assert "aprestmo/norway-geodata" in head and "1961675b35423e17b0db60f6494d66ab657efcde" in head
    assert "does not say where its figures come" in head and "400 000 x population / 5 550 203" in head


def test_split_by_population_is_largest_remainder_with_ties_to_the_lowest_number():
    assert split_by_population({"0002": 1, "0001": 1, "0003": 1}, 10) == {"0001": 4, "0002": 3, "0003": 3}
    assert split_by_population({"0001": 3, "0002": 1}, 10) == {"0001": 8, "0002": 2}  # 7.5, 2.5: tie -> 0001
    assert split_by_population({"0001": 0, "0002": 5}, 7) == {"0001": 0, "0002": 7}
    with pytest.raises(ValueError):
        split_by_population({"0001": 0}, 5)


def test_a_kommune_file_without_population_columns_still_reads_and_a_gap_must_say_so(tmp_path):
    old = tmp_path / "old.csv"
    old.write_text("kommunenummer,kommune,fylkesnummer,fylke,people_outside_work,people_source\n"
                   "3303,Kongsberg,33,Buskerud,1000,SSB\n", encoding="utf-8")
    (k,) = read_kommuner(old).kommuner
    assert k.population is None and k.people_outside_work == 1000
    head = ("kommunenummer,kommune,fylkesnummer,fylke,population,population_source,people_outside_work,"
            "people_source\n")
    gap = tmp_path / "gap.csv"
    gap.write_text(head + "3303,Kongsberg,33,Buskerud,,missing: not published,1000,SSB\n"
                   "1151,Utsira,11,Rogaland,,,10,SSB\n"
                   "4601,Bergen,46,Vestland,1 000,,10,SSB\n", encoding="utf-8")
    with pytest.raises(SpecError) as err:
        read_kommuner(gap)
    text = str(err.value)
    assert "row 3, population_source: the population is empty: say 'missing: <why>'" in text
    assert "row 4, population_source: name where the population figure comes from" in text
    assert "row 2" not in text  # an empty figure marked missing is allowed
    ok = tmp_path / "ok.csv"
    ok.write_text(head + "3303,Kongsberg,33,Buskerud,,missing: not published,1000,SSB\n", encoding="utf-8")
    assert read_kommuner(ok).kommuner[0].population is None


def test_a_bad_kommune_file_is_refused_naming_the_row_and_column(tmp_path):
    path = tmp_path / "k.csv"
    path.write_text("# comment\nkommunenummer,kommune,fylkesnummer,fylke,people_outside_work,people_source\n"
                    "3303,Kongsberg,33,Buskerud,1000,SSB\n"
                    "3303,Kongsberg,33,Buskerud,1000,SSB\n"
                    "331,Kort,33,Buskerud,10,SSB\n"
                    "4601,Bergen,11,Vestland,-5,\n", encoding="utf-8")
    with pytest.raises(SpecError) as err:
        read_kommuner(path)
    text = str(err.value)
    assert str(path) in text
    assert "row 3, kommunenummer: 3303 repeats row 2" in text
    assert "row 4, kommunenummer: '331' is not four digits" in text
    assert "row 5, fylkesnummer: 11, but kommune 4601 is in fylke 46" in text
    assert "row 5, people_outside_work: '-5'" in text
    assert "row 5, people_source: empty" in text


def test_a_kommune_file_with_other_columns_says_which():
    with pytest.raises(SpecError, match="missing people_source; unknown source"):
        path = Path(__file__).parent / "_no_such.csv"
        try:
            path.write_text("kommunenummer,kommune,fylkesnummer,fylke,people_outside_work,source\n")
            read_kommuner(path)
        finally:
            path.unlink(missing_ok=True)


# --- the national file --------------------------------------------------------------------------------

def test_the_built_in_national_scenario_has_every_kommune_with_its_own_seed():
    nat = load_national()
    assert nat.source == str(NATIONAL_FILE)
    assert len(nat.points) == 357 and len(nat.variants) == 1
    size = {p["kommune"]: p["size"] for p in nat.points}
    # 0.0125 x the people outside work, rounded, at least 4: Oslo 0.0125 x 51 725 = 646.6, Kongsberg
    # 0.0125 x 2 079 = 26.0 (a Kongsberg kull of 12-16 is about half of that), Utsira 0.0125 x 15 -> 4
    assert (size["0301"], size["3303"], size["1151"]) == (647, 26, 4)
    assert min(size.values()) == 4
    seeds = [p["seed"] for p in nat.points]
    assert len(set(seeds)) == 357
    assert nat.points[0]["seed"] == kommune_seed(20261201, nat.points[0]["kommune"])


@pytest.mark.parametrize("extra, expected", [
    ('take_upp = 0.1', "national.take_upp"),
    ('[fylke."47"]\ntake_up = 0.1', "fylke.'47': no fylke 47"),
    ('[kommune."3399"]\ntake_up = 0.1', "kommune.'3399': no kommune 3399"),
    ('[kommune."3303"]\nset = { "world.cohorts[0].sizee" = 3 }', "kommune.'3303' (3303 Kongsberg)"),
    ('[kommune."3303"]\ncontract = "no_such_template"', "kommune.'3303'.contract"),
    ('[fylke."46"]\ntake_up = 2', "fylke.46.take_up"),
    ('[kommune."3303"]\npeople = 5', "kommune.3303.people"),
])
def test_a_bad_national_file_is_refused_naming_the_file_and_key(tmp_path, extra, expected):
    national = extra if extra.startswith("take_upp") else ""
    path = national_file(tmp_path, "" if national else extra, national)
    with pytest.raises(SpecError) as err:
        load_national(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_include_must_name_kommuner_or_fylker(tmp_path):
    with pytest.raises(SpecError, match="--kommune: '9999' is neither"):
        load_national(national_file(tmp_path), include=["9999"])
    assert len(load_national(national_file(tmp_path), include=["46"]).points) == 43  # Vestland


def test_overrides_kommune_over_fylke_over_national(tmp_path):
    path = national_file(tmp_path, '[fylke."46"]\ntake_up = 0.01\n'
                                   '[kommune."3303"]\npeople_outside_work = 2000\ntake_up = 0.005\n'
                                   'set = { "world.horizon_weeks" = 208 }\n')
    nat = load_national(path)
    size = {p["kommune"]: p["size"] for p in nat.points}
    assert size == {"3303": 10, "1151": 4, "4601": 210}  # 0.005 x 2000; min 4; 0.01 x 21 040 = 210.4
    kongsberg = nat.scenario_of([p["kommune"] for p in nat.points].index("3303"))
    assert kongsberg.world.horizon_weeks == 208 and len(nat.variants) == 2


def test_split_size_is_proportional_by_largest_remainder():
    assert split_size(14, [14]) == [14]
    assert split_size(10, [2, 1, 1]) == [4, 3, 3]  # 7 over (.5, .25, .25) = 3.5, 1.75, 1.75, then +1 each
    assert sum(split_size(1000, [3, 5, 7])) == 1000
    with pytest.raises(ValueError):
        split_size(2, [1, 1, 1])


def test_a_kommune_scenario_equals_resolving_its_size_and_seed():
    base = load_scenario(DEFAULT)
    patched = with_size_and_seed(base, [9], 12345, 17)
    direct = resolve(read_tree(DEFAULT).with_values({"world.cohorts[0].size": 9, "design.seed": 12345,
                                                     "design.replications": 17}))
    assert patched.world == direct.world
    assert patched.design == direct.design
    assert patched.resolved == direct.resolved and patched.hash == direct.hash


# --- the run and its sums -----------------------------------------------------------------------------

def test_every_stored_table_has_a_kommune_column(small_run):
    nat, out = small_run
    for ds in ("runs", "cashflows", "budgets"):
        df = table(out, ds)
        by_point = df.groupby("point")["kommune"].unique()
        expected = {k: [p["kommune"]] for k, p in enumerate(nat.points)}
        assert {p: list(v) for p, v in by_point.items()} == expected
    runs = table(out, "runs")
    assert set(runs["fylke"]) == {"33", "11", "46"} and set(runs["size"]) == {4}
    assert (runs.groupby("kommune")["participants"].max() <= 4).all()


def test_national_totals_are_the_sum_of_the_kommune_shards(small_run):
    nat, out = small_run
    raw = table(out, "runs")  # read independently of the aggregation code
    runs = read_runs(out)
    kpis = additive(read_kpis(out))
    assert "fiscal_npv_total" in kpis and "participants" in kpis and "investor_irr" not in kpis
    # peaks and losses of separate contracts are no national totals (review 14)
    assert "investor_peak_capital" not in kpis and "investor_loss_amount" not in kpis
    national = per_replication(runs, "national", kpis).set_index("replication")
    for k in ("participants", "additional_outcomes", "fiscal_npv_total", "outcome_payments"):
        expected = raw.groupby("replication")[k].sum()
        np.testing.assert_allclose(national[k].to_numpy(), expected.to_numpy(), rtol=1e-12)
    summary = kpi_summary(runs, "national", ["fiscal_npv_total"]).iloc[0]
    by_rep = raw.groupby("replication")["fiscal_npv_total"].sum()
    assert summary["fiscal_npv_total"] == pytest.approx(by_rep.mean())
    fylke = kpi_summary(runs, "fylke", ["participants"], nat.table.fylker).set_index("code")
    assert fylke.loc["46", "name"] == "Vestland"
    assert fylke["participants"].sum() == pytest.approx(summary_participants(raw))
    # budgets: the nation's party budget is the kommuner's, mean per replication
    b = table(out, "budgets")
    b = b[b["arm"] == "difference"]
    nat_b = budget_summary(out, "national").set_index("party")["amount_discounted"]
    expected_b = b.groupby("party")["amount_discounted"].sum() / REPS
    np.testing.assert_allclose(nat_b.sort_index().to_numpy(), expected_b.sort_index().to_numpy(), rtol=1e-9,
                               atol=1e-6)
    per_k = budget_summary(out, "kommune")
    np.testing.assert_allclose(per_k.groupby("party")["amount_discounted"].sum().sort_index().to_numpy(),
                               nat_b.sort_index().to_numpy(), rtol=1e-9, atol=1e-6)


def summary_participants(raw: pd.DataFrame) -> float:
    return raw.groupby("replication")["participants"].sum().mean()


def test_a_kommune_alone_gives_its_shard_of_the_national_run(small_run, tmp_path):
    nat, out = small_run
    runs = table(out, "runs")
    k = [p["kommune"] for p in nat.points].index("1151")
    point = nat.points[k]
    alone = load_scenario(DEFAULT, [f"world.cohorts[0].size={point['size']}", f"design.seed={point['seed']}",
                                    f"design.replications={REPS}"])
    run_batch(alone, tmp_path / "alone", SerialExecutor(), progress=False)
    own = table(tmp_path / "alone", "runs")
    mine = runs[runs["point"] == k].reset_index(drop=True)
    kpis = [c for c in own.columns if c not in ("point", "replication")]
    pd.testing.assert_frame_equal(mine[["replication", *kpis]], own[["replication", *kpis]],
                                  check_dtype=False)
    b_own = table(tmp_path / "alone", "budgets").drop(columns=["point"])
    b_mine = table(out, "budgets")
    b_mine = b_mine[b_mine["point"] == k].drop(columns=["point", "kommune"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(b_mine, b_own[b_mine.columns], check_dtype=False)


def test_shards_of_another_size_and_a_resume_give_the_same_tables(small_run, tmp_path):
    nat, out = small_run
    other = tmp_path / "chunked"
    run_national(nat, other, SerialExecutor(), chunk=1, progress=False)
    for ds in ("runs", "budgets"):
        pd.testing.assert_frame_equal(table(out, ds), table(other, ds))
    # interrupt: remove one kommune's last shard and run the same command again
    for path in other.glob("*/point=1/*-0000004.parquet"):
        path.unlink()
    run_national(nat, other, SerialExecutor(), progress=False)
    pd.testing.assert_frame_equal(table(out, "runs"), table(other, "runs"))


def test_shards_are_about_a_second_of_work_within_the_replications(small_run):
    """Shards are sized as any batch's tasks (timed on the first shards of the kommune of median
    size, stored as results): at least one replication, never more than the replications."""
    import json

    nat, out = small_run
    chunk = json.loads((out / "manifest.json").read_text())["chunk"]
    assert 1 <= chunk <= REPS
    # the run chose its shards the same way: every kommune's replications in one or more shards
    files = sorted((out / "runs").glob("point=0/*.parquet"))
    assert files and sum(int(f.stem.split("-")[2]) - int(f.stem.split("-")[1][1:]) for f in files) == REPS


def test_the_cli_prints_the_nation_and_its_fylker_in_both_languages(tmp_path, small_run):
    from effekt.experiments.cli import main

    _, out = small_run
    path = national_file(tmp_path)
    for lang, words in (("en", ["Norway", "Fylker", "the state", "Vestland"]),
                        ("nb", ["Hele landet", "Fylker", "staten", "Vestland"])):
        res = CliRunner().invoke(main, ["national", str(path), "--out", str(out), "--workers", "1",
                                        "--lang", lang])
        assert res.exit_code == 0, res.output
        for w in words:
            assert w in res.output
    assert (out / "national_summary.csv").exists()
    summary = pd.read_csv(out / "national_summary.csv", dtype={"code": str})
    assert set(summary["level"]) == {"national", "fylke", "kommune"}
    assert len(summary[summary["level"] == "kommune"]) == 3


@pytest.mark.parametrize("command", [["report"], ["summary"], ["export", "--xlsx", "{tmp}/n.xlsx"],
                                     ["export", "--csv", "{tmp}/csv"]])
def test_report_summary_and_export_refuse_a_national_run_naming_its_own_outputs(small_run, tmp_path, command):
    from effekt.experiments.cli import main

    _, out = small_run
    args = [c.format(tmp=tmp_path) for c in command]
    for lang, words, again in (
            ("en", "holds the results of a national run (3 kommuner)", "again with: effekt"),
            ("nb", "er resultatene av en nasjonal kjøring (3 kommuner)", "igjen med: effekt")):
        res = CliRunner().invoke(main, [args[0], str(out), *args[1:], "--lang", lang])
        assert res.exit_code == 2, res.output
        assert words in res.output and f"'effekt {args[0]}'" in res.output
        assert "national_summary.csv" in res.output and again in res.output  # the manifest's command
    assert not (tmp_path / "n.xlsx").exists() and not (out / "report.html").exists()


def test_an_ordinary_results_directory_is_not_taken_for_a_national_one(small_run, tmp_path):
    from effekt.experiments.national.results import national_manifest, refuse_national

    _, out = small_run
    assert national_manifest(out)["parameters"][:2] == ["kommune", "kommune_name"]
    alone = load_scenario(DEFAULT, ["world.cohorts[0].size=4", "design.replications=2"])
    run_batch(alone, tmp_path / "alone", SerialExecutor(), progress=False)
    assert national_manifest(tmp_path / "alone") is None and national_manifest(tmp_path / "nowhere") is None
    refuse_national(tmp_path / "alone", "report", "en")  # no error


def test_the_cli_refuses_a_bad_file_with_exit_2(tmp_path):
    from effekt.experiments.cli import main

    path = national_file(tmp_path, '[kommune."3399"]\ntake_up = 0.1')
    res = CliRunner().invoke(main, ["national", str(path), "--out", str(tmp_path / "o"), "--lang", "en"])
    assert res.exit_code == 2
    assert "no kommune 3399" in res.output


def test_shards_hold_all_of_a_kommunes_replications_or_one_by_the_time_they_take(tmp_path, monkeypatch):
    """With a target no shard reaches, a shard holds the most a task may (all of a kommune's
    replications, or fewer so that the one worker still gets about four shards: three kommuner of
    four replications, ceil(12 / 4) = 3); with a target the first replication alone is over, every
    shard is one replication."""
    import json

    from effekt.experiments import batch

    nat = load_national(national_file(tmp_path))
    monkeypatch.setattr(batch, "TASK_SECONDS", 1e9)
    run_national(nat, tmp_path / "long", SerialExecutor(), progress=False)
    assert len(nat.points) == 3
    chunk = json.loads((tmp_path / "long" / "manifest.json").read_text())["chunk"]
    assert chunk == min(REPS, -(-3 * REPS // 4))
    monkeypatch.setattr(batch, "TASK_SECONDS", 0.0)
    run_national(nat, tmp_path / "short", SerialExecutor(), progress=False)
    assert json.loads((tmp_path / "short" / "manifest.json").read_text())["chunk"] == 1
    files = list((tmp_path / "short" / "runs").glob("point=*/*.parquet"))
    assert files and all(int(f.stem.split("-")[2]) - int(f.stem.split("-")[1][1:]) == 1 for f in files)
