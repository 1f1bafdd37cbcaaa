"""The rules' own messages in bokmål (issue 13, item 2): every rule that sim/, contracts/ and
src/effekt/ word themselves carries its bokmål wording (``effekt.specfile.said``), kept through
every prefix and re-wrap (``keyed``, ``joined``), so ``effekt validate`` in nb (the default) prints
the rule in bokmål and with ``--lang en`` exactly the English as before.

Two kinds of test: a scan of the source (a new English-only rule fails it, unless it is a
programmer's error on the commented allow-list below), and real bad files through the command
line in both languages."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_experiments_scenario import write

from effekt.dotted import suggest
from effekt.experiments.cli import main
from effekt.experiments.scenario import default_scenario_path
from effekt.specfile import Said, joined, keyed, nb_number, problem_text, said

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("sim", "contracts", "src/effekt")
RAISED = {"ValueError", "SpecError", "PriorError"}
"""The exceptions whose message a user reads (a SpecError's problems, a validator's ValueError,
a prior's PriorError)."""
LISTS = {"problems", "out"}
"""The names under which the rules collect their problem lines (``problems.append(...)``)."""

ALLOWED_ENGLISH = {
    # (file, the message's English text with {} for each placeholder): programmer errors, which no
    # data file or command line option can cause, so no user reads them
    ("sim/distributions.py", "describe: unknown language {}; allowed: {}"),  # lang comes from code
    # the engine's clock: SimPy's own words for run(until) in the past; only the engine calls it
    ("sim/engine.py", "until ({}) must be greater than the current simulation time"),
    ("src/effekt/priors.py", "describe: unknown language {}; allowed: {}"),  # (the CLI's --lang is
    ("contracts/kpis.py", "language '{}'; allowed: nb, en"),                  # a click Choice)
    ("contracts/evaluation_design.py", "language '{}'; allowed: nb, en"),
    ("src/effekt/priors.py", "sampler '{}'; allowed: {}"),  # a click Choice, never a free string
    ("sim/people.py", "a referral stream needs an 'arrivals' random stream"),  # the engine's wiring
    ("sim/streams.py", "unknown random stream(s) {}; allowed: {}"),  # tests replacing a stream
    ("contracts/brent.py", "f(a) and f(b) must have different signs"),  # the root finder's contract
    # a block of replications is made by the runner from what it simulated, never from a file
    ("contracts/block.py",
     "RecordBlock.of: no replications (give at least one (persons, spells, events) triple)"),
    ("contracts/block.py", "RecordBlock.of: some replications have an events table and some do not"),
    ("contracts/block.py", "RecordBlock.joined: no replications (give each one's row counts)"),
    ("contracts/block.py", "RecordBlock.joined: {} {} rows counted but no {} table"),
    ("contracts/block.py",
     "RecordBlock.joined: the {} table has {} rows, the replications' counts add up to {}"),
    ("contracts/outcomes.py", "share_columns: rows {}:{} do not fit a slice of {} rows of a table of {}"),
    ("sim/records.py", "concat_records: no replications (give at least one Tables)"),  # the runner's call
    ("sim/records.py", "Tables.from_rows: no rows given for {} (every table of SCHEMAS: {})"),  # the engine's
    # a task's evaluations read at once: the runner's own calls, one valuation, its own matrices
    ("contracts/evaluate.py", "Evaluation.budget_columns_of: the evaluations are discounted at different "
                              "rates ({}); give it the evaluations of one valuation"),
    ("contracts/frames.py", "months_matrix: a series of {} months does not fit in {}"),
    ("contracts/payments.py", "rate_cards: {} outcome tables for {} people tables"),
    ("contracts/evaluate.py",  # the runner passes the scenario's own long run (validated there)
     "evaluate: long_run_weeks ({}) must reach at least the contract's horizon_weeks ({})"),
    ("contracts/outcomes.py", "a '{}' outcome is measured from the events table; none was given"),
    # a one-replication function given a block's Tables: evaluate_block's own calls, never a file's
    ("contracts/outcomes.py",
     "the outcomes of {} replications' tables: take them by replication (outcomes_by_replication)"),
    ("contracts/outcomes.py",
     "the work shares of {} replications' tables: take them by replication (work_shares_by_replication)"),
    ("contracts/work_years.py",
     "the work years of {} replications' tables: take them by replication (work_years_by_replication)"),
    ("contracts/kpis.py", "KPI {}: kind '{}'; allowed: {}"),  # KPI declarations are code, not data
    ("contracts/kpis.py", "KPI {}: arm '{}'; allowed: {}"),
    ("contracts/kpis.py", "KPI {}: party_kind '{}'; allowed: {}"),
    ("contracts/kpis.py", "KPI '{}' declared twice"),
    ("contracts/kpis.py", "KPIs '{}' and '{}' measure the same thing {}"),
    ("contracts/kpis.py", "values for undeclared KPIs {}"),
    ("src/effekt/quantiles.py", "no scipy-free quantile for the prior family {}"),  # a new family
    ("src/effekt/quantiles.py", "no scipy-free support for the prior family {}"),  # without a formula
    # the mechanism itself: a boolean given for a number, re-keyed for pydantic's location; its
    # text is NOT_A_BOOLEAN, which the common patterns (specfile._NB) put in bokmål
    ("src/effekt/specfile.py", "{}.{}: {}"),
}


def _text(node: ast.AST) -> str | None:
    """The English text of a message written as a plain string (a literal, an f-string, a sum of
    them or ``"sep".join(...)``) with ``{}`` for each placeholder; None when the message is built
    any other way (``said``, ``keyed``, ``joined``, a variable: the scan trusts those)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        return None if left is None and right is None else (left or "{}") + (right or "{}")
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join"
            and isinstance(node.func.value, ast.Constant)):
        return f"{node.func.value.value!r}.join(...)"
    return None


def _messages(node: ast.AST):
    """The message expressions in a raise's or an append's argument (a list of them, a list
    comprehension's element, or the one expression)."""
    if isinstance(node, ast.List | ast.Tuple):
        for e in node.elts:
            yield from _messages(e)
    elif isinstance(node, ast.ListComp):
        yield from _messages(node.elt)
    else:
        yield node


def _trees():
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def english_only() -> list[tuple[str, int, str]]:
    """(file, line, English text) of every user-facing rule message written as a plain string:
    ``raise ValueError/PriorError(msg)``, ``raise SpecError(source, [msg, ...])`` and
    ``problems.append(msg)`` / ``out.append((key, msg))``."""
    found = []
    for rel, tree in _trees():
        for node in ast.walk(tree):
            args: list[ast.AST] = []
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                f = node.exc.func
                name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
                if name in RAISED:
                    spec = name == "SpecError" and len(node.exc.args) > 1
                    args = list(_messages(node.exc.args[1] if spec else node.exc.args[0]))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in ("append", "extend") and isinstance(node.func.value, ast.Name)
                  and node.func.value.id in LISTS and node.args):
                arg = node.args[0]
                pair = isinstance(arg, ast.Tuple) and len(arg.elts) == 2  # (key, message)
                args = [arg.elts[1]] if pair else list(_messages(arg))
            for a in args:
                text = _text(a)
                if text is not None:
                    found.append((rel, node.lineno, text))
    return found


def test_every_rule_message_in_sim_contracts_and_effekt_has_its_bokmaal():
    stray = [f"{rel}:{line}: {text!r}" for rel, line, text in english_only()
             if (rel, text) not in ALLOWED_ENGLISH]
    assert stray == [], ("a rule's message without bokmål: raise it as said(english, bokmål), or "
                         "prefix with keyed(key, message); a programmer's error goes on ALLOWED_ENGLISH "
                         "with a comment:\n" + "\n".join(stray))


def test_the_allow_list_names_only_messages_that_are_still_there():
    found = {(rel, text) for rel, _, text in english_only()}
    assert ALLOWED_ENGLISH - found == set()


def test_the_scan_finds_a_plain_message_of_each_form():
    src = ('def f(x):\n    problems.append(f"a {x}: b")\n    out.append(("k", "c"))\n'
           '    raise SpecError("s", [f"d {x}"])\n    raise ValueError("e" + f"{x}")\n'
           '    raise ValueError(said("ok", "ok nb"))\n')
    tree = ast.parse(src)
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise):
            spec = node.exc.func.id == "SpecError"
            texts += [_text(m) for m in _messages(node.exc.args[1] if spec else node.exc.args[0])]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "append":
            arg = node.args[0]
            texts.append(_text(arg.elts[1] if isinstance(arg, ast.Tuple) else arg))
    assert sorted(t for t in texts if t is not None) == ["a {}: b", "c", "d {}", "e{}"]


def test_no_bokmaal_wording_is_a_copy_of_the_english():
    same = []
    for rel, tree in _trees():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("said", "_said") and len(node.args) == 2):
                en, nb = node.args  # the same source text twice: the bokmål was never written
                if _text(en) is not None and ast.unparse(en) == ast.unparse(nb):
                    same.append(f"{rel}:{node.lineno}: {_text(en)!r}")
    assert same == []


# -- the helpers that keep the bokmål through a re-wrap ---------------------------------------------

def test_joined_keeps_each_messages_bokmaal_and_a_plain_one_reads_the_same():
    m = joined("; ", [said("a must be 1", "a må være 1"), "b: 3"])
    assert m == "a must be 1; b: 3" and m.nb == "a må være 1; b: 3"
    plain = joined("\n", ["x", "y"])
    assert plain == "x\ny" and not isinstance(plain, Said)


def test_a_joined_multi_line_rule_becomes_one_bokmaal_problem_per_line():
    m = keyed("stages.a", said("no stage named 'b'", "ingen trinn heter 'b'"))
    both = joined("\n", [m, said("stages.c: not reachable", "stages.c: kan ikke nås")])
    from effekt.specfile import _lines
    assert [problem_text(p, "nb") for p in _lines(both)] == [
        "stages.a: ingen trinn heter 'b'", "stages.c: kan ikke nås"]


def test_a_computed_number_reads_with_a_decimal_comma_in_bokmaal():
    assert nb_number(0.9) == "0,9" and nb_number(1) == "1" and nb_number(1.25) == "1,25"


def test_did_you_mean_in_both_languages():
    assert suggest("kommun", ["kommune", "state"]) == " (did you mean 'kommune'?)"
    assert suggest("kommun", ["kommune", "state"], lang="nb") == " (mente du 'kommune'?)"
    assert suggest("zzz", ["kommune"], lang="nb") == ""


# -- real bad files through `effekt validate`, in nb (the default) and en ------------------------

def _country(tmp_path: Path, fiscal_edit: tuple[str, str]) -> Path:
    """A scenario whose country is a copy of Norway's folder with one edit to its fiscal rules."""
    from effekt.contracts import fiscal_path

    folder = tmp_path / "land"
    folder.mkdir()
    for name in ("benefits.toml", "target_groups.toml", "labour_market.toml"):
        shutil.copy(ROOT / "sim" / "data" / name, folder / name)
    text = fiscal_path("no").read_text(encoding="utf-8")
    assert fiscal_edit[0] in text
    (folder / "fiscal.toml").write_text(text.replace(*fiscal_edit, 1), encoding="utf-8")
    scenario = tmp_path / "s.toml"
    scenario.write_text(default_scenario_path().read_text(encoding="utf-8").replace(
        "[scenario]\n", f'[scenario]\ncountry = "{folder}"\n', 1), encoding="utf-8")
    return scenario


def _decimal_comma(tmp_path: Path) -> Path:
    path = write(tmp_path)
    path.write_text(path.read_text().replace("size = 6", "size = 6,5"))
    return path


# (name, scenario maker, --set assignments, a part of the nb line, the English line's part)
CASES = [
    ("pathway exits above 1", write,
     ["pathway.stages.course.exits=[{ to = 'dropped_out', p = 0.7 }, { to = 'rejected', p = 0.6 }]"],
     "pathway.stages.course.exits: sannsynlighetene summerer til 1,3 (dropped_out=0,7, rejected=0,6); "
     "de kan summere til høyst 1, resten går til 'next'",
     "pathway.stages.course.exits: probabilities sum to 1.3 (dropped_out=0.7, rejected=0.6); they must "
     "sum to at most 1, the rest goes to 'next'"),
    ("a stage that does not exist", write, ["pathway.stages.course.next='nowhere'"],
     "pathway.stages.course.next: ingen trinn heter 'nowhere' (trinn: ",
     "pathway.stages.course.next: no stage named 'nowhere' (stages: "),
    ("a bad prior", write, ["world.cohorts[0].size={ normal = [5, -1] }"],
     "world.cohorts[0].size: normal krever sd > 0, fikk -1 (skriv point for et fast tall)",
     "world.cohorts[0].size: normal needs sd > 0, got -1 (for a fixed number write point)"),
    ("a misspelt prior", write, ["world.cohorts[0].size={ normall = [5, 1], value = 5 }"],
     "world.cohorts[0].size: 'normall' er ingen fordeling (mente du 'normal'?); en fordeling er en av",
     "world.cohorts[0].size: 'normall' is no distribution (did you mean 'normal'?); a prior is one of"),
    ("a bad dotted --set key", write, ["world.cohort.0.size=3"],
     "--set world.cohort.0.size=3: world.cohort: ingen slik tabell (mente du 'cohorts'?); tabeller her:",
     "--set world.cohort.0.size=3: world.cohort: no such table (did you mean 'cohorts'?); tables here:"),
    ("a key that is no dotted key", write, ["world..size=3"],
     "'world..size' er ikke en punktnøkkel: et navn eller tall må følge punktumet på plass 6",
     "'world..size' is not a dotted key: a name or number must follow the dot at position 6"),
    ("a contract with a bad payer", write, ["contract.commissioners={ kommun = 1.0 }"],
     "contract.commissioners.kommun: ikke en part som kan være oppdragsgiver (mente du 'kommune'?); "
     "tillatt: kommune, fylke, state",
     "contract.commissioners.kommun: not a party that can commission (did you mean 'kommune'?); "
     "allowed: kommune, fylke, state"),
    ("commissioners' shares", write, ["contract.commissioners={ kommune = 0.5, state = 0.4 }"],
     "contract.commissioners: andelene summerer til 0,9, ikke 1",
     "contract.commissioners: shares sum to 0.9, not 1"),
    ("group shares", write, ["world.cohorts[0].groups={ A = 0.5, B = 0.4 }"],
     "world.cohorts[0]: gruppeandelene summerer til 0,9, ikke 1",
     "world.cohorts[0]: group shares sum to 0.9, not 1"),
    ("a fiscal rules file with a bad item",
     lambda p: _country(p, ('aap = "state"', 'aap = { state = 0.5, kommune = 0.4 }')), [],
     "benefit_payers.aap: {'state': 0.5, 'kommune': 0.4}: partenes andeler må være ikke-negative og "
     "summere til 1 (summen er 0,9)",
     "benefit_payers.aap: {'state': 0.5, 'kommune': 0.4}: the parties' shares must be non-negative "
     "and sum to 1 (they sum to 0.9)"),
    ("a decimal comma in a file", _decimal_comma, [],
     "et desimaltall skrives med punktum: skriv size = 6.5, ikke 6,5",
     "a decimal number is written with a point: write size = 6.5, not 6,5"),
]

ENGLISH_WORDS = ("must", "needs", "no such", "sum to", "did you mean", "allowed", "is not", "write ",
                 "got ", "probabilities", "shares", "not a ", " or ")
"""English words none of the nb rule lines above may hold (outside quoted names and keys)."""


def _validate(tmp_path: Path, make, sets: list[str], lang: str):
    path = make(tmp_path)
    argv = ["validate", str(path), "--lang", lang]
    for s in sets:
        argv += ["--set", s]
    return CliRunner().invoke(main, argv)


@pytest.mark.parametrize(("name", "make", "sets", "nb", "en"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_file_prints_its_rule_in_bokmaal_and_in_english(tmp_path, name, make, sets, nb, en):
    (tmp_path / "nb").mkdir()
    r_nb = _validate(tmp_path / "nb", make, sets, "nb")
    assert r_nb.exit_code == 2 and isinstance(r_nb.exception, SystemExit), r_nb.output
    assert "Traceback" not in r_nb.output and ": ugyldig" in r_nb.output
    assert nb in r_nb.output, r_nb.output
    line = next(ln for ln in r_nb.output.splitlines() if nb[:20] in ln)
    words = re.sub(r"'[^']*'|\{[^}]*\}|\S*/\S*", " ", line)
    assert [w for w in ENGLISH_WORDS if w in words] == [], line
    (tmp_path / "en").mkdir()
    r_en = _validate(tmp_path / "en", make, sets, "en")
    assert r_en.exit_code == 2 and "Traceback" not in r_en.output and ": invalid" in r_en.output
    assert en in r_en.output, r_en.output


# --- computed numbers in a bokmål message: a decimal comma, never e-notation (review 15, MUST-4) ---

NB_SPEC_FOLDERS = ("sim", "contracts", "src/effekt", "experiments")
FLOAT_SPEC = re.compile(r"[eEfFgGn%]$")
"""A format spec that writes a float its own way (``:g``, ``.4g``, ``.1f``, ``,.0f``, ``e``): a
decimal point, and for ``g``/``e`` an exponent, in a text meant to be bokmål."""

ALLOWED_NB_SPECS = {
    # (file, the formatted expression, its spec): why the spec is right in a bokmål message
    ("contracts/evaluation_design.py", "share", "g"): "the user's own baseline value, as given",
    ("experiments/design.py", "self.low", "g"): "the user's own range end, as given",
    ("experiments/design.py", "self.high", "g"): "the user's own range end, as given",
    ("experiments/scenario.py", "longest", "g"): "LONG_RUN_MAX_YEARS, the integer 100",
    ("experiments/scenario.py", "years", "g"): "the user's value in 'key = value' form (TOML syntax)",
    ("experiments/scenario.py", "world.horizon_weeks", "g"): "the user's value in 'key = value' form",
    ("sim/pathway.py", "steps", ",.0f"): "a whole number, its commas replaced by U+00A0 for nb",
    ("src/effekt/specfile.py", "size", ".1f"): "fixed point (no exponent), '.' replaced by ','",
}


def _nb_arguments(tree: ast.AST):
    """The bokmål side of every message: the second argument of ``said(en, nb)`` / ``Said(en, nb)``
    and the value of an assignment to ``nb`` or a name ending in ``_nb`` (the parallel variables)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and len(node.args) == 2:
            f = node.func
            if (f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")) in ("said", "Said"):
                yield node.args[1]
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and (t.id == "nb" or t.id.endswith("_nb")) for t in targets):
                yield node.value


def float_specs_in_bokmaal(source: str, rel: str) -> list[tuple[str, str, str, int]]:
    """(file, expression, spec, line) of every float format spec inside a bokmål message."""
    found = []
    for arg in _nb_arguments(ast.parse(source)):
        for v in ast.walk(arg):
            if isinstance(v, ast.FormattedValue) and v.format_spec is not None:
                spec = "".join(c.value for c in v.format_spec.values if isinstance(c, ast.Constant))
                if FLOAT_SPEC.search(spec):
                    found.append((rel, ast.unparse(v.value), spec, v.lineno))
    return found


def _all_float_specs_in_bokmaal() -> list[tuple[str, str, str, int]]:
    found = []
    for folder in NB_SPEC_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            found += float_specs_in_bokmaal(path.read_text(encoding="utf-8"), rel)
    return found


def test_no_bokmaal_message_formats_a_computed_number_with_g_or_f():
    stray = [f"{rel}:{line}: {{{expr}:{spec}}} (use nb_number)"
             for rel, expr, spec, line in _all_float_specs_in_bokmaal()
             if (rel, expr, spec) not in ALLOWED_NB_SPECS]
    assert stray == [], "\n".join(stray)


def test_the_nb_spec_allow_list_names_only_specs_that_are_still_there():
    there = {(rel, expr, spec) for rel, expr, spec, _ in _all_float_specs_in_bokmaal()}
    assert set(ALLOWED_NB_SPECS) - there == set()


def test_the_nb_spec_scan_finds_each_form():
    src = ('said(f"{a:g}", f"{a:g} {b:.4g} {c:.1f} {d:,.0f} {e:.2e} {f:d} {g} {nb_number(h)}")\n'
           'x_nb = f"{i:.3g}"\nx_en = f"{j:g}"\nsaid(f"{k:.6g}", "ingen")\n')
    assert sorted((e, s) for _, e, s, _ in float_specs_in_bokmaal(src, "t.py")) == [
        ("a", "g"), ("b", ".4g"), ("c", ".1f"), ("d", ",.0f"), ("e", ".2e"), ("i", ".3g")]


NBSP, THIN = "\u00a0", "\u202f"


@pytest.mark.parametrize(("x", "nb", "en"), [
    (0.9, "0,9", "0.9"), (1, "1", "1"), (-0.0, "0", "0"), (1.25, "1,25", "1.25"),
    (31 * 52 / 12, "134,333", "134.333"),  # 134.3333... to 6 significant digits
    (1.5e6, f"1{NBSP}500{NBSP}000", f"1{THIN}500{THIN}000"),  # :g would say 1.5e+06
    (1e7, f"10{NBSP}000{NBSP}000", f"10{THIN}000{THIN}000"),
    (1234567.0, f"1{NBSP}234{NBSP}567", f"1{THIN}234{THIN}567"),  # a whole number exactly
    (12345.678, f"12{NBSP}345,7", f"12{THIN}345.7"),
    (-1234.5, f"-1{NBSP}234,5", f"-1{THIN}234.5"),
    (1e-7, "0,0000001", "0.0000001"),  # :g would say 1e-07
    (2.5e20, "250" + f"{NBSP}000" * 6, "250" + f"{THIN}000" * 6),
])
def test_nb_and_en_number_write_every_number_in_full(x, nb, en):
    from effekt.specfile import en_number
    assert nb_number(x) == nb and en_number(x) == en
    assert "e" not in nb_number(x) and "e" not in en_number(x)


def test_fewer_significant_digits_and_an_ungrouped_english_number():
    from effekt.specfile import en_number
    assert nb_number(100 / 52, 3) == "1,92" and en_number(100 / 52, 3) == "1.92"
    assert nb_number(12345.6, 4) == f"12{NBSP}350" and nb_number(0.000123456, 2) == "0,00012"
    # grouped=False is f"{x:g}" wherever :g has no exponent, and the number in full where it has
    for x in (52000.5, 100, 0.25, 134.333):
        assert en_number(x, grouped=False) == f"{x:g}"
    assert en_number(1e7, grouped=False) == "10000000"


REVIEW_15_COMMANDS = [
    # (the reviewer's --set values, the bokmål line, the English line)
    (["contract.contract.term_months=31", "world.horizon_weeks=100"],
     "world.horizon_weeks (100) er kortere enn kontrakten: contract.contract.term_months = 31 måneder "
     "trenger en horisont på minst 134,333 uker (31 x 52/12)",
     "world.horizon_weeks (100) is shorter than the contract: contract.contract.term_months = 31 months "
     "needs a horizon of at least 134.333 weeks (31 x 52/12)"),
    (["world.horizon_weeks=100", "world.long_run_years=1", "contract.contract.term_months=20",
      "contract.contract.payment_lag_months=1"],
     "world.long_run_years = 1 (52 uker) slutter før kontraktsperioden (world.horizon_weeks = 100, "
     "1,92 år)",
     "world.long_run_years = 1 (52 weeks) ends before the contract period (world.horizon_weeks = 100, "
     "1.92 years)"),
    (["contract.caps.contract=1500000", "contract.caps.per_person=2500000",
      "contract.prices.job_start=2000000"],
     f"contract.caps.contract (1{NBSP}500{NBSP}000) er lavere enn én enkelt pris (2{NBSP}000{NBSP}000)",
     f"contract.caps.contract (1{THIN}500{THIN}000) is below a single price (2{THIN}000{THIN}000)"),
    (["world.horizon_weeks=10000000"],
     f"world.horizon_weeks: 10{NBSP}000{NBSP}000 er for lang; høyst 52{NBSP}000 uker (1{NBSP}000 år) "
     "er tillatt",
     "world.horizon_weeks: 10000000 is too long; at most 52000 weeks (1000 years) are allowed"),
]
E_NOTATION = re.compile(r"\d[eE][+-]?\d")


@pytest.mark.parametrize(("sets", "nb", "en"), REVIEW_15_COMMANDS,
                         ids=["horizon", "long_run", "caps", "huge"])
def test_the_reviewers_commands_print_numbers_in_full_and_nb_with_a_decimal_comma(sets, nb, en):
    for lang, want in (("nb", nb), ("en", en)):
        argv = ["validate", str(default_scenario_path()), "--lang", lang]
        for s in sets:
            argv += ["--set", s]
        r = CliRunner().invoke(main, argv)
        assert r.exit_code == 2 and "Traceback" not in r.output, r.output
        assert want in r.output, r.output
        assert not E_NOTATION.search(r.output), r.output
        if lang == "nb":  # no number with a decimal point: 134.333, 1.92
            assert not re.search(r"\d\.\d", r.output.replace("52/12", "")), r.output
