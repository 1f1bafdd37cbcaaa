"""The installed package: one top-level name, and an editable install that static tools can follow.

setuptools' default editable mode for a ``package-dir`` mapping installs an import hook (a
``__editable___*_finder.py`` module), which IDEs and type checkers do not run, so they would not
find ``effekt.sim``. The Makefile asks for the *strict* mode instead: a plain directory of links
named in a ``.pth`` file, which every tool reads the same way as an ordinary installed package.
"""

from __future__ import annotations

import importlib.metadata as md
import sys
import sysconfig
from pathlib import Path

import pytest

import effekt

SITE = Path(sysconfig.get_paths()["purelib"])


def _distribution() -> md.Distribution:
    """The installed distribution (not a build's ``effekt.egg-info`` in the working directory)."""
    found = [d for d in md.distributions(path=[str(SITE)]) if d.metadata["Name"] == "effekt"]
    assert len(found) == 1, f"effekt installed {len(found)} times in {SITE}"
    return found[0]


def test_the_only_top_level_name_is_effekt():
    top = (_distribution().read_text("top_level.txt") or "").split()
    assert top == ["effekt"]


def _editable_path_entries() -> list[Path]:
    entries = []
    for pth in SITE.glob("__editable__*effekt*.pth"):
        lines = pth.read_text().splitlines()
        entries += [Path(line) for line in lines if line and not line.startswith("import")]
    return entries


def test_an_editable_install_is_a_link_tree_not_an_import_hook():
    _distribution()
    if not list(SITE.glob("__editable__*effekt*.pth")):
        pytest.skip("effekt is installed as a regular wheel, not editable")
    assert not list(SITE.glob("__editable___effekt*finder.py")), (
        "editable install uses an import hook that type checkers cannot follow; "
        "install with --config-settings editable_mode=strict (as the Makefile does)")
    roots = _editable_path_entries()
    assert roots, "the .pth file names a directory"
    for layer in ("sim", "contracts", "experiments"):
        assert any((r / "effekt" / layer / "__init__.py").exists() for r in roots), layer
    # the package imported is the one in that tree, and its files are the repository's own
    assert any(Path(effekt.__file__).is_relative_to(r) for r in roots)
    repo = Path(__file__).resolve().parents[1]
    from effekt import sim

    assert Path(sim.__file__).resolve() == repo / "sim" / "__init__.py"


def test_the_version_is_the_distributions():
    assert effekt.__version__ == _distribution().version
    assert sys.modules["effekt"] is effekt


def test_messages_name_the_repository_files_not_the_link_tree():
    from effekt.experiments import load_scenario
    from effekt.specfile import SpecError

    with pytest.raises(SpecError) as err:
        load_scenario(None, ["world.cohorts.0.sise=3"])
    assert "__editable__" not in str(err.value) and "default.toml" in str(err.value)
