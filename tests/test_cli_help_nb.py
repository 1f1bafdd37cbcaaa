"""Issue 13: every help page and click's own messages in bokmål when the invocation is (the
default), and today's English with ``--lang en`` or an English locale
(:mod:`effekt.experiments.cli_help`, the table :mod:`effekt.experiments.cli_help_nb`, click's
catalogue experiments/locale/nb/LC_MESSAGES/click.po)."""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path

import click
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner

from effekt.experiments import cli_help
from effekt.experiments.cli import main
from effekt.experiments.cli_help import CATALOGUE, CLICK_MODULES, lang_in_args, texts, walk
from effekt.experiments.cli_help_nb import HELP_NB, METAVARS_NB

CLICK_DIR = Path(click.__file__).parent
PO = CATALOGUE.with_suffix(".po")
ENGLISH = {"LANG": "en_GB.UTF-8"}


def _commands() -> list[tuple[str, ...]]:
    """Every command's path under ``effekt`` (``()`` is the group itself)."""
    paths = []
    for _cmd, ctx in walk(main):
        paths.append(tuple(ctx.command_path.split()[1:]))
    return paths


COMMANDS = _commands()


def _invoke(args: list[str], env: dict[str, str] | None = None, **kw):
    return CliRunner().invoke(main, args, env=env, prog_name="effekt", **kw)


def _flat(text: str) -> str:
    """``text`` with its wrapping undone (any run of white space one space)."""
    return re.sub(r"\s+", " ", text).strip()


# -- both texts for every command and option ----------------------------------------------------

def test_every_command_and_option_has_an_english_and_a_bokmal_help_text():
    missing, no_help = [], []
    for cmd, ctx in walk(main):
        if not cmd.help:
            no_help.append(ctx.command_path)
        for param in cmd.get_params(ctx):
            if isinstance(param, click.Option) and not param.help:
                no_help.append(f"{ctx.command_path} {param.opts[0]}")
        for _obj, attr, text in texts(cmd, ctx):
            table = METAVARS_NB if attr == "metavar" else HELP_NB
            if text not in table and cli_help.catalogue().gettext(text) == text:
                missing.append(f"{ctx.command_path} [{attr}]: {text[:60]!r}")
    assert no_help == [], "commands and options without a help text"
    assert missing == [], "English texts without their bokmål in effekt.experiments.cli_help_nb"


def test_the_table_holds_no_text_that_no_command_uses_any_more():
    used = {text for cmd, ctx in walk(main) for _o, attr, text in texts(cmd, ctx) if attr != "metavar"}
    metavars = {text for cmd, ctx in walk(main) for _o, attr, text in texts(cmd, ctx) if attr == "metavar"}
    assert set(HELP_NB) - used == set()
    assert set(METAVARS_NB) - metavars == set()
    assert all(nb and nb != en for en, nb in HELP_NB.items())


# -- help pages in bokmål ----------------------------------------------------------------------

@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "effekt")
def test_each_help_page_in_bokmal_has_no_english_sentence_and_a_norwegian_frame(path):
    nb = _invoke([*path, "--help"])
    assert nb.exit_code == 0, nb.output
    page = _flat(nb.output)
    cmd, ctx = next((c, x) for c, x in walk(main) if tuple(x.command_path.split()[1:]) == path)
    for _obj, attr, en in texts(cmd, ctx):
        words = en.split()
        if attr == "metavar" or len(words) < 3:
            continue
        assert _flat(" ".join(words[:6])) not in page, f"English in the bokmål help: {en[:60]!r}"
    assert nb.output.startswith(f"Bruk: effekt {' '.join(path)}".replace("  ", " ").rstrip() + " [VALG]")
    assert "Valg:" in nb.output and "Vis denne hjelpen og avslutt." in nb.output
    for english in ("Usage:", "Options:", "Commands:", "Show this message", "[default:", "[required]",
                    "INTEGER", "FLOAT", "TEXT", "PATH", "[OPTIONS]"):
        assert english not in nb.output, english


def test_the_bokmal_frame_words():
    page = _invoke(["--help"]).output
    assert page.startswith("Bruk: effekt [VALG] KOMMANDO [ARGUMENTER]...\n")
    assert "\nKommandoer:\n" in page and "  --version       Vis versjonen og avslutt.\n" in page
    breakeven = _flat(_invoke(["breakeven", "--help"]).output)
    assert "--for PART" in breakeven and "[påkrevd]" in breakeven
    assert "--points HELTALL Antall verdier som prøves, jevnt fordelt fra --low til --high. " \
           "[standard: 7; x>=2]" in breakeven
    assert "--target DESIMALTALL" in breakeven
    assert "--set NØKKEL=VERDI Overstyr en nøkkel i scenariet" in breakeven
    assert _invoke(["--version"]).output == "effekt, versjon 0.1.0\n"


# -- today's English ---------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["--lang en after --help", "--lang en before --help", "LANG=en_GB",
                                 "--lang=en on the group"])
def test_english_help_as_today(how):
    args = {"--lang en after --help": (["run", "--help", "--lang", "en"], None),
            "--lang en before --help": (["run", "--lang", "en", "--help"], None),
            "LANG=en_GB": (["run", "--help"], ENGLISH),
            "--lang=en on the group": (["--lang=en", "run", "--help"], None)}[how]
    r = _invoke(args[0], args[1])
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert lines[0] == "Usage: effekt run [OPTIONS] [SCENARIO]"
    assert "  Run SCENARIO (a TOML file; without it the built-in default) and summarise." in lines
    assert "Options:" in lines
    assert "  --runs INTEGER RANGE     Replications per design point (default: the" in lines
    assert "  --set KEY=VALUE          Override a scenario key, e.g. --set" in lines
    assert lines[-1] == "  -h, --help               Show this message and exit."


def test_english_errors_and_group_help_as_today():
    r = _invoke(["validate"], ENGLISH)
    assert r.exit_code == 2
    assert r.output.splitlines() == ["Usage: effekt validate [OPTIONS] SCENARIO",
                                     "Try 'effekt validate --help' for help.", "",
                                     "Error: Missing argument 'SCENARIO'."]
    r = _invoke(["run", "--runs", "x", "--lang", "en"])
    assert r.exit_code == 2 and "Error: Invalid value for '--runs': 'x' is not a valid integer range." \
        in r.output
    page = _invoke(["--help"], ENGLISH).output
    assert page.startswith("Usage: effekt [OPTIONS] COMMAND [ARGS]...\n")
    assert "\nCommands:\n" in page and "  --version       Show the version and exit.\n" in page
    assert _invoke(["--version"], ENGLISH).output == "effekt, version 0.1.0\n"


def test_a_bokmal_invocation_leaves_the_next_one_english():
    """The same process (the tests, the app) runs invocation after invocation: nothing of the
    bokmål stays behind, not even the help option click makes once and keeps."""
    before = {id(o): (a, t) for cmd, ctx in walk(main) for o, a, t in texts(cmd, ctx)}
    assert "Bruk:" in _invoke(["run", "--help"]).output
    assert "Usage:" in _invoke(["run", "--help"], ENGLISH).output
    after = {id(o): (a, t) for cmd, ctx in walk(main) for o, a, t in texts(cmd, ctx)}
    assert after == before
    import click.core
    import click.exceptions

    assert click.core._ is gettext.gettext and click.exceptions.ngettext is gettext.ngettext
    assert click.INT.name == "integer" and "name" not in vars(click.INT)


# -- usage errors in bokmål, exit code 2 -------------------------------------------------------

@pytest.mark.parametrize("args, says", [
    (["validate"], "Feil: Mangler argumentet 'SCENARIO'."),
    (["breakeven"], "Feil: Mangler valget '--for'."),
    (["run", "--runz", "3"],
     "Feil: Valget '--runz' finnes ikke. (Mente du en av disse: '--chunk', '--runs'?)"),
    (["run", "--overwrit"], "Feil: Valget '--overwrit' finnes ikke. Mente du '--overwrite'?"),
    (["run", "--runs", "x"], "Feil: Ugyldig verdi for '--runs': 'x' er ikke et gyldig heltall."),
    (["run", "--runs", "0"], "Feil: Ugyldig verdi for '--runs': 0 er ikke i intervallet x>=1."),
    (["breakeven", "--for", "x", "--vary", "y", "--target", "abc"],
     "Feil: Ugyldig verdi for '--target': 'abc' er ikke et gyldig desimaltall."),
    (["summary", "--format", "xx", "."],
     "Feil: Ugyldig verdi for '--format': 'xx' er ikke en av 'text', 'csv', 'json', 'markdown'."),
    (["summary", "/no/such/dir"], "Feil: Ugyldig verdi for 'OUT': Mappe '/no/such/dir' finnes ikke."),
    (["report", "/no/such/dir"], "Feil: Ugyldig verdi for 'RESULTS': Mappe '/no/such/dir' finnes ikke."),
    (["run", "a.toml", "b.toml"], "Feil: Fikk et uventet ekstra argument (b.toml)"),
    (["run", "--runs"], "Feil: Valget '--runs' må ha en verdi."),
    (["nosuch"], "Feil: Kommandoen 'nosuch' finnes ikke."),
    (["validate", "--lang", "de", "x.toml"],
     "Feil: Ugyldig verdi for '--lang': 'de' er ikke en av 'nb', 'en'."),
])
def test_usage_errors_in_bokmal(args, says):
    r = _invoke(args)
    assert r.exit_code == 2
    assert says in r.output.splitlines(), r.output
    assert "Usage" not in r.output and "Error" not in r.output
    if "Bruk:" in r.output:
        assert f"Prøv 'effekt {args[0] if args[0] != 'nosuch' else ''}".rstrip() in r.output
        assert "for hjelp." in r.output


def test_aborted_in_bokmal():
    r = _invoke(["init"], input="")  # the first question meets the end of input
    assert r.exit_code == 1 and r.stderr.strip() == "Avbrutt!"
    r = _invoke(["init", "--lang", "en"], input="")
    assert r.exit_code == 1 and r.stderr.strip() == "Aborted!"


# -- the language of the invocation --------------------------------------------------------------

@pytest.mark.parametrize("args, lang", [
    (["run", "--help", "--lang", "en"], "en"), (["--lang=nb", "run"], "nb"), (["run", "x.toml"], None),
    (["run", "--lang", "de"], None), (["run", "--", "--lang", "en"], None), (["run", "--lang"], None),
])
def test_lang_in_args(args, lang):
    assert lang_in_args(args) == lang


def test_the_group_lang_is_every_command_default():
    r = _invoke(["--lang", "en", "validate"])
    assert r.exit_code == 2 and "Error: Missing argument 'SCENARIO'." in r.output
    r = _invoke(["--lang", "en", "pathways", "list"])
    assert r.exit_code == 0 and r.output.split()[:3] == ["NAME", "STAGES", "TITLE"]
    assert _invoke(["pathways", "list"]).output.split()[:3] == ["NAVN", "TRINN", "TITTEL"]


# -- click's catalogue ---------------------------------------------------------------------------

def _click_msgids() -> set[str]:
    ids = set()
    for path in sorted(CLICK_DIR.glob("*.py")):
        for _line, msg, _comments, _context in extract_from_file(
                "python", str(path), keywords={"_": None, "ngettext": (1, 2)}):
            ids.add(msg if isinstance(msg, str) else msg[0])
    return ids


def test_every_message_click_marks_has_its_bokmal():
    catalog = read_po(PO.open("rb"))
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string
                  and all(m.string if isinstance(m.string, tuple) else [m.string])}
    assert _click_msgids() - translated == set()


def test_every_click_module_that_imports_gettext_is_bound():
    importing = {f"click.{p.stem}" for p in CLICK_DIR.glob("*.py")
                 if re.search(r"^from gettext import", p.read_text(encoding="utf-8"), re.M)}
    assert importing - {"click._winconsole"} == set(CLICK_MODULES)  # _winconsole: Windows only


def test_the_compiled_catalogue_is_its_po_file():
    """click.mo is shipped compiled (no Babel at start-up): it must say what click.po says
    (recompile: pybabel compile -d experiments/locale -D click -l nb)."""
    buffer = io.BytesIO()
    write_mo(buffer, read_po(PO.open("rb")))
    buffer.seek(0)
    fresh = gettext.GNUTranslations(buffer)
    with CATALOGUE.open("rb") as fh:
        shipped = gettext.GNUTranslations(fh)
    header = ""  # the metadata (Babel stamps its compile time there)
    assert {k: v for k, v in shipped._catalog.items() if k != header} == \
        {k: v for k, v in fresh._catalog.items() if k != header}  # gettext keeps its messages there
    assert shipped.plural(1) == fresh.plural(1) == 0 and shipped.plural(2) == fresh.plural(2) == 1
    assert shipped.gettext("Usage:") == "Bruk:"
    assert shipped.ngettext("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} "
                            "arguments.", 2) == "Valget {name!r} må ha {nargs} verdier."
