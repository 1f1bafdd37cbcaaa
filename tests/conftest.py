"""Shared fixtures: a small default scenario that runs in seconds."""

from __future__ import annotations

import pytest

from effekt.experiments.scenario import load_scenario


@pytest.fixture(scope="session")
def small_scenario():
    """The built-in default scenario with 24 replications."""
    return load_scenario(None, ["design.replications=24"])


@pytest.fixture(autouse=True)
def _no_locale_from_the_machine(monkeypatch):
    """The command line takes its default language from LC_ALL, LC_MESSAGES and LANG
    (:mod:`effekt.experiments.cli_lang`): tests run as on a machine with none of them set (bokmål),
    whatever the developer's or CI's locale; a test that wants one sets it."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
