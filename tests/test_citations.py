"""The project's files cite original sources a reader can find (the KS report, SSB, NAV, IMDi …),
never the team's internal briefing notes, which users do not have."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INTERNAL = re.compile(r"DOMAIN(\.md)?\s*§|DOMAIN\.md|\bseeds? 00\d|seeds?/00\d")
SHIPPED = ("sim", "contracts", "experiments", "src", "docs", "benchmarks", "tests")


def _files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "BENCHMARKS.md"]
    for top in SHIPPED:
        files += [p for p in (ROOT / top).rglob("*") if p.suffix in {".py", ".toml", ".md"}]
    return [f for f in files if f.is_file() and f.name != Path(__file__).name]


def test_no_file_cites_internal_notes():
    hits = [f"{f.relative_to(ROOT)}:{i}: {line.strip()}"
            for f in _files() for i, line in enumerate(f.read_text().splitlines(), 1)
            if INTERNAL.search(line)]
    assert not hits, "cite the original source instead:\n" + "\n".join(hits)


def test_the_pattern_catches_what_it_should():
    assert INTERNAL.search("# source: DOMAIN §5") and INTERNAL.search("(seed 003)")
    assert INTERNAL.search("KS examples, seeds 002 and 003")
    assert not INTERNAL.search("# source: KS 2018, Agenda Kaupang rapport 1020364")
