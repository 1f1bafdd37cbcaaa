"""Where a results directory's numbers came from, written into its manifest.

A result is only as good as the rules and the code that made it. Besides the resolved scenario (which
the manifest always held), a batch records the tax-and-benefit rules' values as they were read (the
fiscal file is not part of the scenario, so an edited ``fiscal.toml`` would otherwise leave no trace),
the versions of the libraries that compute (numpy, pandas, pyarrow, SimPy, SciPy, pydantic), and the
git commit of effekt's source when it runs from a checkout (with whether the tree had local changes).

    provenance      the manifest's ``provenance`` entry for a scenario
    posteriors      the posterior files a scenario's calibrated numbers draw from, with their hashes
    differences     the dotted keys at which two resolved scenarios (or any two tables) differ
"""

from __future__ import annotations

import hashlib
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

LIBRARIES = ("numpy", "pandas", "pyarrow", "simpy", "scipy", "pydantic", "SALib")
"""The libraries whose versions can change a number effekt stores."""


def _git(source: Path) -> dict[str, Any] | None:
    """The commit of the checkout ``source`` lies in, and whether it had local changes; None when
    effekt is not run from a git checkout (an installed wheel) or git is missing."""
    try:
        commit = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD", "--show-toplevel"],
                                capture_output=True, text=True, timeout=5)
        if commit.returncode != 0:
            return None
        head, top = commit.stdout.split()
        if not (Path(top) / "experiments" / "provenance.py").is_file():
            return None  # an installed effekt inside someone else's repository: not our commit
        status = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head, "local_changes": bool(status.stdout.strip())}


def _versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def posteriors(scenario: Any) -> dict[str, str]:
    """The posterior files the scenario's ``{ calibrated = ... }`` numbers draw from, each with the
    sha256 of its bytes: a scenario file names a posterior, not its contents, so a second
    ``effekt calibrate`` would otherwise change the numbers under the same experiment."""
    out: dict[str, str] = {}
    for prior in (getattr(scenario, "priors", None) or {}).values():
        path = getattr(prior, "path", "")
        if path and path not in out:
            try:
                out[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            except OSError:
                out[path] = "unreadable"
    return out


def provenance(scenario: Any) -> dict[str, Any]:
    """The manifest's ``provenance``: the fiscal rules' values and file, the posterior files of
    calibrated numbers with their hashes, the libraries' versions and the git commit of effekt's
    source (None outside a checkout)."""
    rules = scenario.fiscal
    return {
        "fiscal_rules": rules.model_dump(mode="json"),
        "fiscal_source": str(rules.source or ""),
        "posteriors": posteriors(scenario),
        "libraries": _versions(),
        "git": _git(Path(__file__).resolve().parent),
    }


WHOLE_TABLE = "(the whole table)"
"""What :func:`differences` names when two values differ as a whole (no key to point at)."""

_NB_WORDS = {WHOLE_TABLE: "(hele tabellen)", "design points": "designpunktene", "posteriors": "posteriorene",
             "fiscal rules": "skattereglene"}


def differences_nb(keys: list[str]) -> list[str]:
    """:func:`differences`' keys as a bokmål reader sees them: the whole table and the prefixes
    the store gives (design points, posteriors, fiscal rules) in bokmål, the dotted keys
    themselves (what the user writes in a file) as they are."""
    out = []
    for key in keys:
        for en, nb in _NB_WORDS.items():
            if key == en or key.startswith((f"{en}.", f"{en}[")):
                key = nb + key[len(en):]
                break
        out.append(key)
    return out


def differences(old: Any, new: Any, prefix: str = "", limit: int = 5) -> list[str]:
    """The dotted keys at which ``old`` and ``new`` differ (at most ``limit``, in order): tables
    key by key, lists entry by entry, anything else by value."""
    found: list[str] = []

    def walk(a: Any, b: Any, at: str) -> None:
        if len(found) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                walk(a.get(key, "<absent>"), b.get(key, "<absent>"), f"{at}.{key}" if at else str(key))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{at}[{i}]")
        elif a != b:
            found.append(at or WHOLE_TABLE)

    walk(old, new, prefix)
    return found


__all__ = ["LIBRARIES", "WHOLE_TABLE", "differences", "differences_nb", "posteriors", "provenance"]
