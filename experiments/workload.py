"""What a scenario will cost before it runs: design points, computing time and memory.

A file can be valid and still never finish on the machine at hand: a cohort of a million people
needs about 6 GB for one replication (estimated as below), a design of 100 000 points is 100 000
full scenarios to build. ``effekt validate``, ``run``, ``batch`` and ``sweep`` measure the scenario
first and refuse what the machine cannot hold, naming the number to lower; ``--force`` runs it
anyway.

How: a scenario of at least :data:`PILOT_FROM_PERSONS` people (both arms), or more than
:data:`PILOT_FROM_WEEKS` weeks, or at least :data:`PILOT_FROM_REPLICATIONS` replications in all, is
measured on *pilot replications* at the full horizon, each in a forked child process whose peak
resident size counts every allocation. A world of at most 144 000 people
(:data:`PILOT_SMALL_PERSONS` and :data:`PILOT_PERSONS` together) is its own pilot: one replication
of it, no dearer than the two pilots. A larger one is measured on the same scenario with every
cohort scaled down to about 16 000 and 128 000 people, and their CPU time and peak memory are
extrapolated by the line through the two, a fixed part and a part per person. Smaller scenarios
cost seconds and are not measured.

Why those sizes (the figures in BENCHMARKS.md, "tenth part"): the peak memory per person falls as
the world grows, because parts of it grow with the world only up to a cap (buffers of a bounded
number of cells, caches, allocator arenas), and the memory a person adds between two sizes jumps
about below some 64 000 people before it settles. Smaller pilots took their slope from the jumps:
2 000 and 8 000 people said more than twice the memory of an 800 000-person replication of the
default, 8 000 and 32 000 a fourth less; 16 000 and 128 000 came within 5 % of it, with the
work-training places fixed and grown with the cohort, and within 4 % on five other shapes (another
world, pathway, contract and counterfactual; ten years; three kull; eleventh part). That agreement
is measured, not a law: a scenario whose capped parts end elsewhere may miss by more.
The two pilots cost about a 144 000-person replication, 5-9 s: a fifth to a third of an
800 000-person replication.

    Workload            the estimate: people, replications, CPU seconds and peak bytes per
                        replication, and what the machine has
    estimate            measure a scenario (pilot replications when it is large)
    check_workload      refuse what does not fit in memory (a SpecError naming what to lower)
    check_design_size   refuse a design of more than MAX_DESIGN_POINTS points before building them
    available_memory    the bytes this machine can give (MemAvailable on Linux)
"""

from __future__ import annotations

import math
import os
import struct
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any

from effekt.specfile import SpecError, said

MAX_DESIGN_POINTS = 10_000
"""Design points built without ``--force``: each is a full scenario, validated before anything
runs (30-50 ms each for the built-in sweep in one process, most of it checking its priors' tails
at the point: BENCHMARKS.md, eleventh part; built on all the run's local processes from 16 points:
twelfth part; tens of kB each), and each runs every replication."""

PILOT_PERSONS = 128_000
"""The larger pilot replication, in people (both arms); the smaller is :data:`PILOT_SMALL_PERSONS`.
A world of at most the two together is measured itself (see the module)."""
PILOT_SMALL_PERSONS = 16_000
"""The smaller pilot replication, in people (both arms)."""
PILOT_FROM_PERSONS = 2_000
"""A world of this many people (both arms) or more is measured before it runs; one of at most
this many, piloted for its horizon or its replications, is also timed as tasks run it."""
PILOT_FROM_WEEKS = 1_040
PILOT_FROM_REPLICATIONS = 20_000
BASE_BYTES = 250 * 2**20
"""A worker process's own memory before its first replication (Python, numpy, pandas, pyarrow,
SimPy and effekt imported: about 230 MB measured)."""

MEMORY_SHARE = 0.8
"""The share of the available memory a batch may plan to use (the rest for the system)."""


@dataclass(frozen=True)
class Workload:
    """The cost of a scenario. ``measured``: from pilot replications (else no estimate, the
    scenario being small); per replication: ``seconds`` of CPU and ``peak_bytes`` of memory."""

    persons: int
    replications: int
    points: int
    measured: bool = False
    seconds: float = math.nan
    peak_bytes: float = math.nan

    @property
    def total_replications(self) -> int:
        return self.replications * self.points

    def cpu_hours(self) -> float:
        return self.seconds * self.total_replications / 3600

    def worker_bytes(self) -> float:
        """One worker's memory at its peak: its own plus one replication's. (A task evaluates its
        replications in blocks of about :data:`effekt.experiments.runner.BLOCK_SPELLS` spells, so a
        replication large enough to matter here is a block of its own; small ones add a bounded
        few tens of MB: koto_sib's 200 replications in one task peak at 0.20 GB, against 0.16 GB
        evaluated one at a time.)"""
        return BASE_BYTES + self.peak_bytes

    def line(self, workers: int, lang: str = "en") -> str:
        """``estimated: ...`` for validate, in ``lang`` (``en`` or ``nb``; empty when not measured)."""
        if not self.measured:
            return ""
        hours = self.cpu_hours()
        wall = hours / max(workers, 1)
        if lang == "nb":
            return (f"anslått fra pilotreplikasjoner: {_bytes_nb(self.peak_bytes)} og "
                    f"{_duration_nb(self.seconds)} CPU-tid per replikasjon av {_n(self.persons)} personer "
                    "(begge armer); "
                    f"{_n(self.total_replications)} replikasjoner tar om lag {_duration_nb(hours * 3600)} "
                    f"CPU-tid ({_duration_nb(wall * 3600)} på {workers} "
                    f"{'arbeidere' if workers != 1 else 'arbeider'})")
        return (f"estimated from pilot replications: {_bytes(self.peak_bytes)} and {_duration(self.seconds)} "
                f"of CPU per replication of {_n(self.persons)} people (both arms); "
                f"{_n(self.total_replications)} "
                f"replications take about {_duration(hours * 3600)} of CPU ({_duration(wall * 3600)} on "
                f"{workers} worker{'s' if workers != 1 else ''})")


def _n(x: int) -> str:
    """A whole number with thin-space thousands, as in the rest of the output."""
    return f"{x:,}".replace(",", "\u202f")


def _bytes(n: float) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 2**10:.0f} kB"


def _bytes_nb(n: float) -> str:
    """:func:`_bytes` as bokmål writes it (a decimal comma: 1,5 GB)."""
    return _bytes(n).replace(".", ",")


def _duration(seconds: float) -> str:
    """A length of time as a person reads it: days, hours, minutes, seconds or milliseconds."""
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    if seconds >= 0.1:
        return f"{seconds:.1f} s"
    if seconds >= 0.001:
        return f"{seconds * 1000:.1f} ms"
    return "under 1 ms"


def _duration_nb(seconds: float) -> str:
    """:func:`_duration` as bokmål writes it: a decimal comma, ``t`` for hours, ``døgn`` for days."""
    text = _duration(seconds).replace(".", ",")
    return text.replace(" days", " døgn").replace(" h", " t")


def available_memory() -> int:
    """Bytes available to new processes: ``MemAvailable`` from /proc/meminfo (Linux), else the
    physical memory; the smaller of it and a cgroup limit when one is set."""
    found = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if found is None:
        try:
            found = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            found = 2**40
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = open(path).read().strip()
        except OSError:
            continue
        if text.isdigit():
            found = min(found, int(text))
    return found


def _persons(scenario: Any) -> int:
    """People simulated in one replication: the cohorts, twice with a parallel counterfactual."""
    arms = 2 if getattr(scenario.world.counterfactual, "mode", "") == "parallel" else 1
    return scenario.world.size * arms


def _scaled(scenario: Any, factor: float) -> Any:
    """The scenario with every cohort's size times ``factor`` (at least 1 person)."""
    from effekt.experiments.scenario import resolve

    sizes = [(f"world.cohorts[{i}].size", max(1, round(c.size * factor)))
             for i, c in enumerate(scenario.world.cohorts)]
    return resolve(scenario.tree.with_values(sizes, "a pilot replication"))


def _status_bytes(field: str) -> int:
    """A size from /proc/self/status (``VmRSS``, ``VmHWM``) in bytes; 0 where it is missing."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _reset_peak() -> bool:
    """Reset this process's peak resident size (Linux's clear_refs, 4.0 and later)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _pilot(scenario: Any) -> tuple[float, float]:
    """One pilot replication: (CPU seconds, peak bytes beyond what the process held before).

    Where the system allows, the replication runs in a forked child process whose peak resident
    size (its ``VmHWM``, reset at the start) counts every allocation, numpy's, Arrow's and the
    allocator's waste included; elsewhere in this process under ``tracemalloc``, which sees
    Python's and numpy's."""
    from effekt.experiments.runner import simulate_and_evaluate

    read, write = os.pipe() if hasattr(os, "fork") else (-1, -1)
    pid = os.fork() if read >= 0 else -1
    if pid == 0:  # the child: run, report, and leave without cleaning up the parent's state
        code = 1
        try:
            os.close(read)
            if not _reset_peak():
                raise OSError("no clear_refs")
            before = _status_bytes("VmRSS")
            start = time.process_time()
            simulate_and_evaluate(scenario, 0)
            seconds = time.process_time() - start
            os.write(write, struct.pack("dd", seconds, max(0, _status_bytes("VmHWM") - before)))
            code = 0
        finally:
            os._exit(code)
    if pid > 0:
        os.close(write)
        with os.fdopen(read, "rb") as fh:
            data = fh.read()
        _, status = os.waitpid(pid, 0)
        if status == 0 and len(data) == 16:
            return struct.unpack("dd", data)
    tracemalloc.start()  # no fork, no /proc: Python's and numpy's memory only
    try:
        start = time.process_time()
        simulate_and_evaluate(scenario, 0)
        return time.process_time() - start, float(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def _in_tasks(scenario: Any, replications: int) -> float | None:
    """CPU seconds per replication of ``scenario`` as a batch runs it (a small world's replications
    are evaluated together, a block at a time, and a replication evaluated alone costs several times
    its share: issue 14, about 11 against 2.5 ms for the default): tasks of about
    :data:`effekt.experiments.batch.TASK_SECONDS`, each a fixed cost and a cost per replication,
    timed as a batch times them (:func:`effekt.experiments.batch.task_cost`); None when one
    replication alone is over that."""
    from effekt.experiments.batch import TASK_SECONDS, task_cost

    cost = task_cost(scenario, replications, TASK_SECONDS)
    if cost is None:
        return None
    return cost.per_replication + cost.fixed / cost.replications_for(TASK_SECONDS, replications)


def needs_pilot(scenario: Any, total_replications: int) -> bool:
    return (_persons(scenario) >= PILOT_FROM_PERSONS or scenario.world.horizon_weeks > PILOT_FROM_WEEKS
            or total_replications >= PILOT_FROM_REPLICATIONS)


def estimate(experiment: Any, cpu: bool = True) -> Workload:
    """The workload of ``experiment`` (a :class:`~effekt.experiments.scenario.Experiment`),
    measured on pilot replications of its base scenario when it is large (see the module).
    ``cpu``: a world of at most :data:`PILOT_FROM_PERSONS` people is also timed as tasks run it
    (:func:`_in_tasks`; the memory check alone does not need it)."""
    base = experiment.base
    persons, reps, points = _persons(base), experiment.replications, len(experiment.points)
    if not needs_pilot(base, reps * points):
        return Workload(persons, reps, points)
    pilots = [base if size >= persons else _scaled(base, size / persons) for size in pilot_sizes(persons)]
    from effekt.experiments.runner import simulate_and_evaluate

    # load what every pilot reuses (files, caches) on a replication so small that it leaves almost
    # no freed memory behind, which a pilot would reuse unseen
    simulate_and_evaluate(_scaled(base, 1.0 / max(1.0, float(base.world.size))), 0)
    sizes = [_persons(p) for p in pilots]  # as rounded to whole people per cohort
    measured = [_pilot(p) for p in pilots]
    seconds, peak = _extrapolated(sizes, measured, persons)
    if cpu and persons <= PILOT_FROM_PERSONS:  # small: replications evaluated in blocks
        seconds = _in_tasks(base, reps) or seconds
    return Workload(persons, reps, points, measured=True, seconds=seconds, peak_bytes=peak)


def pilot_sizes(persons: int) -> tuple[int, ...]:
    """The people (both arms) of the pilot replications of a world of ``persons``:
    :data:`PILOT_SMALL_PERSONS` and :data:`PILOT_PERSONS` (see the module: sizes where the memory
    per person is near its settled slope), or the world itself when one replication of it costs no
    more than those two."""
    if persons <= PILOT_SMALL_PERSONS + PILOT_PERSONS:
        return (persons,)
    return (PILOT_SMALL_PERSONS, PILOT_PERSONS)


def _extrapolated(sizes: list[int], measured: list[tuple[float, float]],
                  persons: int) -> tuple[float, float]:
    """(CPU seconds, peak bytes) of a replication of ``persons`` from pilots of ``sizes`` people
    that measured ``measured``: the line through the two (a fixed part and a part per person;
    never falling with the size, which would be noise), or the one pilot's own figures."""
    seconds, peak = measured[-1]
    if len(sizes) == 2 and sizes[1] > sizes[0]:
        step = (persons - sizes[1]) / (sizes[1] - sizes[0])
        seconds += max(0.0, measured[1][0] - measured[0][0]) * step
        peak += max(0.0, measured[1][1] - measured[0][1]) * step
    return seconds, peak


def check_workload(work: Workload, workers: int, source: str, available: int | None = None) -> None:
    """Refuse a batch whose workers would not fit in memory at once (``--force`` skips this):
    the message names the scenario's size, the estimate, what the machine has and what to lower."""
    if not work.measured:
        return
    available = available_memory() if available is None else available
    need = work.worker_bytes() * max(workers, 1)
    if need <= MEMORY_SHARE * available:
        return
    one = work.worker_bytes()
    fits = int(MEMORY_SHARE * available // one) if one > 0 else 0
    what = f"{_n(work.persons)} people per replication (world.cohorts[].size, both arms)"
    hint = (f"use --workers {fits}" if fits >= 1 else
            "lower the cohort sizes (world.cohorts[].size) or world.horizon_weeks")
    hint_nb = (f"bruk --workers {fits}" if fits >= 1 else
               "senk kullstørrelsene (world.cohorts[].size) eller world.horizon_weeks")
    raise SpecError(source, [said(
        f"{what} need about {_bytes(work.peak_bytes)} per replication, {_bytes(need)} for "
        f"{workers} worker{'s' if workers != 1 else ''}; this machine has {_bytes(available)} available: "
        f"{hint}, or pass --force to run anyway",
        f"{_n(work.persons)} personer per replikasjon (world.cohorts[].size, begge armer) trenger om lag "
        f"{_bytes_nb(work.peak_bytes)} per replikasjon, {_bytes_nb(need)} for {workers} "
        f"{'arbeidere' if workers != 1 else 'arbeider'}; denne maskinen har {_bytes_nb(available)} ledig: "
        f"{hint_nb}, eller gi --force for å kjøre likevel")])


def check_design_size(points: int, source: str, force: bool = False) -> None:
    """Refuse a design of more than :data:`MAX_DESIGN_POINTS` points (``force`` allows it)."""
    if points > MAX_DESIGN_POINTS and not force:
        raise SpecError(source, [said(
            f"design: {_n(points)} design points (design.samples, the lists of design.sweep and "
            f"design.levers, and design.parameters.draws multiply); at most {_n(MAX_DESIGN_POINTS)} are "
            "built, each a full scenario validated before anything runs: lower design.samples or "
            "the lists, or pass --force",
            f"design: {_n(points)} designpunkter (design.samples, listene i design.sweep og "
            f"design.levers, og design.parameters.draws ganges sammen); høyst {_n(MAX_DESIGN_POINTS)} "
            "bygges, hvert et fullt scenario som valideres før noe kjører: senk design.samples eller "
            "listene, eller gi --force")])


__all__ = ["MAX_DESIGN_POINTS", "Workload", "available_memory", "check_design_size", "check_workload",
           "estimate", "needs_pilot", "pilot_sizes"]
