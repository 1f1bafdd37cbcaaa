"""Named random streams for one replication, all spawned from one ``SeedSequence``.

Every draw in the simulation comes from one of these generators, never from a global state. The
streams are spawned in a fixed order by name, so adding a stream at the end never changes the
draws of the others, and the people drawn for a replication are the same whatever the pathway or
contract (common random numbers across design points and arms).

``long_run``: a world simulated beyond its contract's horizon (``World.contract_horizon_weeks``,
a scenario's ``world.long_run_years``) draws everything that happens at or after that horizon
from this stream instead of the stream of its purpose. The purpose streams are shared by
everyone, so without it each person's draws past the contract would shift the numbers of
everyone after them; with it, the streams see exactly the draws a simulation ending at the
contract's horizon makes, and the contract period is the same with or without a long run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STREAM_NAMES = ("people", "pathway", "labour_market", "counterfactual", "assignment", "arrivals",
                "employability", "comparison", "benefits", "long_run")


@dataclass(frozen=True)
class Streams:
    """One generator per named purpose; see :data:`STREAM_NAMES` for the spawn order."""

    people: np.random.Generator
    pathway: np.random.Generator
    labour_market: np.random.Generator
    counterfactual: np.random.Generator
    assignment: np.random.Generator
    arrivals: np.random.Generator  # arrival times of referral streams
    employability: np.random.Generator  # each person's latent employability (both arms)
    comparison: np.random.Generator  # the matched comparison group (its people and their lives)
    benefits: np.random.Generator  # what a benefit becomes when it ends by its rules (both arms)
    long_run: np.random.Generator  # every draw at or after the contract's horizon, in a long run

    @classmethod
    def from_seed(cls, seed: int | np.random.SeedSequence) -> Streams:
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        # derive children without mutating ``ss``: the same seed object always gives the same streams
        children = [
            np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, i))
            for i in range(len(STREAM_NAMES))
        ]
        return cls(*(np.random.Generator(np.random.PCG64(c)) for c in children))


def replication_seed(root: int, replication: int) -> np.random.SeedSequence:
    """The seed of one replication: independent of design point, executor and worker count."""
    return np.random.SeedSequence(root, spawn_key=(replication,))
