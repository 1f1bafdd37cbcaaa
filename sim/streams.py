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

from functools import cache
from typing import Any

from effekt import lazy

np = lazy.module("numpy", globals())  # on first use: `effekt validate` draws nothing (issue 14)

STREAM_NAMES = ("people", "pathway", "labour_market", "counterfactual", "assignment", "arrivals",
                "employability", "comparison", "benefits", "long_run")


# numpy's SeedSequence constants (numpy/random/bit_generator.pyx), for :func:`_child_words`
_MASK32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715


def _uint32_words(n: int) -> list[int]:
    """A non-negative integer as 32-bit words, lowest first (numpy's ``_int_to_uint32_array``)."""
    if n == 0:
        return [0]
    out = []
    while n > 0:
        out.append(n & _MASK32)
        n >>= 32
    return out


def _mixed(pool: list[int], h: int, words: list[int]) -> int:
    """Mix ``words`` into ``pool`` (in place), each word into each pool word, as numpy's
    ``SeedSequence.mix_entropy`` does with the entropy beyond the pool's size; the hash
    constant after it."""
    for w in words:
        for d in range(4):
            v = w ^ h
            h = (h * _MULT_A) & _MASK32
            v = (v * h) & _MASK32
            v ^= v >> 16
            r = (_MIX_MULT_L * pool[d] - _MIX_MULT_R * v) & _MASK32
            pool[d] = r ^ (r >> 16)
    return h


@cache
def _root_pool(entropy: int) -> tuple[tuple[int, ...], int]:
    """The entropy pool and hash constant of a ``SeedSequence`` with spawn key after mixing in
    its run entropy ``entropy`` (padded to the pool's four words, as numpy does when there is a
    spawn key), before the spawn key: shared by every replication of a root seed."""
    run = _uint32_words(entropy)
    run += [0] * (4 - len(run))
    h, pool = _INIT_A, []
    for w in run[:4]:
        v = w ^ h
        h = (h * _MULT_A) & _MASK32
        v = (v * h) & _MASK32
        pool.append(v ^ (v >> 16))
    for s in range(4):  # all bits together, so late bits can affect earlier ones
        for d in range(4):
            if s != d:
                v = pool[s] ^ h
                h = (h * _MULT_A) & _MASK32
                v = (v * h) & _MASK32
                v ^= v >> 16
                r = (_MIX_MULT_L * pool[d] - _MIX_MULT_R * v) & _MASK32
                pool[d] = r ^ (r >> 16)
    h = _mixed(pool, h, run[4:])
    return tuple(pool), h


def _hash_steps(h: int, n: int) -> tuple[tuple[int, int], ...]:
    """The next ``n`` (xor, multiplier) pairs of a hash constant ``h`` that is multiplied by
    ``MULT_A`` before each use: what numpy's ``hashmix`` does to a value, in steps fixed ahead."""
    out = []
    for _ in range(n):
        x = h
        h = (h * _MULT_A) & _MASK32
        out.append((x, h))
    return tuple(out)


_OUTPUT_STEPS = tuple(((_INIT_B * _MULT_B ** k) & _MASK32, (_INIT_B * _MULT_B ** (k + 1)) & _MASK32)
                      for k in range(8))
"""The (xor, multiplier) pairs of ``SeedSequence.generate_state``'s hash of its 8 output words."""


def _key_pool(seed: np.random.SeedSequence) -> tuple[tuple[int, ...], int, tuple] | None:
    """The pool of ``seed``'s children before their last spawn-key word (the stream's index):
    its entropy and spawn key mixed in, the hash constant after them and the hash steps a one-word
    index takes; None where :func:`_child_words` does not apply (entropy or a key that is not a
    Python int, a pool of another size): numpy makes those children."""
    entropy, key = seed.entropy, seed.spawn_key
    if (seed.pool_size != 4 or type(entropy) is not int or entropy < 0
            or any(type(k) is not int or k < 0 for k in key)):
        return None
    root, h = _root_pool(entropy)
    pool = list(root)
    h = _mixed(pool, h, [w for k in key for w in _uint32_words(k)])
    return tuple(pool), h, _hash_steps(h, 4)


def _child_words(mixed: tuple[tuple[int, ...], int, tuple], index: int) -> list[int]:
    """``SeedSequence(entropy, spawn_key=(*key, index)).generate_state(4, np.uint64)`` as Python
    ints, from the pool of the key (:func:`_key_pool`): numpy's own mixing of the index into the
    pool and its output hash, in 32-bit arithmetic. numpy does the same in Cython, but a
    SeedSequence and its state cost about 7 µs of arrays and error-state switching per stream,
    this about 2 µs (issue 14)."""
    pool, h, steps = mixed
    if index > _MASK32:  # an index of more than one word (never a stream's): the general mix
        pool = list(pool)
        _mixed(pool, h, _uint32_words(index))
    else:
        mixed_pool = []
        for p, (x, m) in zip(pool, steps, strict=True):
            v = ((index ^ x) * m) & _MASK32
            r = (_MIX_MULT_L * p - _MIX_MULT_R * (v ^ (v >> 16))) & _MASK32
            mixed_pool.append(r ^ (r >> 16))
        pool = mixed_pool
    out = []
    for p, (x, m) in zip(pool + pool, _OUTPUT_STEPS, strict=True):  # 8 words, from the pool in turn
        v = ((p ^ x) * m) & _MASK32
        out.append(v ^ (v >> 16))
    return [out[0] | out[1] << 32, out[2] | out[3] << 32, out[4] | out[5] << 32, out[6] | out[7] << 32]


class _ChildSeed:
    """The seed sequence of one stream as :class:`numpy.random.PCG64` reads it: the state words
    of ``SeedSequence(entropy, spawn_key=key)``, worked out by :func:`_child_words`, and for
    anything else (other sizes, spawning) that very SeedSequence. Registered as numpy's
    ``ISpawnableSeedSequence``, so PCG64 takes it as a seed sequence."""

    __slots__ = ("entropy", "spawn_key", "_words")

    def __init__(self, entropy: int, spawn_key: tuple[int, ...], words: list[int]):
        self.entropy, self.spawn_key, self._words = entropy, spawn_key, words

    def _seed_sequence(self) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.entropy, spawn_key=self.spawn_key)

    def generate_state(self, n_words: int, dtype: Any = None) -> np.ndarray:
        """The state words (uint32 unless ``dtype`` says uint64), as the SeedSequence gives them."""
        if n_words == 4 and dtype is np.uint64:
            return np.array(self._words, dtype=np.uint64)
        return self._seed_sequence().generate_state(n_words, np.uint32 if dtype is None else dtype)

    def spawn(self, n_children: int) -> list[np.random.SeedSequence]:
        """The SeedSequence's children."""
        return self._seed_sequence().spawn(n_children)


_REGISTERED: list[bool] = []


def _generator(seed: np.random.SeedSequence, mixed: tuple[tuple[int, ...], int, tuple] | None,
               index: int) -> np.random.Generator:
    """The generator of child ``index`` of ``seed``: ``Generator(PCG64(SeedSequence(entropy,
    spawn_key=(*key, index))))``, its state words from ``mixed`` (:func:`_key_pool`) when given."""
    key = (*seed.spawn_key, index)
    if mixed is None:
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed.entropy, spawn_key=key)))
    if not _REGISTERED:  # numpy is imported by now (lazily, see above)
        from numpy.random.bit_generator import ISpawnableSeedSequence

        ISpawnableSeedSequence.register(_ChildSeed)
        _REGISTERED.append(True)
    return np.random.Generator(np.random.PCG64(_ChildSeed(seed.entropy, key, _child_words(mixed, index))))


class _Stream:
    """One named stream of :class:`Streams`, made on first use and kept in the instance.

    Stream ``i`` is the generator of the child ``SeedSequence(entropy, spawn_key=(*key, i))``: a
    child is determined by its spawn key alone, so making it late, or not at all, never changes
    the numbers of any other stream. Making all ten costs about 0.1 ms, a fifth of a small
    world's replication, and most worlds use half of them (issue 14); each is made from the
    seed's pool mixed once (:func:`_key_pool`, :func:`_child_words`)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.index = name, STREAM_NAMES.index(name)

    def __get__(self, obj: Streams | None, owner: type) -> np.random.Generator | _Stream:
        if obj is None:
            return self
        mixed = obj.__dict__.get("_mixed", False)
        if mixed is False:
            mixed = obj.__dict__["_mixed"] = _key_pool(obj.seed)
        gen = _generator(obj.seed, mixed, self.index)
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
