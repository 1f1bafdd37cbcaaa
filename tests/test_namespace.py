"""One import name, ``effekt``, and a public face per layer.

Installed, the folders ``sim/``, ``contracts/`` and ``experiments/`` are ``effekt.sim``,
``effekt.contracts`` and ``effekt.experiments``: outside the repository the bare names do not
import (they would clash with PyPI's ``contracts`` and ``experiments`` and with a user's own
folders), the distribution's only top-level name is ``effekt``, and the ``effekt`` command runs.
Each face lists its public API in its docstring, one line per name, and the list cannot rot: every
name in ``__all__`` exists and is listed, and every listed name is in ``__all__``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FACES = ("effekt.sim", "effekt.contracts", "effekt.experiments")

LISTED = re.compile(r"^ {4}(\w+) ", re.MULTILINE)
"""A name in a face's docstring: four spaces, the name, then what it is (continuation lines of a
description are indented further, topic headings not at all)."""


def _python(code: str, cwd: Path) -> dict:
    """Run ``code`` in a fresh interpreter of this environment in ``cwd`` (without PYTHONPATH, so
    only what is installed is importable) and return the JSON it prints."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


PROBE = """
import importlib, json
result = {}
for name in ("sim", "contracts", "experiments"):
    try:
        importlib.import_module(name)
        result[name] = "imported"
    except ModuleNotFoundError as err:
        result[name] = "ModuleNotFoundError: " + str(err)
import effekt, effekt.sim, effekt.contracts, effekt.experiments
result["version"] = effekt.__version__
result["files"] = {m.__name__: m.__file__ for m in (effekt, effekt.sim, effekt.contracts, effekt.experiments)}
print(json.dumps(result))
"""


def test_outside_the_repository_only_the_effekt_names_import(tmp_path):
    got = _python(PROBE, tmp_path)
    for name in ("sim", "contracts", "experiments"):
        assert got[name] == f"ModuleNotFoundError: No module named '{name}'"
    assert isinstance(got["version"], str) and got["version"]
    assert got["version"] == importlib.metadata.version("effekt")
    for file in got["files"].values():
        assert not Path(file).is_relative_to(tmp_path)


def test_a_users_own_folders_do_not_shadow_effekt(tmp_path):
    """The reason for the namespace: a notebook next to the user's own ``sim/`` or
    ``experiments/`` folder still gets effekt's layers."""
    for name in ("sim", "contracts", "experiments"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("MINE = True\n")
    got = _python(PROBE, tmp_path)
    assert all(got[name] == "imported" for name in ("sim", "contracts", "experiments"))  # theirs
    for module, file in got["files"].items():
        assert not Path(file).is_relative_to(tmp_path), module


def _installed() -> importlib.metadata.Distribution:
    """The distribution installed in this environment's site-packages (not a build's
    ``effekt.egg-info`` in the working directory, which ``importlib.metadata`` would find first)."""
    site = Path(sysconfig.get_paths()["purelib"])
    [dist] = [d for d in importlib.metadata.distributions(path=[str(site)])
              if d.metadata["Name"] == "effekt"]
    return dist


def _top_level_names(dist: importlib.metadata.Distribution) -> set[str]:
    """The importable top-level names a distribution puts on ``sys.path``: the files its RECORD
    lists outside the dist-info and the scripts folder, and for a link-tree editable install what
    the directory its ``.pth`` file names holds (setuptools' ``__editable__`` files aside)."""
    names: set[str] = set()
    for file in dist.files or []:
        top = file.parts[0]
        if file.suffix == ".pth":
            for line in Path(dist.locate_file(file)).read_text(encoding="utf-8").splitlines():
                tree = Path(line.strip())
                if line.strip() and not line.startswith(("#", "import")) and tree.is_dir():
                    names |= {p.name.split(".")[0] for p in tree.iterdir() if p.name != "__pycache__"}
        elif not (top == ".." or top.endswith(".dist-info") or top.startswith("__editable__")):
            names.add(top.split(".")[0])
    return names


def test_the_distribution_has_one_top_level_name():
    dist = _installed()
    assert dist.files, "the installed distribution lists no files (no RECORD)"
    assert _top_level_names(dist) == {"effekt"}
    assert (dist.read_text("top_level.txt") or "effekt").split() == ["effekt"]


def test_the_effekt_command_runs(tmp_path):
    [script] = _installed().entry_points.select(group="console_scripts", name="effekt")
    assert script.value == "effekt.experiments.cli:main"
    exe = Path(sys.executable).parent / "effekt"
    assert exe.exists(), f"no console script at {exe}: reinstall (make .venv/.installed)"
    out = subprocess.run([str(exe), "--help", "--lang", "en"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Usage: effekt")


# ---------------------------------------------------------------------------------------------
# the faces


@pytest.mark.parametrize("face", FACES)
def test_every_public_name_exists_and_is_listed_once(face):
    module = importlib.import_module(face)
    exported = module.__all__
    assert len(set(exported)) == len(exported), "a name is twice in __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{face}.__all__ names what the face does not define: {missing}"
    listed = LISTED.findall(module.__doc__ or "")
    unlisted = sorted(set(exported) - set(listed))
    assert not unlisted, f"{face}'s docstring does not list {unlisted} (one line per name)"
    stale = sorted(set(listed) - set(exported))
    assert not stale, f"{face}'s docstring lists {stale}, which are not in __all__"
    twice = sorted({n for n in listed if listed.count(n) > 1})
    assert not twice, f"{face}'s docstring lists {twice} more than once"


def test_the_docstring_check_can_fail():
    doc = "Topic\n    simulate    one replication\n    World       the world\n                continued\n"
    assert LISTED.findall(doc) == ["simulate", "World"]


def test_the_face_is_the_same_object_as_its_home():
    """A face re-exports; it does not wrap (so identity checks and pickling keep working)."""
    import effekt.contracts
    import effekt.contracts.terms
    import effekt.experiments.examples
    import effekt.sim
    import effekt.sim.records

    assert effekt.sim.SPELLS is effekt.sim.records.SPELLS
    assert effekt.contracts.Terms is effekt.contracts.terms.Terms
    assert effekt.experiments.PATHWAY_TEMPLATES is effekt.experiments.examples.PATHWAY_TEMPLATES
    assert isinstance(effekt.__version__, str)


def test_builtin_world_data_is_sims_defaults_as_plain_tables():
    from effekt.sim import (
        Benefit,
        LabourMarket,
        TargetGroup,
        builtin_world_data,
        default_benefits,
        default_labour_market,
        default_target_groups,
    )
    from effekt.specfile import validate

    data = builtin_world_data()
    assert set(data) == {"groups", "benefits", "labour_market"}
    assert sorted(data["groups"]) == ["A", "B", "C", "D", "R"]  # the groups the data file declares
    assert data["labour_market"]["temporary_share"] == 0.35     # sim/data/labour_market.toml
    assert data["benefits"]["aap"]["g"] == 2.041                # folketrygdloven § 11-20 minimum
    # numbers given as priors (effekt.priors) are validated at their point values, as the loaders do
    assert {k: validate(TargetGroup, v, k) for k, v in data["groups"].items()} == default_target_groups()
    assert {k: Benefit.model_validate(v) for k, v in data["benefits"].items()} == default_benefits()
    assert LabourMarket.model_validate(data["labour_market"]) == default_labour_market()
    data["groups"]["A"]["wage"] = 1
    data["labour_market"].clear()
    again = builtin_world_data()
    assert again["groups"]["A"]["wage"] == 420000 and again["labour_market"]["temporary_share"] == 0.35


def test_the_shared_base_modules_list_their_api():
    import effekt.dotted
    import effekt.specfile

    for mod in (effekt.specfile, effekt.dotted):
        assert mod.__all__, mod.__name__
        for name in mod.__all__:
            assert hasattr(mod, name), (mod.__name__, name)
            assert name in (mod.__doc__ or ""), f"{mod.__name__}'s docstring does not list {name}"
