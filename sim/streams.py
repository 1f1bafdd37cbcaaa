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

from effekt import lazy

np = lazy.module("numpy", globals())  # on first use: `effekt validate` draws nothing (issue 14)

STREAM_NAMES = ("people", "pathway", "labour_market", "counterfactual", "assignment", "arrivals",
                "employability", "comparison", "benefits", "long_run")


class _Stream:
    """One named stream of :class:`Streams`, made on first use and kept in the instance.

    Stream ``i`` is the generator of the child ``SeedSequence(entropy, spawn_key=(*key, i))``: a
    child is determined by its spawn key alone, so making it late, or not at all, never changes
    the numbers of any other stream. Making all ten costs about 0.1 ms, a fifth of a small
    world's replication, and most worlds use half of them (issue 14)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.index = name, STREAM_NAMES.index(name)

    def __get__(self, obj: Streams | None, owner: type) -> np.random.Generator | _Stream:
        if obj is None:
            return self
        ss = obj.seed
        gen = np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, self.index))))
        obj.__dict__[self.name] = gen  # later reads find it in the instance: no descriptor call
        return gen


class Streams:
    """One generator per named purpose, spawned from one seed; see :data:`STREAM_NAMES` for the
    spawn order. Each is made the first time it is read (:class:`_Stream`)."""

    people = _Stream()
    pathway = _Stream()
    labour_market = _Stream()
    counterfactual = _Stream()
    assignment = _Stream()
    arrivals = _Stream()  # arrival times of referral streams
    employability = _Stream()  # each person's latent employability (both arms)
    comparison = _Stream()  # the matched comparison group (its people and their lives)
    benefits = _Stream()  # what a benefit becomes when it ends by its rules (both arms)
    long_run = _Stream()  # every draw at or after the contract's horizon, in a long run

    def __init__(self, seed: np.random.SeedSequence, **given: np.random.Generator):
        """Streams of ``seed``; ``given`` replaces named streams with generators of one's own (a
        test forcing a draw), by name."""
        unknown = sorted(set(given) - set(STREAM_NAMES))
        if unknown:
            raise ValueError(f"unknown random stream(s) {unknown}; allowed: {', '.join(STREAM_NAMES)}")
        self.seed = seed
        self.__dict__.update(given)

    @classmethod
    def from_seed(cls, seed: int | np.random.SeedSequence) -> Streams:
        # derive children without mutating ``seed``: the same seed object always gives the same streams
        return cls(seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed))

    def replace(self, **given: np.random.Generator) -> Streams:
        """The same streams with the named ones replaced (streams already made are shared)."""
        made = {n: self.__dict__[n] for n in STREAM_NAMES if n in self.__dict__}
        return Streams(self.seed, **{**made, **given})

    def generators(self) -> tuple[np.random.Generator, ...]:
        """Every stream, in spawn order (making those not made yet)."""
        return tuple(getattr(self, n) for n in STREAM_NAMES)


def replication_seed(root: int, replication: int) -> np.random.SeedSequence:
    """The seed of one replication: independent of design point, executor and worker count."""
    return np.random.SeedSequence(root, spawn_key=(replication,))
