"""Start-up (issue 14): ``effekt --help`` and ``effekt validate`` must not import what they do not
need. Asserted on the modules a fresh interpreter has loaded, never on time: ``--help`` loads none
of numpy, pandas, pyarrow, scipy or matplotlib; ``validate`` (which checks the contract against
the pathway, so it needs the simulation's and the contracts' modules) loads no matplotlib, and
the contracts' root finder only when an IRR is computed. The public names of
``effekt.experiments`` are imported on first use (PEP 562) and are still all there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numpy", "pandas", "pyarrow", "scipy", "matplotlib", "simpy")
DEFAULT = Path(__file__).resolve().parents[1] / "experiments" / "scenarios" / "default.toml"


def _loaded_after(code: str) -> set[str]:
    """The top-level packages of ``HEAVY`` a fresh interpreter has imported after ``code``."""
    probe = (f"import sys, json\n{code}\n"
             f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _cli(args: list[str]) -> str:
    return ("from effekt.experiments.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code")


def test_importing_the_command_line_loads_nothing_heavy():
    assert _loaded_after("import effekt.experiments.cli") == set()


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["summary", "--help"],
                                  ["pathways", "--help"], ["decide", "--help"]])
def test_help_loads_nothing_heavy(args):
    assert _loaded_after(_cli(args)) == set()


def test_validate_loads_no_plotting_and_no_root_finder_of_its_own():
    """validate resolves the scenario (numpy, the simulation's schemas) but neither plots nor runs:
    no matplotlib. scipy.stats still comes in for the priors' supports (every built-in pathway
    has priors), so only the modules effekt itself imports eagerly are checked beside it."""
    loaded = _loaded_after(_cli(["validate", str(DEFAULT)]) + "\nimport effekt.contracts.finance as f\n"
                           "assert 'brentq' not in vars(f)")
    assert "matplotlib" not in loaded
    assert "numpy" in loaded  # it did validate: the scenario was resolved against the pathway


def test_the_package_face_is_lazy_and_complete():
    assert _loaded_after("import effekt.experiments") == set()
    import effekt.experiments as ex

    assert set(ex.__all__) == set(ex._HOMES)
    for name in ex.__all__:
        assert getattr(ex, name) is not None, name
        assert name in dir(ex)
    with pytest.raises(AttributeError, match="no_such_name"):
        ex.no_such_name  # noqa: B018
    from effekt.experiments import report_figures  # a submodule still imports through the face

    assert report_figures.__name__ == "effekt.experiments.report_figures"
