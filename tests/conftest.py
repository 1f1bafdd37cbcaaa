"""Shared fixtures: a small default scenario that runs in seconds."""

from __future__ import annotations

import pytest

from effekt.experiments.scenario import load_scenario


@pytest.fixture(scope="session")
def small_scenario():
    """The built-in default scenario with 24 replications."""
    return load_scenario(None, ["design.replications=24"])
