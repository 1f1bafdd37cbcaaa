"""Every number in the contract templates and contract data files says where it comes from: a
comment on its line with ``source``, ``derived`` or ``assumption`` (house rule)."""

from __future__ import annotations

import re
from pathlib import Path

from effekt import contracts

ROOT = Path(contracts.__file__).parent
FILES = sorted([*ROOT.glob("templates/*.toml"), *ROOT.glob("data/**/*.toml")])  # every country's rules
A_NUMBER = re.compile(r"(?<![\w.])-?\d")


def unsourced(text: str) -> list[int]:
    """Line numbers of ``key = value`` lines whose value holds a number outside quotes and whose
    comment names no source, derivation or assumption."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if not stripped or stripped.startswith(("#", "[")) or "=" not in line:
            continue
        code, _, comment = line.partition("#")
        value = re.sub(r'"[^"]*"', '""', code.partition("=")[2])
        if A_NUMBER.search(value) and not re.search(r"source|derived|assumption", comment, re.I):
            out.append(n)
    return out


def test_the_check_finds_a_bare_number():
    text = 'a = 1\nb = 2  # assumption\nc = "x1"\nd = [{ n = 3 }]  # source: y\ne = 4 # six\n'
    assert unsourced(text) == [1, 5]


def test_every_number_has_its_source_beside_it():
    assert len(FILES) >= 13
    missing = {f"{p.parent.name}/{p.name}": unsourced(p.read_text()) for p in FILES}
    assert {k: v for k, v in missing.items() if v} == {}
