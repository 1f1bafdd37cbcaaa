"""The command line's own messages in bokmål (issue 13 leftovers, item 1): validate's ok line, the
notes and closing lines of run, batch and sweep, and the framing and common messages of a refused
file (unknown key with did-you-mean, missing key, wrong type, out of range) come in nb with
``--lang nb`` (the default) and stay as they were in English with ``--lang en``."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from test_experiments_scenario import write

from effekt.experiments.cli import main
from effekt.experiments.cli_lang import MESSAGES, say
from effekt.specfile import SpecError, problem_text

ENGLISH = ["invalid", "unknown key", "did you mean", "allowed here", "allowed:", "Field required",
           "Input should", "should be", "greater than", "less than", "must be", "error:", "note:",
           "replications", "design points", "people", "pathway ", "contract ", "priors", "draws",
           "More:", "Results in", "stopped", "file not found", "parameters", "of small", " in /"]
"""English words (a list a reviewer keeps): none may appear in an nb message of these commands."""

SWEEP = '[design.sweep]\n"contract.prices.job_start" = [30000, 60000]\n'


def _english_in(text: str) -> list[str]:
    # paths, dotted keys, quoted names and the list of allowed keys are names, not words: leave
    # them out before looking
    text = re.sub(r"tillatt her: .*", " ", text)
    words = re.sub(r"'[^']*'|\S*/\S*|\b[\w\[\]]+(\.[\w\[\]]+)+\b", " ", text)
    return [w for w in ENGLISH if w.lower() in words.lower()]


def _bad(tmp_path, kind: str):
    """A scenario with one problem of each common kind."""
    if kind == "unknown":
        return write(tmp_path, design="replicatons = 4")
    if kind == "missing":
        path = write(tmp_path)
        path.write_text(path.read_text().replace('name = "small"\n', "", 1))
        return path
    if kind == "type":
        path = write(tmp_path)
        path.write_text(path.read_text().replace("size = 6", 'size = "six"'))
        return path
    path = write(tmp_path)  # out of range
    path.write_text(path.read_text().replace("size = 6", "size = -6"))
    return path


@pytest.mark.parametrize("kind", ["unknown", "missing", "type", "range"])
@pytest.mark.parametrize("command", ["validate", "run", "batch", "sweep"])
def test_a_refused_file_is_framed_in_bokmal(tmp_path, kind, command):
    path = _bad(tmp_path, kind)
    nb = CliRunner().invoke(main, [command, str(path), "--out", str(tmp_path / "o")]
                            if command != "validate" else [command, str(path)])
    assert nb.exit_code == 2, nb.output
    assert nb.output.startswith("feil: ") and f"{path}: ugyldig" in nb.output
    assert _english_in(nb.output) == [], nb.output
    en = CliRunner().invoke(main, [command, str(path), "--lang", "en"]
                            + (["--out", str(tmp_path / "o")] if command != "validate" else []))
    assert en.output.startswith("error: ") and f"{path}: invalid" in en.output


def test_the_common_messages_read_in_bokmal():
    assert problem_text("design.replicatons: unknown key (did you mean 'replications'?); allowed here: "
                        "replications, seed", "nb") == (
        "design.replicatons: ukjent nøkkel (mente du 'replications'?); tillatt her: replications, seed")
    assert problem_text("scenario.name: Field required", "nb") == "scenario.name: mangler (må oppgis)"
    assert problem_text("world.cohorts[0].size: Input should be greater than or equal to 1", "nb") == (
        "world.cohorts[0].size: skal være større enn eller lik 1")
    assert problem_text("world.cohorts[0].size: Input should be a valid integer, unable to parse string "
                        "as an integer", "nb") == (
        "world.cohorts[0].size: skal være et heltall (teksten kan ikke leses som et tall)")
    assert problem_text("x.mode: Input should be 'parallel', 'matched' or 'none'", "nb") == (
        "x.mode: skal være 'parallel', 'matched' eller 'none'")
    err = SpecError("s.toml", ["file not found"])
    assert err.text("nb") == "s.toml: ugyldig\n  - filen finnes ikke"
    assert err.text("en") == str(err) == "s.toml: invalid\n  - file not found"


def test_validate_ok_line_in_bokmal_and_english(tmp_path):
    path = write(tmp_path, design=SWEEP)
    nb = CliRunner().invoke(main, ["validate", str(path)])
    assert nb.exit_code == 0, nb.output
    assert (f"{path}: ok (small, forløp kongsberg_kull, kontrakt kongsberg_outcomes, 6 personer, "
            "4 replikasjoner, 2 designpunkter") in nb.output
    assert _english_in(nb.output) == [], nb.output
    en = CliRunner().invoke(main, ["validate", str(path), "--lang", "en"])
    assert (f"{path}: ok (small, pathway kongsberg_kull, contract kongsberg_outcomes, 6 people, "
            "4 replications, 2 design points") in en.output


def test_batch_sweep_and_run_close_in_bokmal(tmp_path):
    path = write(tmp_path, design=SWEEP)
    opts = ["--workers", "1", "--runs", "2"]
    b = CliRunner().invoke(main, ["batch", str(path), "--out", str(tmp_path / "b"), *opts])
    assert b.exit_code == 0, b.output
    assert f"2 replikasjoner av small i {tmp_path / 'b'}/" in b.output
    s = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "s"), *opts])
    assert s.exit_code == 0, s.output
    assert "2 designpunkter x 2 replikasjoner av small" in s.output
    assert "(parametre: contract.prices.job_start)" in s.output and "Mer: effekt summary" in s.output
    nothing = CliRunner().invoke(main, ["sweep", str(write(tmp_path, name="flat.toml")), "--out",
                                        str(tmp_path / "f"), *opts])
    assert nothing.exit_code == 2 and "varierer ingenting" in nothing.output
    r = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "r"), *opts])
    assert r.exit_code == 0, r.output
    assert "Resultater i" in r.output and "Mer: effekt summary" in r.output
    for out in (b.output, s.output, nothing.output):
        assert _english_in(out) == [], out


def test_every_message_has_both_languages_and_the_same_fields():
    fields = re.compile(r"{(\w+)}")
    for key, (nb, en) in MESSAGES.items():
        assert nb.strip() and en.strip() and nb != en, key
        assert sorted(fields.findall(nb)) == sorted(fields.findall(en)), key
    assert say("more", "nb", out="r") == "Mer: effekt summary r"
    assert say("more", "en", out="r") == "More: effekt summary r"


def test_the_progress_bar_speaks_the_readers_language():
    from rich.progress import TextColumn

    from effekt.experiments.batch import _progress

    for lang, words in (("nb", ["replikasjoner", "gjenstår"]), ("en", ["replications", "ETA"])):
        bar = _progress(True, lang)
        texts = [c.text_format for c in bar.columns if isinstance(c, TextColumn)]
        assert all(w in texts for w in words), (lang, texts)
        assert [c.unit for c in bar.columns if hasattr(c, "unit")] == [say("progress_rate", lang)]


# -- review 14 item 9: the analysis commands' errors, report without runs, decide, the summary ----


@pytest.fixture(scope="module")
def fixed(tmp_path_factory):
    """A batch of the decision tests' tiny scenario (no draws, no long run)."""
    from test_analysis_decision import TINY

    base = tmp_path_factory.mktemp("nb_decide")
    path = base / "tiny.toml"
    path.write_text(TINY)
    r = CliRunner().invoke(main, ["batch", str(path), "--out", str(base / "fixed"), "--workers", "1", "-q"])
    assert r.exit_code == 0, r.output
    return base / "fixed"


def test_the_analysis_commands_fail_in_bokmal(fixed):
    out = fixed
    nb = CliRunner().invoke(main, ["decide", str(out), "--horizon", "long_run"])
    assert nb.exit_code == 2 and nb.output.startswith("feil: --horizon: ugyldig"), nb.output
    assert "error:" not in nb.output and "invalid" not in nb.output
    en = CliRunner().invoke(main, ["decide", str(out), "--horizon", "long_run", "--lang", "en"])
    assert en.output.startswith("error: --horizon: invalid")
    both = CliRunner().invoke(main, ["pilot-size", "--p-treatment", "0.5", "--effect", "0.1", "--n", "10"])
    assert both.exit_code == 2 and both.output.startswith("feil: gi --p-treatment eller --effect, ikke begge")


def test_report_on_a_folder_without_runs_says_so_in_bokmal(tmp_path):
    nb = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert nb.exit_code == 2
    assert nb.output.startswith(f"feil: {tmp_path}: her er ingen runs/-mappe"), nb.output
    assert _english_in(nb.output) == [] and "no runs" not in nb.output
    en = CliRunner().invoke(main, ["report", str(tmp_path), "--lang", "en"])
    assert en.output.startswith(f"error: {tmp_path}: no runs/ dataset here")


def test_decide_names_the_person_years_by_their_label_not_their_key(fixed):
    out = fixed
    nb = CliRunner().invoke(main, ["decide", str(out), "--wtp", "0", "--bootstrap", "0"])
    assert nb.exit_code == 0, nb.output
    assert "flere personår i arbeid enn uten tiltaket (kontrafaktisk), diskontert" in nb.output
    assert "additional_work_years" not in nb.output
    en = CliRunner().invoke(main, ["decide", str(out), "--wtp", "0", "--bootstrap", "0", "--lang", "en"])
    assert "additional person-years in work over the counterfactual, discounted" in en.output


def test_the_run_summary_names_the_investors_in_one_form():
    from effekt.experiments.answers import WORDS
    from effekt.experiments.summary import HEADLINE_TEXT

    texts = [*HEADLINE_TEXT["nb"].values(), *WORDS["nb"].values()]
    assert not [t for t in texts if "Investorenes" in t or "investorenes" in t]
    assert HEADLINE_TEXT["nb"]["irr"].startswith("Investors internrente")
    assert HEADLINE_TEXT["nb"]["multiple"].startswith("Investors pengemultippel")
