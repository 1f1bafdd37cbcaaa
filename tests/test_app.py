"""``effekt app`` without a browser: the form becomes the scenario file it says, validated with the
scenario rules' own messages placed beside the right field; bad input never raises; variants are
compared paired by replication under common random numbers; cancel stops between tasks; the JSON
API answers bad requests with messages; the command refuses politely without the extra and warns
about --host."""

from __future__ import annotations

import json
import math
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from effekt.experiments.app import form as forms
from effekt.experiments.app.jobs import Cancelled, _Watched
from effekt.experiments.app.labels import LABELS
from effekt.experiments.executors import SerialExecutor
from effekt.experiments.scenario import load_experiment
from effekt.specfile import SpecError, problem_text

ROOT = Path(__file__).resolve().parents[1]
KONGSBERG = ROOT / "contracts" / "templates" / "kongsberg_outcomes.toml"


def _problems(assignments: list[str]) -> list[str]:
    """What ``effekt run --set ...`` says of the default scenario with ``assignments``."""
    with pytest.raises(SpecError) as err:
        load_experiment(None, assignments, sweep=False)
    return err.value.problems


def test_every_label_in_both_languages():
    assert set(LABELS["nb"]) == set(LABELS["en"])
    assert all(v.strip() for lang in LABELS.values() for v in lang.values())
    assert LABELS["nb"]["run"] == "Kjør" and LABELS["en"]["run"] == "Run"


def test_defaults_are_the_scenario_and_its_template():
    d = forms.defaults()
    template = tomllib.loads(KONGSBERG.read_text(encoding="utf-8"))
    assert d["pathway"] == "kongsberg_kull" and d["contract"] == "kongsberg_outcomes"
    assert d["cohort_size"] == 14 and d["replications"] == 300
    assert d["prices"] == template["prices"] and d["caps"] == template["caps"]
    assert d["commissioners"] == template["commissioners"]
    assert d["term_months"] == template["contract"]["term_months"]
    assert sum(d["groups"].values()) == pytest.approx(1.0)


def test_the_form_becomes_the_scenario_file_it_says(tmp_path):
    f = {**forms.defaults(), "cohort_size": "20", "prices": {"job_start": "60000"}, "replications": "7",
         "seed": "5", "commissioners": {"kommune": "0.25", "state": "0.75"}}
    text = forms.scenario_text(f)
    data = tomllib.loads(text)
    assert data["world"]["cohorts"][0]["size"] == 20
    assert data["contract"]["prices"] == {"job_start": 60000}  # the rest from the template
    assert data["contract"]["commissioners"] == {"kommune": 0.25, "state": 0.75}
    assert data["design"] == {"replications": 7, "seed": 5}
    checked = forms.check(f, tmp_path)
    assert checked.ok and checked.errors == {}
    again = load_experiment(tmp_path / "scenario.toml", sweep=False)  # what effekt run reads
    assert again.hash == checked.experiment.hash
    assert again.base.resolved["contract"]["prices"]["job_start"] == 60000
    assert again.base.resolved["contract"]["prices"]["job_sustained"] == 90000
    assert again.replications == 7 and again.base.design.seed == 5


@pytest.mark.parametrize(("field", "value", "assignment"), [
    ("cohort_size", "0", "world.cohorts[0].size=0"),
    ("replications", "0", "design.replications=0"),
    ("horizon_weeks", "20", "world.horizon_weeks=20"),
    ("commissioners", {"kommune": "0.7", "state": "0.5"}, "contract.commissioners.kommune=0.7"),
    ("groups", {"A": "0.5", "B": "0.3"}, "world.cohorts[0].groups={A=0.5,B=0.3}"),
    ("caps", {"per_person": "-1"}, "contract.caps.per_person=-1"),
])
def test_a_bad_field_gets_the_scenario_rules_message(field, value, assignment):
    f = {**forms.defaults(), field: value}
    checked = forms.check(f)
    assert not checked.ok
    where = "caps.per_person" if field == "caps" else field
    assert checked.errors == {where: _problems([assignment])}


def test_problems_go_to_the_field_their_key_names():
    f = {"prices": {"job_start": 1}, "caps": {"contract": 1}}
    cases = {
        "world.cohorts[0].size: Input should be greater than or equal to 1": "cohort_size",
        "world.cohorts[0]: group shares sum to 0.8, not 1": "groups",
        "world.cohorts[0].groups.A: bad": "groups",
        "contract.prices.job_start: Input should be a number": "prices.job_start",
        "contract.caps.contract: Input should be greater than 0": "caps.contract",
        "contract.commissioners: shares sum to 1.2, not 1": "commissioners",
        "world.horizon_weeks (20) is shorter than the contract": "horizon_weeks",
        "design.seed: Input should be greater than or equal to 0": "seed",
        "world.cohortsx: no such key": forms.GENERAL,
        "something without a key": forms.GENERAL,
        "": forms.GENERAL,
    }
    for problem, field in cases.items():
        assert forms.field_of(problem, f) == field, problem


@pytest.mark.parametrize("bad", [
    {"cohort_size": [1, 2]}, {"cohort_size": "fjorten"}, {"groups": {"A": "x"}}, {"prices": {"nope": 5}},
    {"prices": "45000"}, {"replications": "-3"}, {"seed": "-1"}, {"base": "/no/such/file.toml"},
    {"pathway": "no_such_pathway"}, {"contract": "no_such_contract"}, {"term_months": "1e400"},
    {"horizon_weeks": float("nan")}, {"cohort_size": "14 000"}, {"groups": {"Ø": 1}},
])
def test_bad_input_never_raises(bad):
    checked = forms.check({**forms.defaults(), **bad})
    assert not checked.ok
    assert checked.errors and all(isinstance(m, str) and m for ms in checked.errors.values() for m in ms)


def test_another_pathway_and_template_leave_the_old_ones_edits_behind():
    g = forms.defaults(None, "gloppen", "gloppen_outcomes")
    assert set(g["prices"]) == {"fagbrev", "job_sustained"}
    checked = forms.check({**g, "horizon_weeks": 300, "replications": 3})
    assert checked.ok, checked.errors
    data = tomllib.loads(checked.toml)
    assert data["pathway"] == {"template": "gloppen"}
    assert data["contract"]["prices"]["fagbrev"] == g["prices"]["fagbrev"]


def test_a_file_with_relative_templates_runs_from_anywhere():
    k = forms.defaults("koto_sib")
    checked = forms.check(k)
    assert checked.ok, checked.errors
    ref = Path(tomllib.loads(checked.toml)["pathway"]["template"])
    assert ref.is_absolute() and ref.exists()


def _run(tmp_path: Path, name: str, **form) -> Path:
    from effekt.experiments.batch import run_batch

    checked = forms.check({**forms.defaults(), "replications": 6, **form}, tmp_path / name)
    assert checked.ok, checked.errors
    out = tmp_path / name / "results"
    run_batch(checked.experiment, out, executor=SerialExecutor(), progress=False)
    return out


@pytest.mark.slow  # three small runs, about 6 s
def test_variants_are_compared_paired_under_common_random_numbers(tmp_path):
    from effekt.experiments.app.results import compare
    from effekt.experiments.summary import load_runs

    a = _run(tmp_path, "a")
    b = _run(tmp_path, "b", prices={"job_start": 90000})
    c = _run(tmp_path, "c", seed=7)
    table = compare([("a", a), ("b", b)], "en")
    assert table["crn"] is True and table["names"] == ["a", "b"]
    rows = {r["kpi"]: r["cells"] for r in table["rows"]}
    # a price moves no one: under the same seed every replication's people are the same
    assert rows["in_work_12m_treatment"][1]["diff"] == 0.0
    same = rows["in_work_12m_treatment"][1]
    assert same["diff_low"] == same["diff_high"] == 0.0
    ra, rb = load_runs(a).set_index("replication"), load_runs(b).set_index("replication")
    d = (rb["outcome_payments"] - ra["outcome_payments"]).to_numpy()
    half = 1.96 * d.std(ddof=1) / math.sqrt(len(d))
    cell = rows["outcome_payments"][1]
    assert cell["diff"] == pytest.approx(d.mean()) and cell["diff_low"] == pytest.approx(d.mean() - half)
    assert cell["mean"] == pytest.approx(rb["outcome_payments"].mean())
    # job starts are paid at 90 000 instead of 45 000, job_sustained unchanged: with no cap
    # binding, the payments grow by 45 000 per paid job start
    starts = ra["outcomes_job_start"].to_numpy()
    binding = (ra["cap_binding"].to_numpy() > 0) | (rb["cap_binding"].to_numpy() > 0)
    np.testing.assert_allclose(d[~binding], 45000 * starts[~binding], rtol=1e-9)
    assert compare([("a", a), ("c", c)], "en")["crn"] is False
    with pytest.raises(ValueError):
        compare([("a", a)] * 5)


class _Task:
    def __init__(self, size: int):
        self.task = SimpleNamespace(size=size)


def test_cancel_stops_between_tasks_and_keeps_what_finished():
    run = SimpleNamespace(done=0, cancel=SimpleNamespace(flag=False))
    run.cancel.is_set = lambda: run.cancel.flag
    seen = []

    def fn(item):
        seen.append(item)
        if len(seen) == 2:
            run.cancel.flag = True
        return len(seen)

    watched = _Watched(SerialExecutor(), run)
    got = []
    with pytest.raises(Cancelled):
        for _item, result in watched.map_unordered(fn, [_Task(3) for _ in range(10)]):
            got.append(result)
    assert got == [1, 2] and len(seen) == 2 and run.done == 6


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _post(url: str, body: bytes):
    headers = {"Content-Type": "application/json", "X-Effekt-App": "1"}  # as the page's script sends
    return _get(urllib.request.Request(url, data=body, method="POST", headers=headers))


def test_the_served_app_refuses_other_pages_and_other_host_names(tmp_path):
    # another web page's POST (no header of ours, text/plain) and a rebinding page's request (its own
    # Host) never reach the handlers: nothing is uploaded and no run folder appears (review 14)
    pytest.importorskip("uvicorn", reason="needs the app extra (pip install 'effekt[app]')")
    from effekt.experiments.app.server import serving

    root = tmp_path / "runs"
    with serving(root, workers=1, warm=False) as (url, _):
        foreign = urllib.request.Request(f"{url}/api/upload", data=b"[scenario]", method="POST",
                                         headers={"Content-Type": "text/plain", "Origin": "http://evil.example"})
        assert _get(foreign)[0] == 403
        rebound = urllib.request.Request(f"{url}/api/runs", headers={"Host": "evil.example:8765"})
        assert _get(rebound)[0] == 421
        status, _ = _post(f"{url}/api/check", b"{}")
        assert status != 403  # the page's own requests pass
    assert not (root / "uploads").exists() or not any((root / "uploads").iterdir())


def test_the_api_answers_bad_requests_and_runs_a_form(tmp_path):
    pytest.importorskip("uvicorn", reason="needs the app extra (pip install 'effekt[app]')")
    import time

    from effekt.experiments.app.server import serving

    with serving(tmp_path / "runs", workers=1, warm=False) as (url, _):
        status, body = _post(f"{url}/api/check", b"not json")
        assert status == 400 and "not JSON" in json.loads(body)["errors"]["_general"][0]
        status, body = _post(f"{url}/api/check", json.dumps({"base": "/etc/passwd"}).encode())
        assert status == 400 and "no such scenario" in body.decode()
        zero = {"form": {"cohort_size": 0}, "lang": "en"}
        status, body = _post(f"{url}/api/run", json.dumps(zero).encode())
        assert status == 200
        assert json.loads(body)["errors"]["cohort_size"] == _problems(["world.cohorts[0].size=0"])
        status, body = _post(f"{url}/api/run", json.dumps({**zero, "lang": "nb"}).encode())
        assert json.loads(body)["errors"]["cohort_size"] == [
            problem_text(p, "nb") for p in _problems(["world.cohorts[0].size=0"])]
        assert _get(f"{url}/api/run/nothing")[0] == 404
        status, body = _get(f"{url}/api/run/nothing?lang=nb")
        assert status == 404 and json.loads(body)["errors"]["_general"] == ["fant ingen slik kjøring"]
        body = json.dumps({"form": {"replications": 4}, "lang": "en"}).encode()
        status, body = _post(f"{url}/api/run", body)
        rid = json.loads(body)["id"]
        deadline = time.monotonic() + 120
        while (state := json.loads(_get(f"{url}/api/run/{rid}")[1]))["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert state["status"] == "done" and state["done"] == state["total"] == 4
        assert state["result"]["replications"] == 4 and state["result"]["lines"][0] == "4 replications"
        status, body = _get(f"{url}/api/run/{rid}/scenario.toml")
        assert status == 200 and tomllib.loads(body.decode())["design"]["replications"] == 4
        status, body = _get(f"{url}/api/run/{rid}/nothing.pdf?lang=nb")
        assert status == 404 and json.loads(body)["errors"]["_general"] == ["ingen nedlasting 'nothing.pdf'"]
        status, body = _post(f"{url}/api/compare", json.dumps({"ids": [rid, "nothing"]}).encode())
        assert status == 400 and "finished run" in body.decode()
        status, _ = _get(f"{url}/static/app.js")
        assert status == 200


def test_the_command_without_the_extra_says_what_to_install(monkeypatch):
    import sys

    from effekt.experiments.cli import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    result = CliRunner().invoke(main, ["app", "--no-browser", "--lang", "en"])
    assert result.exit_code == 2
    assert "pip install 'effekt[app]'" in result.output


def test_another_host_is_warned_of_no_authentication(monkeypatch, tmp_path):
    uvicorn = pytest.importorskip("uvicorn")
    from effekt.experiments.cli import main

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    args = ["app", "--no-browser", "--workers", "1", "--out", str(tmp_path)]
    warned = CliRunner().invoke(main, [*args, "--host", "0.0.0.0", "--lang", "en"])
    assert warned.exit_code == 0, warned.output
    assert "no authentication" in warned.output
    quiet = CliRunner().invoke(main, [*args, "--lang", "en"])
    assert quiet.exit_code == 0 and "authentication" not in quiet.output
    missing = CliRunner().invoke(main, [*args, str(tmp_path / "nope.toml")])
    assert missing.exit_code == 2 and "nope.toml" in missing.output


@pytest.mark.integration  # a local Dask cluster: about 10-20 s
def test_the_page_s_runs_on_dask_give_the_same_numbers(tmp_path):
    pytest.importorskip("distributed")
    import time

    from effekt.experiments.app.jobs import RunManager

    results = []
    for name, kwargs in (("dask", {"dask": "local"}), ("serial", {})):
        manager = RunManager(tmp_path / name, 1 if not kwargs else 2, series_runs=2, **kwargs)
        try:
            run, checked = manager.start({**forms.defaults(), "replications": 8})
            assert run is not None, checked.errors
            deadline = time.monotonic() + 300
            while run.status == "running":
                assert time.monotonic() < deadline
                time.sleep(0.1)
            assert run.status == "done", run.error
            results.append({n["kpi"]: n["mean"] for n in run.result["numbers"]})
        finally:
            manager.close()
    assert results[0] == results[1]


@pytest.mark.slow  # the memory estimate's pilot replications: about 6 s
def test_a_cohort_too_large_for_the_machine_is_refused_before_it_runs(tmp_path, monkeypatch):
    from effekt.experiments import workload
    from effekt.experiments.app.jobs import RunManager

    monkeypatch.setattr(workload, "available_memory", lambda: 4 * 2**30)  # whatever this machine has
    manager = RunManager(tmp_path, 1)
    run, checked = manager.start({**forms.defaults(), "cohort_size": 3_000_000, "replications": 2}, "en")
    message = checked.errors[forms.GENERAL][0]
    assert run is None and "6\u202f000\u202f000 people per replication" in message
    assert checked.confirm and "--force" not in message  # the page offers a confirm instead
    assert "4 GB available" in message or "4.0 GB available" in message
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_messages_beside_fields_come_in_bokmaal():
    f = {**forms.defaults(), "cohort_size": "0", "replications": "fjorten"}
    en, nb = forms.check(f, lang="en"), forms.check(f, lang="nb")
    assert en.errors["cohort_size"] == ["world.cohorts[0].size: Input should be greater than or equal to 1"]
    assert nb.errors["cohort_size"] == ["world.cohorts[0].size: skal være større enn eller lik 1"]
    assert nb.errors["replications"][0].startswith("design.replications: skal være et heltall")


def test_the_evaluation_design_and_long_run_are_written_and_checked():
    d = forms.defaults()
    assert d["evaluation_design"] == "randomised" and d["long_run_years"] is None
    # historical needs baseline shares the page does not edit: offered only when the file has them
    assert d["choices"]["designs"] == ["randomised", "matched", "gross"]
    with_baseline = {"design": "historical", "baseline": {"job_start": 0.3}, "source": "NAV"}
    assert forms.designs(with_baseline) == ["randomised", "matched", "historical", "gross"]
    data = tomllib.loads(forms.scenario_text({**d, "evaluation_design": "gross", "long_run_years": "10"}))
    assert data["evaluation"] == {"design": "gross"} and data["world"]["long_run_years"] == 10
    checked = forms.check({**d, "evaluation_design": "gross", "long_run_years": "10"})
    assert checked.ok, checked.errors
    assert checked.experiment.base.evaluation.design == "gross"
    assert checked.experiment.base.long_run_weeks == 520
    # the rules' own refusals land beside the fields
    bad = forms.check({**d, "evaluation_design": "matched", "long_run_years": "10"})
    assert "long_run_years" in bad.errors and "matched" in bad.errors["long_run_years"][0]
    short = forms.check({**d, "long_run_years": "1"})
    assert short.errors["long_run_years"][0].startswith("world.long_run_years = 1 (52 weeks) ends before")
    world = tomllib.loads(forms.scenario_text({**d, "long_run_years": ""}))["world"]
    assert world.get("long_run_years") is None
    odd = forms.check({**d, "evaluation_design": "sideways"})
    assert "evaluation_design" in odd.errors


def test_every_cohort_is_edited(tmp_path):
    base = tmp_path / "two.toml"
    text = forms.base_path("default").read_text(encoding="utf-8")
    text = text.replace("[pathway]", '[[world.cohorts]]\nname = "kull 2"\nstart_week = 26\nsize = 12\n'
                                     'groups = { A = 0.5, B = 0.5 }  # assumption: a test\n\n[pathway]')
    base.write_text(text, encoding="utf-8")
    d = forms.defaults(base)
    assert d["more_cohorts"] == [{"name": "kull 2", "size": 12, "start_week": 26,
                                  "groups": {"A": 0.5, "B": 0.5}}]
    f = {**d, "base": str(base), "more_cohorts": [{"size": "9", "start_week": "30",
                                                   "groups": {"A": "0.25", "B": "0.75", "C": ""}}]}
    data = tomllib.loads(forms.scenario_text(f))
    assert data["world"]["cohorts"][1] == {"name": "kull 2", "start_week": 30, "size": 9,
                                           "groups": {"A": 0.25, "B": 0.75}}
    checked = forms.check(f)
    assert checked.ok, checked.errors
    assert [c.size for c in checked.experiment.base.world.cohorts] == [14, 9]
    bad = forms.check({**f, "more_cohorts": [{"size": "0"}]})
    assert list(bad.errors) == ["cohorts.1"]
    assert bad.errors["cohorts.1"][0].startswith("world.cohorts[1].size")
    assert checked.titles["nb"].endswith(" (kull 2: antall 9, kull 2: startuke 30)")
    assert checked.titles["en"].endswith(" (kull 2: size 9, kull 2: start week 30)")


def test_prices_given_as_tables_are_shown_not_silently_kept(tmp_path):
    template = tmp_path / "by_group.toml"
    text = KONGSBERG.read_text(encoding="utf-8")
    assert "\njob_start = 45000 " in text
    by_group = "\njob_start = { default = 45000, by_group = { A = 50000 } } "
    text = text.replace("\njob_start = 45000 ", by_group, 1)
    template.write_text(text, encoding="utf-8")
    d = forms.defaults(None, None, str(template))
    assert "job_start" not in d["prices"] and "job_sustained" in d["prices"]
    assert d["fixed"]["prices"] == {"job_start": "{ default = 45000, by_group = { A = 50000 } }"}
    checked = forms.check({**d, "prices": {"job_sustained": "80000"}})
    assert checked.ok, checked.errors
    assert checked.experiment.base.resolved["contract"]["prices"]["job_start"]["by_group"] == {"A": 50000}


def test_the_title_is_the_variant_s():
    d = forms.defaults()
    same = forms.check(d)
    assert same.titles == d["titles"]  # nothing changed: the base scenario's title
    changed = forms.check({**d, "cohort_size": "20", "prices": {**d["prices"], "job_start": "60000"}})
    assert changed.titles["nb"] == d["titles"]["nb"] + " (antall 20, job_start 60000)"
    assert changed.titles["en"] == d["titles"]["en"] + " (size 20, job_start 60000)"
    data = tomllib.loads(changed.toml)["scenario"]
    assert data["title"] == changed.titles["en"] and data["title_nb"] == changed.titles["nb"]
    assert changed.experiment.base.info.title_nb == changed.titles["nb"]


def _stop_after(tasks: int):
    """A serial executor that cancels (as the page's button does) after ``tasks`` tasks."""
    run = SimpleNamespace(done=0, cancel=SimpleNamespace(flag=False))
    run.cancel.is_set = lambda: run.done >= tasks * 2
    return _Watched(SerialExecutor(), run)


def test_results_come_in_provisional_then_final(tmp_path):
    from effekt.experiments.app.jobs import Run, RunManager
    from effekt.experiments.app.results import summarise
    from effekt.experiments.batch import run_batch
    from effekt.experiments.summary import load_runs

    checked = forms.check({**forms.defaults(), "replications": 8}, tmp_path / "part")
    exp = checked.experiment
    with pytest.raises(Cancelled):  # two tasks of two replications, then cancel
        run_batch(exp, tmp_path / "part" / "results", executor=_stop_after(2), chunk=2, progress=False)
    run_batch(exp, tmp_path / "full", executor=SerialExecutor(), chunk=2, progress=False)
    part = summarise(tmp_path / "part" / "results", exp.base, "en", series_runs=0, total=8)
    assert part["provisional"] is True and part["replications"] == 4 and part["of"] == 8
    assert part["series"] is None
    full = load_runs(tmp_path / "full")
    first = full[full["replication"].isin(load_runs(tmp_path / "part" / "results")["replication"])]
    assert len(first) == 4
    means = {n["kpi"]: n["mean"] for n in part["numbers"]}
    assert means["outcome_payments"] == pytest.approx(first["outcome_payments"].mean())
    assert means["in_work_12m_treatment"] == pytest.approx(first["in_work_12m_treatment"].mean())
    final = summarise(tmp_path / "full", exp.base, "en", series_runs=2, total=8)
    assert final["provisional"] is False and final["replications"] == 8 and final["series"]
    # the manager: provisional while running (no series), None before anything is stored
    manager = RunManager(tmp_path / "root", 1)
    try:
        run = Run(id="0123456789", form={}, lang="en", folder=tmp_path / "part", experiment=exp,
                  toml=checked.toml, done=4, total=8)
        got = manager.provisional(run, every=0)
        assert got["provisional"] is True and got["replications"] == 4 and run.result is got
        empty = Run(id="0123456780", form={}, lang="en", folder=tmp_path / "none", experiment=exp,
                    toml="", done=2, total=8)
        assert manager.provisional(empty, every=0) is None
    finally:
        manager.close()


def test_old_runs_are_listed_and_deleted_only_when_asked(tmp_path):
    pytest.importorskip("uvicorn", reason="needs the app extra (pip install 'effekt[app]')")
    from effekt.experiments.app.jobs import RunManager
    from effekt.experiments.app.server import serving

    root = tmp_path / "app"
    keep_out = tmp_path / "outside"
    keep_out.mkdir()
    (keep_out / "scenario.toml").write_text("x = 1\n", encoding="utf-8")
    old = root / "abcdef0123"
    forms.check({**forms.defaults(), "cohort_size": "9"}, old)  # a run folder left from an earlier server
    (root / "uploads").mkdir(parents=True)
    (root / "uploads" / "scenario.toml").write_text("x = 1\n", encoding="utf-8")
    with serving(root, workers=1, warm=False) as (url, _):
        listed = json.loads(_get(f"{url}/api/runs?lang=en")[1])["runs"]
        assert [r["id"] for r in listed] == ["abcdef0123"]
        assert listed[0]["sizes"] == [9] and listed[0]["status"] == "unfinished"
        assert "(size 9)" in listed[0]["title"]
        status, _ = _post(f"{url}/api/runs/abcdef0123/delete", b"{}")  # not confirmed: nothing deleted
        assert status == 400 and old.is_dir()
        for rid in ("uploads", "..", "abcdef012"):  # not a run folder: refused
            status, _ = _post(f"{url}/api/runs/{rid}/delete", json.dumps({"confirm": True}).encode())
            assert status in (400, 404)
        status, body = _post(f"{url}/api/runs/abcdef0123/delete", json.dumps({"confirm": True}).encode())
        assert status == 200 and not old.exists()
        assert json.loads(_get(f"{url}/api/runs")[1])["runs"] == []
    assert (root / "uploads" / "scenario.toml").exists() and (keep_out / "scenario.toml").exists()
    manager = RunManager(root, 1)
    try:
        (root / "0000000000").symlink_to(keep_out)  # a link out of the root is not followed
        with pytest.raises(ValueError):
            manager.delete("0000000000")
        with pytest.raises(ValueError):
            manager.delete("../outside")
    finally:
        manager.close()
    assert (keep_out / "scenario.toml").exists()


def test_the_counterfactual_mode_and_lottery_share():
    d = forms.defaults()
    assert d["counterfactual_mode"] == "parallel" and list(d["choices"]["counterfactual_modes"]) == [
        "parallel", "rct", "none"]
    rct = forms.check({**d, "counterfactual_mode": "rct", "treatment_share": "0.6"})
    assert rct.ok, rct.errors
    cf = rct.experiment.base.world.counterfactual
    assert cf.mode == "rct" and cf.treatment_share == 0.6
    assert rct.titles["en"].endswith(" (treatment share 0.6, RCT)")
    none = tomllib.loads(forms.scenario_text({**d, "counterfactual_mode": "none", "treatment_share": "0.6"}))
    assert none["world"]["counterfactual"] == {"mode": "none"}  # a lottery's share only under a lottery
    bad = forms.check({**d, "counterfactual_mode": "rct", "treatment_share": "1.5"}, lang="nb")
    assert bad.errors == {"treatment_share": ["world.counterfactual.treatment_share: skal være mindre enn 1"]}
    odd = forms.check({**d, "counterfactual_mode": "lottery"})
    assert list(odd.errors) == ["counterfactual_mode"]


def test_the_first_tasks_a_batch_times_in_the_servers_thread_are_counted_and_cancellable():
    """A batch runs its first tasks in the calling thread to size the rest (run_here): the app's
    executor counts them like the others, and a run cancelled before one starts stops there."""
    run = SimpleNamespace(done=0, cancel=SimpleNamespace(flag=False))
    run.cancel.is_set = lambda: run.cancel.flag
    watched = _Watched(SerialExecutor(), run)
    assert watched.run_here(lambda item: "tables", _Task(4)) == "tables"
    assert run.done == 4
    run.cancel.flag = True
    with pytest.raises(Cancelled):
        watched.run_here(lambda item: pytest.fail("started after cancel"), _Task(2))
    assert run.done == 4


def test_a_finished_app_run_counts_every_replication(tmp_path):
    from effekt.experiments.app.jobs import RunManager

    manager = RunManager(tmp_path, 1, series_runs=2)
    run, checked = manager.start({**forms.defaults(), "replications": 30}, "en")
    assert run is not None, checked.errors
    run.thread.join(timeout=300)
    assert run.status == "done", run.error
    assert run.done == run.total == 30
