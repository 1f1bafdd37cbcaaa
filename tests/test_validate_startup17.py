"""``effekt validate`` well under 0.3 s (issue 14), with every message and resolved scenario as before.

- The priors' tail checks resolve again only the parts of a scenario that read the prior's section
  (:data:`effekt.experiments.scenario._READS`): checked here against the route they replace (every
  check a whole :func:`~effekt.experiments.scenario._resolve_numbers`), kept in this file as the
  reference, on priors in every section, accepted and refused.
- The commands of other modules are imported when an invocation can show them
  (:meth:`effekt.experiments.cli_help.SpeakingGroup.add_lazy`): a validate imports none of them, the
  help lists them all, in bokmål too, and a misspelt command is still told the one meant.
- A key's likeness to a distribution's name (a misspelt prior) is difflib's, asked of fewer names.
- The garbage collector: off while a command imports the library and reads its scenario, and the
  objects kept out of its passes at the end of the process's own command line, never of a call
  with arguments (a test's, a script's).
"""

from __future__ import annotations

import difflib
import gc
import json
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from effekt import priors as priors_module
from effekt.experiments import scenario as scenario_module
from effekt.experiments.cli import _collector_paused, main
from effekt.experiments.cli_help import SpeakingGroup, walk
from effekt.experiments.scenario import read_tree, resolve
from effekt.priors import find_priors, point_values, tail_problems, with_values
from effekt.specfile import SpecError

SCENARIOS = Path(__file__).resolve().parents[1] / "experiments" / "scenarios"
DEFAULT = SCENARIOS / "default.toml"
LAZY = ("cli_pathways", "cli_export", "cli_init", "cli_calibrate", "cli_app", "cli_national")


def _reference_resolve(tree):
    """:func:`resolve` as it was before the tail checks reused parts: every tail check resolves
    the whole scenario with the prior's quantile in its place."""
    priors, tables, problems = find_priors(tree.data, skip=("design",))
    if problems or not priors:
        return resolve(tree)
    at_point = replace(tree, data=with_values(tree.data, point_values(priors)))
    scenario = scenario_module._resolve_numbers(at_point)

    def refused(key, number):
        try:
            tail = replace(at_point, data=with_values(at_point.data, {key: number}))
            scenario_module._resolve_numbers(tail)
        except SpecError as err:
            return err.problems
        return []

    tails = tail_problems(priors, refused)
    if tails:
        raise SpecError(scenario_module._prior_source(tree, tails), tails)
    return scenario


def _outcome(fn, tree):
    """What ``fn(tree)`` gives, comparably: the scenario's world, terms and resolved tree, or the
    error's source and problems in both languages."""
    try:
        sc = fn(tree)
    except SpecError as err:
        return ("refused", err.source, err.text("en"), err.text("nb"))
    return ("resolved", sc.world, sc.terms, sc.info, sc.design, sc.evaluation)


TAILS = [
    (DEFAULT, []),  # seven priors, in the world's groups and the pathway: all accepted
    (SCENARIOS / "kommune_tracks.toml", []),
    (DEFAULT, ["pathway.stages.course.exits[0].p={ uniform = [0.2, 1.4] }"]),  # refused: above 1
    (DEFAULT, ["pathway.stages.work_training.exits[1].p={ value = 0.62, beta = [8, 2] }"]),  # exits sum
    (DEFAULT, ["world.groups.A.employability_sd={ uniform = [-0.5, 1] }"]),
    (DEFAULT, ["world.cohorts[0].size={ uniform = [-3, 20], integer = true }"]),
    (DEFAULT, ["world.horizon_weeks={ uniform = [10, 400] }"]),  # the contract's horizon: a check of both
    (DEFAULT, ["world.labour_market.displacement_share={ uniform = [0, 1.5] }"]),
    (DEFAULT, ["world.long_run_years={ uniform = [0.5, 30] }"]),
    (DEFAULT, ["scenario.discount_rate={ uniform = [-2, 0.06] }"]),
    (DEFAULT, ["scenario.discount_rate={ value = 0.04, uniform = [0.02, 0.06] }"]),
    (DEFAULT, ["contract.prices.job_start={ uniform = [-100, 60000] }"]),
    (DEFAULT, ["contract.contract.term_months={ uniform = [10, 200] }"]),
    (DEFAULT, ["contract.outcomes.job_start.window_weeks={ uniform = [-5, 30] }"]),
    (SCENARIOS / "koto_sib.toml", ["world.labour_market.displacement_share={ beta = [2, 8] }"]),
    (DEFAULT, ["world.groups.A.employability_sd={ uniform = [-0.5, 1] }",
               "scenario.discount_rate={ uniform = [-2, 0.06] }",
               "contract.prices.job_start={ uniform = [-100, 60000] }"]),  # three refused, in order
]


@pytest.mark.parametrize(("path", "sets"), TAILS)
def test_tail_checks_give_what_resolving_everything_gives(path, sets):
    tree = read_tree(path, sets)
    assert _outcome(resolve, tree) == _outcome(_reference_resolve, tree)


def test_a_resolved_scenario_with_priors_is_the_same_and_keeps_its_priors():
    tree = read_tree(DEFAULT)
    sc = resolve(tree)
    assert len(sc.priors) == 6  # group R's prior: no cohort draws from it
    again = resolve(sc.tree)  # the resolved tree keeps the priors' tables
    assert (again.resolved, again.world, again.terms, again.priors) == (sc.resolved, sc.world, sc.terms,
                                                                        sc.priors)


def test_a_tail_check_validates_again_only_the_parts_reading_its_section(monkeypatch):
    seen = []
    validated = scenario_module._validated

    def counting(model, data, section, *args, **kwargs):
        seen.append(section)
        return validated(model, data, section, *args, **kwargs)

    monkeypatch.setattr(scenario_module, "_validated", counting)
    resolve(read_tree(DEFAULT))  # 7 priors: 5 in world.groups, 2 in the pathway; 14 tail checks
    assert seen.count("contract") == 1 and seen.count("design") == 1 and seen.count("scenario") == 1
    assert seen.count("world") == 1 + 2 * 5 and seen.count("pathway") == 1 + 2 * 2
    seen.clear()
    resolve(read_tree(DEFAULT, ["contract.prices.job_start={ triangular = [40000, 60000, 90000] }"]))
    assert seen.count("contract") == 1 + 2 and seen.count("world") == 1 + 2 * 5


def test_a_key_looks_like_a_distribution_s_name_as_difflib_says():
    names = [*priors_module.KINDS, *priors_module.RESERVED]
    letters = "abcdeilmnoprtuy_Bé0 "
    words = [n[:i] + c + n[i + 1:] for n in names for i in range(len(n)) for c in letters]  # one changed
    words += [n[:i] + n[i + 1:] for n in names for i in range(len(n))]  # one dropped
    words += [n[:i] + c + n[i:] for n in names for i in range(len(n) + 1) for c in letters]  # one added
    rng = random.Random(17)
    words += ["".join(rng.choice(letters) for _ in range(rng.randint(0, 14))) for _ in range(3000)]
    words += [*names, "", "p", "employability_sd", "entry_rate_multiplier", "lognormla", "calibrate"]
    close = priors_module._close_kind.__wrapped__
    assert [close(w) for w in words] == [tuple(difflib.get_close_matches(w, names, n=1, cutoff=0.75))
                                         for w in words]
    assert sum(bool(close(w)) for w in words) > 500  # most misspellings are still told what was meant


# -- the commands of other modules, imported when shown -------------------------------------------


def _fresh(code: str) -> dict:
    """What a fresh interpreter prints as JSON on its last line after ``code``."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _invoke_then(args: list[str], probe: str) -> str:
    return ("import sys, json, gc\nfrom effekt.experiments.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit as e:\n    code = e.code\n"
            f"print(json.dumps({probe}))")


def test_validate_imports_no_other_command_and_help_shows_them_all():
    probe = f"sorted(m.rsplit('.', 1)[-1] for m in sys.modules if m.rsplit('.', 1)[-1] in {LAZY!r})"
    assert _fresh(_invoke_then(["validate", "--lang", "en", str(DEFAULT)], probe)) == []
    assert _fresh(_invoke_then(["validate", str(DEFAULT)], "'webbrowser' in sys.modules")) is False
    assert _fresh(_invoke_then(["--lang", "en", "--help"], probe)) == sorted(LAZY)
    assert _fresh(_invoke_then(["pathways", "--help"], probe)) == ["cli_pathways"]


def test_the_tree_of_commands_is_whole_and_a_lazy_command_speaks_bokmal():
    names = {cmd.name for cmd, _ctx in walk(main)}
    assert {"pathways", "export", "init", "calibrate", "app", "national", "validate", "decide"} <= names
    assert "show" in names  # effekt pathways show: the commands of a lazily imported group too
    runner = CliRunner()
    en = runner.invoke(main, ["--lang", "en", "--help"])
    for name in ("app", "calibrate", "export", "init", "national", "pathways"):
        assert f"  {name} " in en.output
    from effekt.experiments.cli_help_nb import HELP_NB

    first = main.commands["app"].help.strip().splitlines()[0]
    words_nb = " ".join(HELP_NB[next(k for k in HELP_NB if k.startswith(first))].split()[:5])
    nb = subprocess.run([sys.executable, "-c", "from effekt.experiments.cli import main; main()", "app",
                         "--help", "--lang", "nb"], capture_output=True, text=True)  # app not imported yet
    assert nb.returncode == 0 and words_nb in " ".join(nb.stdout.split())


def test_a_misspelt_command_is_told_the_lazy_one_it_meant():
    out = subprocess.run([sys.executable, "-c", "from effekt.experiments.cli import main; main()",
                          "--lang", "en", "nationl"], capture_output=True, text=True)
    assert out.returncode == 2 and "No such command 'nationl'" in out.stderr and "'national'" in out.stderr


def test_a_group_loads_only_the_command_named():
    group = SpeakingGroup("g")
    group.add_lazy("pathways", "effekt.experiments.cli_pathways:pathways")
    group.add_lazy("export", "effekt.experiments.cli_export:export")
    group.load_for(["--lang", "en", "pathways", "--", "export"])
    assert set(group.commands) == {"pathways"} and set(group.lazy) == {"export"}
    assert group.list_commands(None) == ["export", "pathways"] and not group.lazy  # type: ignore[arg-type]


# -- the garbage collector ------------------------------------------------------------------------


def test_the_process_s_own_command_line_keeps_its_objects_from_the_collector():
    atexit_probe = ("import atexit, gc\natexit.register(lambda: print(gc.get_freeze_count() > 0, "
                    "gc.isenabled()))\nfrom effekt.experiments.cli import main\nmain()\n")
    out = subprocess.run([sys.executable, "-c", atexit_probe, "validate", "--lang", "en", str(DEFAULT)],
                         capture_output=True, text=True)
    assert out.returncode == 0 and ": ok (kongsberg_default" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "True True"


def test_a_call_with_arguments_leaves_the_collector_as_it_was():
    frozen = gc.get_freeze_count()
    result = CliRunner().invoke(main, ["validate", "--lang", "en", str(DEFAULT)])
    assert result.exit_code == 0, result.output
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    gc.disable()
    try:
        with _collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # off before: off after
    finally:
        gc.enable()
