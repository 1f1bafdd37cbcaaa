"""The rules' own messages in experiments/ in bokmål (issue 13, item 2).

Every rule a validator or loader of the experiments layer words itself is raised with
:func:`effekt.specfile.said` (English, which code and tests match on, plus its bokmål) or built with
:func:`effekt.specfile.keyed`; a message re-wrapped with a prefix keeps its bokmål. Two kinds of test:

1. an ast scan of experiments/ (not the command line's cli*.py, whose messages go through
   cli_lang.say) finding every ``ValueError(...)``, ``SpecError(..., [...])`` and
   ``problems.append(...)`` whose message is a plain string or f-string, against an explicit,
   commented allow-list of programmer errors (a new English-only rule fails here);
2. real bad files through the command line (nb by default): the rule in bokmål, no traceback, and
   with ``--lang en`` the English exactly as before.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_experiments_scenario import write

from effekt.experiments.cli import main
from effekt.experiments.messages import error_text, nb_hint, said_of, unprefixed
from effekt.specfile import SpecError, error_message, keyed, problem_text, said

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"

# (file under experiments/, the message's template: its literal text with {} for each expression)
# -> why it may stay English. Each is a programmer error: a caller inside effekt passed a value the
# command line (a click.Choice, a validated option) or another function already checked, so no
# person reading a command's output meets it.
ALLOWED = {
    # a language code: every caller passes --lang through click.Choice(["nb", "en"]) first
    ("analysis/compare.py", "language '{}'; allowed: {}"): "lang checked by the CLI",
    ("analysis/decision_report.py", "language '{}'; allowed: {}"): "lang checked by the CLI",
    ("app/labels.py", "language '{}'; allowed: {}"): "lang checked by the server (LANGS)",
    ("budgets.py", "language '{}'; allowed: {}"): "lang checked by the CLI",
    ("excel_csv.py", "language '{}'; allowed: {}"): "lang checked by the CLI",
    ("export_xlsx.py", "language '{}'; allowed: {}"): "lang checked by the CLI",
    ("formatting.py", "language '{}'; allowed: {}"): "lang checked by the CLI",
    ("parameter_labels.py", "language '{}'; allowed: nb, en"): "lang checked by the CLI",
    ("parameter_uncertainty.py", "language '{}'; allowed: {}"): "lang checked by the CLI",
    ("summary.py", "language '{}'; allowed: {}"): "lang checked by the CLI",
    # choices the command line offers as click.Choice before calling
    ("analysis/decision.py", "pilot design '{}'; allowed: {}"): "--pilot-design is a click.Choice",
    ("analysis/power.py", "alternative: '{}'; allowed: {}"): "--alternative is a click.Choice",
    ("analysis/power.py", "test: '{}'; allowed: z, fisher"): "--test is a click.Choice",
    ("budgets.py", "arm '{}'; allowed: {}"): "callers pass ARMS",
    ("budgets.py", "amount '{}'; allowed: {}"): "callers pass AMOUNTS",
    ("budgets.py", "level {}; allowed: between 0 and 1"): "callers pass the report's fixed 0.9",
    ("batch.py", "tables: unknown {}; choose from {}"): "--tables is checked by the CLI (_tables)",
    ("app/results.py", "compare: 1 to {} variants, got {}"): "the server checks ids first (bokmål there)",
    # internal invariants: a bug in effekt, not in a user's file
    ("design.py", "unknown auxiliary stream '{}'; known: {}"): "purposes are effekt's own constants",
    ("national/spec.py", "{} people cannot fill {} cohorts"): "national.min_size is checked first",
    ("runner.py", "not a task name: {}"): "task names are effekt's own file names",
    ("store.py", "task {}: no table for {}"): "the runner always returns every table",
    ("writer.py", "TaskWriter: threads must be 0 (write in the calling thread) or more, not {}"):
        "the batch passes 0 or the module's WRITE_THREADS",
    ("summary.py", "an indicator must be 0 or 1 in every replication, got {}"): "KPI kinds are effekt's",
}
"""Plain-English messages that are programmer errors, never shown to a person (see the comments)."""

PROBLEM_LISTS = ("problems", "tails", "errors", "found")
"""Names of the lists a loader collects its problems in before raising a SpecError."""


def _plain(node: ast.AST) -> bool:
    """Whether ``node`` is a message written as a plain string (a literal, an f-string, a sum or a
    ``.format`` of one) rather than through said/keyed or a variable."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _plain(node.left) or _plain(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _plain(node.func.value)
    return False


def _template(node: ast.AST) -> str:
    """A plain message's literal text with ``{}`` for each expression (the allow-list's key)."""
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(_template(v) if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp):
        return _template(node.left) + _template(node.right)
    if isinstance(node, ast.Call):
        return _template(node.func.value)  # type: ignore[attr-defined]
    return "{}"


def _messages(call: ast.Call):
    """The message arguments of a ValueError(...), SpecError(source, [...]) or problems.append(...)."""
    fn = call.func
    name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
    if name == "ValueError" and call.args:
        yield call.args[0]
    elif name == "SpecError" and len(call.args) > 1:
        problems = call.args[1]
        if isinstance(problems, ast.List | ast.Tuple):
            yield from problems.elts
        elif isinstance(problems, ast.ListComp):  # a re-wrap: f"{prefix}{p}" would drop the bokmål
            yield problems.elt
    elif name in ("append", "extend") and isinstance(fn, ast.Attribute) and call.args:
        target = fn.value.id if isinstance(fn.value, ast.Name) else getattr(fn.value, "attr", "")
        if target in PROBLEM_LISTS:
            arg = call.args[0]
            if name == "extend" and isinstance(arg, ast.List | ast.Tuple):
                yield from arg.elts
            elif isinstance(arg, ast.ListComp | ast.GeneratorExp):
                yield arg.elt
            elif name == "append":
                yield arg


def english_only() -> list[tuple[str, int, str]]:
    """Every plain-string rule message in experiments/ (not cli*.py): (file, line, template)."""
    found = []
    for path in sorted(EXPERIMENTS.rglob("*.py")):
        if path.name.startswith("cli"):
            continue
        rel = path.relative_to(EXPERIMENTS).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                found += [(rel, node.lineno, _template(m)) for m in _messages(node) if _plain(m)]
    return found


def test_every_rule_message_in_experiments_has_its_bokmaal():
    unexplained = [f"experiments/{f}:{line}: {t!r}" for f, line, t in english_only()
                   if (f, t) not in ALLOWED]
    assert unexplained == [], "word these with said(en, nb) or keyed(...), or allow-list them:\n" + \
        "\n".join(unexplained)


def test_the_allow_list_names_only_messages_that_are_there():
    there = {(f, t) for f, _, t in english_only()}
    assert sorted(set(ALLOWED) - there) == []


def test_the_scan_finds_a_new_english_only_rule(tmp_path):
    # the scanner itself: a plain f-string rule and a re-wrap are found, said/keyed are not
    source = ('def f(v, err, problems):\n'
              '    problems.append(f"x: {v} is wrong")\n'
              '    problems.append(said("a", "b"))\n'
              '    raise SpecError("s", [f"k {p}" for p in err.problems] + [])\n'
              'def g(v):\n'
              '    raise ValueError(keyed("k", said("a", "b")))\n'
              'def h(err):\n'
              '    raise SpecError("s", [f"k {p}" for p in err.problems])\n')
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)]
    plain = [_template(m) for c in calls for m in _messages(c) if _plain(m)]
    assert plain == ["x: {} is wrong", "k {}"]


# -- the helpers --------------------------------------------------------------------------------


def test_the_helpers_keep_the_bokmaal():
    m = said("scenario.country: no such country", "scenario.country: intet slikt land")
    cut = unprefixed(m, "scenario.country: ")
    assert cut == "no such country" and cut.nb == "intet slikt land"
    assert unprefixed("plain: x", "plain: ") == "x"
    assert nb_hint(" (did you mean 'kommune'?)") == " (mente du 'kommune'?)"
    err = ValueError(said("must be positive", "må være positiv"))
    assert error_text(err, "nb") == "må være positiv" and error_text(err, "en") == "must be positive"
    assert error_text(RuntimeError("plain"), "nb") == "plain"
    assert error_text(said("a", "b"), "nb") == "b" and error_text("a", "nb") == "a"
    assert said_of(err).nb == "må være positiv" and said_of(OSError(2, "gone")) == "[Errno 2] gone"
    raised = {"msg": "Value error, low: x", "ctx": {"error": ValueError(said("low: x", "low: y"))}}
    assert error_message(raised) == "low: x" and error_message(raised).nb == "low: y"
    assert error_message({"msg": "Input should be a valid number"}) == "Input should be a valid number"


def test_a_design_point_keeps_the_bokmaal_of_its_problem(tmp_path):
    # a sweep value the scenario refuses: "design point k (...)" before the rule, in both languages
    path = write(tmp_path, design='[design.sweep]\n"world.horizon_weeks" = [130, 20]\n')
    from effekt.experiments.scenario import load_experiment

    with pytest.raises(SpecError) as info:
        load_experiment(path)
    (problem,) = info.value.problems
    assert problem.startswith("design point 1 (world.horizon_weeks=20): world.horizon_weeks (20) is "
                              "shorter than the contract")
    assert problem_text(problem, "nb").startswith("designpunkt 1 (world.horizon_weeks=20): "
                                                  "world.horizon_weeks (20) er kortere enn kontrakten")


def test_the_app_shows_a_base_files_problem_in_bokmaal(tmp_path):
    from effekt.experiments.app import form as forms

    checked = forms.check({"base": str(tmp_path / "nothing.toml")}, None, "nb")
    shown = " ".join(p for ps in checked.errors.values() for p in ps)
    assert "fant ikke filen" in shown or "finnes ikke" in shown, shown
    assert "file not found" not in shown
    assert keyed("a", said("b", "c")).nb == "a: c"


# -- real bad files through the command line ----------------------------------------------------


def _invoke(args: list[str]):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (TypeError, KeyError))
    return result.output


def _both(args: list[str]) -> tuple[str, str]:
    """The output in the default language (nb) and with --lang en."""
    return _invoke(args), _invoke([*args, "--lang", "en"])


def test_a_bad_design_factor_reads_in_bokmaal(tmp_path):
    path = write(tmp_path, design='samples = 4\n[design.uncertainties."contract.prices.job_start"]\n'
                                  "low = 5\nhigh = 1\n")
    nb, en = _both(["validate", str(path)])
    assert "design.uncertainties.contract.prices.job_start: low (5) må være mindre enn high (1)" in nb, nb
    assert "must be below" not in nb
    assert en == (f"error: {path}: invalid\n"
                  "  - design.uncertainties.contract.prices.job_start: low (5) must be below high (1)\n")


def test_a_typod_party_reads_in_bokmaal(tmp_path):
    path = write(tmp_path)
    args = ["breakeven", str(path), "--for", "kommmune", "--vary", "contract.prices.job_start"]
    nb, en = _both(args)
    assert "'kommmune': tillatt: investor, kommune, state, public (mente du 'kommune'?)" in nb, nb
    assert "allowed" not in nb and "did you mean" not in nb
    assert en == ("error: --for: invalid\n"
                  "  - 'kommmune': allowed: investor, kommune, state, public (did you mean 'kommune'?)\n")


def test_a_sweep_over_an_unknown_key_reads_in_bokmaal(tmp_path):
    key = "pathway.stages.work_trainin.exits[0].p"
    path = write(tmp_path, design=f'[design.sweep]\n"{key}" = [0.1, 0.2]\n')
    nb, en = _both(["validate", str(path)])
    assert nb.startswith(f"feil: {path}: ugyldig\n  - designpunkt 0 ({key}=0.1): design.sweep.'{key}': "
                         "pathway.stages.work_trainin: "), nb
    assert "(mente du 'work_training'?)" in nb and "did you mean" not in nb
    assert en.startswith(f"error: {path}: invalid\n  - design point 0 ({key}=0.1): design.sweep.'{key}': "
                         "pathway.stages.work_trainin: no such table (did you mean 'work_training'?)")
    # a problem without bokmål of its own (pydantic's unknown key) still gets the point in bokmål
    path = write(tmp_path, design='[design.sweep]\n"world.horizon_weks" = [1, 2]\n', name="t.toml")
    assert "designpunkt 0 (world.horizon_weks=1): world.horizon_weks: ukjent nøkkel" in _invoke(
        ["validate", str(path)])


def _national(tmp_path: Path, include: str) -> Path:
    text = (EXPERIMENTS / "national" / "national.toml").read_text(encoding="utf-8")
    scenario = (EXPERIMENTS / "scenarios" / "default.toml").as_posix()
    text = text.replace('"../scenarios/default.toml"', f'"{scenario}"').replace("include = []", include)
    path = tmp_path / "nat.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_national_file_with_a_bad_kommune_number_reads_in_bokmaal(tmp_path):
    path = _national(tmp_path, 'include = ["9999"]')
    nb, en = _both(["national", str(path), "--out", str(tmp_path / "o")])
    assert nb.startswith(f"feil: {path}: ugyldig\n  - national.include[0]: '9999' er verken et "
                         "kommunenummer eller et fylkesnummer i "), nb
    assert en.startswith(f"error: {path}: invalid\n  - national.include[0]: '9999' is neither a "
                         "kommune number nor a fylke number in "), en
    assert not (tmp_path / "o").exists()


def test_a_calibration_target_counting_more_than_it_counts_of_reads_in_bokmaal(tmp_path):
    text = (EXPERIMENTS / "calibrations" / "springbrett.toml").read_text(encoding="utf-8")
    path = tmp_path / "cal.toml"
    path.write_text(text.replace("count = 24 ", "count = 62 ", 1), encoding="utf-8")
    nb, en = _both(["calibrate", str(path), "--out", str(tmp_path / "post.toml")])
    assert "targets.finishers_in_paid_work: count (62) kan ikke være større enn of (61)" in nb, nb
    assert nb.startswith("feil: ") and "cannot exceed" not in nb
    assert en.startswith(f"error: {path}: invalid\n")
    assert "  - targets.finishers_in_paid_work: count (62) cannot exceed of (61)\n" in en


def test_an_analysis_option_out_of_range_reads_in_bokmaal(tmp_path):
    path = write(tmp_path)
    nb, en = _both(["sensitivity", str(path), "--param", "contract.prices.job_start=5:1"])
    assert nb == "feil: --param: ugyldig\n  - 'contract.prices.job_start=5:1': trenger LAV < HØY\n", nb
    assert en == "error: --param: invalid\n  - 'contract.prices.job_start=5:1': needs LOW < HIGH\n"


def test_the_memory_check_reads_in_bokmaal_and_the_page_drops_the_force_advice_in_both():
    from effekt.experiments.app.jobs import _without_force
    from effekt.experiments.workload import Workload, check_workload

    work = Workload(1000, 4, 1, measured=True, seconds=1.0, peak_bytes=1.5 * 2**30)
    with pytest.raises(SpecError) as info:
        check_workload(work, 2, "s.toml", available=2**30)
    (problem,) = info.value.problems
    assert problem.endswith(", or pass --force to run anyway")
    nb = problem_text(problem, "nb")
    assert nb.startswith("1\u202f000 personer per replikasjon") and "1,5 GB per replikasjon" in nb, nb
    assert nb.endswith(", eller gi --force for å kjøre likevel")
    page = _without_force(problem)
    assert "--force" not in page and "--force" not in page.nb
    assert page.nb.endswith("ledig: senk kullstørrelsene (world.cohorts[].size) eller world.horizon_weeks")


def test_validates_estimate_line_is_bokmal_with_norwegian_numbers():
    """effekt validate prints the pilot estimate in the reader's language: decimal commas, 't' for
    hours, thin-space thousands, no English words (the line was English only until session 18)."""
    from effekt.experiments.workload import Workload

    work = Workload(800_000, 300, 1, measured=True, seconds=39.5, peak_bytes=6.5 * 2**30)
    nb = work.line(2, "nb")
    # 300 x 39.5 s = 3.29 h of CPU; on 2 workers 1.65 h
    assert nb == ("anslått fra pilotreplikasjoner: 6,5 GB og 39,5 s CPU-tid per replikasjon av "
                  "800\u202f000 personer (begge armer); 300 replikasjoner tar om lag 3,3 t CPU-tid "
                  "(1,6 t på 2 arbeidere)"), nb
    en = work.line(1, "en")
    assert en.endswith("(3.3 h on 1 worker)") and "6.5 GB and 39.5 s of CPU" in en, en
    days = Workload(10, 100_000, 1, measured=True, seconds=10.0, peak_bytes=2**20)
    assert "11,6 døgn CPU-tid" in days.line(1, "nb"), days.line(1, "nb")
    assert Workload(10, 1, 1).line(2, "nb") == ""
