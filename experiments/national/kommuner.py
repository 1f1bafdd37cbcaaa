"""The kommune data file: every kommune's number, name, fylke, population and people of working age
outside work.

The shipped file (``kommuner.csv`` beside this module) lists Norway's 357 kommuner from SSB's
classification 131 (Standard for kommuneinndeling, the version valid from 2024-01-01, as listed at
2026-01-01) with their fylke (the first two digits of the number; names from classification 104)
and their population (``population``, its origin in ``population_source`` and the header).
Its ``people_outside_work`` column cannot be checked on this machine and is an assumption on every
row: a national total of 400 000 split by population share (:func:`split_by_population`, the rule
also in the file's header); ``people_source`` says so on each row.

The two population columns are optional: a file of the older layout without them is read as before
(``population`` None). A kommune without a figure has ``population`` empty and ``population_source``
``missing: <why>``.

The file is CSV (UTF-8, ``#`` comment lines at the top, one row a kommune) so that it can be
replaced by an export of an SSB table: name the table in ``people_source`` on each row.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from effekt.specfile import Said, SpecError, said

KOMMUNER_FILE = Path(__file__).resolve().parent / "kommuner.csv"
"""The shipped kommune file (SSB Klass 131, 357 kommuner; people outside work an assumption)."""

COLUMNS = ("kommunenummer", "kommune", "fylkesnummer", "fylke", "people_outside_work", "people_source")
"""The columns every kommune file has, in order."""

POPULATION_COLUMNS = ("population", "population_source")
"""Optional columns, between ``fylke`` and ``people_outside_work`` when present."""

FULL_COLUMNS = (*COLUMNS[:4], *POPULATION_COLUMNS, *COLUMNS[4:])
"""The columns of the shipped file, in order."""

NATIONAL_PEOPLE_OUTSIDE_WORK = 400_000
"""assumption: people of working age outside work on a benefit in Norway (order of magnitude), the total
that the shipped file splits over the kommuner by population share."""

_NUMBER = re.compile(r"\d{4}")
_FYLKE = re.compile(r"\d{2}")


@dataclass(frozen=True)
class Kommune:
    """One row of the kommune file."""

    number: str
    """Kommunenummer, four digits as a string (``0301`` keeps its zero)."""
    name: str
    fylke: str
    """Fylkesnummer, two digits."""
    fylke_name: str
    people_outside_work: int
    """People of working age outside work (see ``people_source`` for where the figure comes from)."""
    people_source: str
    """The SSB table the figure comes from, or ``assumption: <how it was made>``."""
    population: int | None = None
    """Inhabitants (see ``population_source``); None when the file has no figure for the kommune."""
    population_source: str = ""
    """Where the population figure comes from, or ``missing: <why>``."""

    @property
    def is_assumption(self) -> bool:
        """Whether the people figure is an assumption rather than a published table's figure."""
        return self.people_source.strip().lower().startswith("assumption")


@dataclass(frozen=True)
class KommuneTable:
    """The kommuner of one file, in file order, with their fylker."""

    kommuner: tuple[Kommune, ...]
    source: str

    def __len__(self) -> int:
        return len(self.kommuner)

    @property
    def by_number(self) -> dict[str, Kommune]:
        return {k.number: k for k in self.kommuner}

    @property
    def fylker(self) -> dict[str, str]:
        """Fylkesnummer -> fylke name, in order of first appearance."""
        out: dict[str, str] = {}
        for k in self.kommuner:
            out.setdefault(k.fylke, k.fylke_name)
        return out

    def select(self, include: Sequence[str]) -> list[Kommune]:
        """The kommuner named in ``include`` (kommune numbers, or fylke numbers for all of a
        fylke's kommuner), in file order; every kommune when ``include`` is empty."""
        if not include:
            return list(self.kommuner)
        wanted = set(include)
        return [k for k in self.kommuner if k.number in wanted or k.fylke in wanted]


def _problem(row: int, column: str, text: str) -> str:
    """A problem of one row's column, in both languages when ``text`` is a :class:`Said`."""
    en = f"row {row}, {column}: {text}"
    return said(en, f"rad {row}, {column}: {text.nb}") if isinstance(text, Said) else en


def _whole(text: str) -> int:
    """A whole number >= 0 written with or without thousands spaces; -1 when it is not one."""
    text = text.strip().replace(" ", "").replace("\u00a0", "")
    return int(text) if text.isdigit() else -1


def split_by_population(populations: dict[str, int],
                        total: int = NATIONAL_PEOPLE_OUTSIDE_WORK) -> dict[str, int]:
    """``total`` people over the kommuner in proportion to ``populations`` (kommunenummer -> inhabitants):
    each gets ``total x population / sum`` rounded down, and the people left over go one each to the
    largest remainders (ties: the lowest kommunenummer), so the shares sum to exactly ``total``.
    This is how the shipped file's ``people_outside_work`` column was made."""
    whole = sum(populations.values())
    if whole <= 0:
        raise ValueError(said("the populations sum to 0: nothing to split by",
                              "folketallene summerer seg til 0: ingenting å fordele etter"))
    exact = {k: total * p / whole for k, p in populations.items()}
    out = {k: int(x // 1) for k, x in exact.items()}
    left = total - sum(out.values())
    for k in sorted(populations, key=lambda k: (-(exact[k] - out[k]), k))[:left]:
        out[k] += 1
    return out


def read_kommuner(path: str | Path | None = None) -> KommuneTable:
    """Read and check a kommune file (the shipped one when ``path`` is None).

    Every problem is collected and raised at once as a :class:`SpecError` naming the file, the row
    (counting the header as row 1, comment lines not counted) and the column: a kommunenummer that
    is not four digits or repeats, a fylkesnummer that is not two digits or not the number's first
    two, one fylke number with two names, a people figure that is not a whole number >= 0, an empty
    name or source, and missing or unknown columns."""
    path = Path(path) if path is not None else KOMMUNER_FILE
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpecError(source, [said("file not found", "fant ikke filen")]) from None
    except UnicodeDecodeError:
        raise SpecError(source, [said(
            "is not UTF-8 text: save it again with the encoding UTF-8",
            "er ikke UTF-8-tekst: lagre den på nytt med tegnkodingen UTF-8")]) from None
    except OSError as err:
        raise SpecError(source, [said(f"cannot be read ({err.strerror or err})",
                                      f"kan ikke leses ({err.strerror or err})")]) from None
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#") and line.strip()]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    header = tuple(reader.fieldnames or ())
    if header not in (COLUMNS, FULL_COLUMNS):
        missing = [c for c in COLUMNS if c not in header]
        extra = [c for c in header if c not in FULL_COLUMNS]
        what, what_nb = [], []
        if missing:
            what.append(f"missing {', '.join(missing)}")
            what_nb.append(f"mangler {', '.join(missing)}")
        if extra:
            what.append(f"unknown {', '.join(extra)}")
            what_nb.append(f"ukjent {', '.join(extra)}")
        raise SpecError(source, [said(f"columns: {'; '.join(what) or 'in another order'}; a kommune file has "
                                      f"the columns {', '.join(COLUMNS)} (optionally "
                                      f"{', '.join(POPULATION_COLUMNS)} after fylke)",
                                      f"kolonner: {'; '.join(what_nb) or 'i en annen rekkefølge'}; en "
                                      f"kommunefil har kolonnene {', '.join(COLUMNS)} (eventuelt "
                                      f"{', '.join(POPULATION_COLUMNS)} etter fylke)")])
    problems: list[str] = []
    kommuner: list[Kommune] = []
    seen: dict[str, int] = {}
    fylke_names: dict[str, str] = {}
    for i, row in enumerate(reader, start=2):
        if None in row or any(v is None for v in row.values()):
            problems.append(_problem(i, "row", said(f"has not {len(COLUMNS)} fields",
                                                    f"har ikke {len(COLUMNS)} felt")))
            continue
        number, fylke = row["kommunenummer"].strip(), row["fylkesnummer"].strip()
        bad = len(problems)
        if not _NUMBER.fullmatch(number):
            problems.append(_problem(i, "kommunenummer", said(
                f"'{number}' is not four digits (e.g. 0301, 3303)",
                f"'{number}' er ikke fire sifre (f.eks. 0301, 3303)")))
        elif number in seen:
            problems.append(_problem(i, "kommunenummer", said(f"{number} repeats row {seen[number]}",
                                                              f"{number} gjentar rad {seen[number]}")))
        else:
            seen[number] = i
        if not _FYLKE.fullmatch(fylke):
            problems.append(_problem(i, "fylkesnummer", said(f"'{fylke}' is not two digits",
                                                             f"'{fylke}' er ikke to sifre")))
        elif _NUMBER.fullmatch(number) and number[:2] != fylke:
            problems.append(_problem(i, "fylkesnummer", said(
                f"{fylke}, but kommune {number} is in fylke {number[:2]} (the number's first two digits)",
                f"{fylke}, men kommune {number} ligger i fylke {number[:2]} (nummerets to første sifre)")))
        name, fylke_name = row["kommune"].strip(), row["fylke"].strip()
        if not name:
            problems.append(_problem(i, "kommune", said("empty name", "tomt navn")))
        if fylke in fylke_names and fylke_names[fylke] != fylke_name:
            problems.append(_problem(i, "fylke", said(
                f"'{fylke_name}', but fylke {fylke} is '{fylke_names[fylke]}' above",
                f"'{fylke_name}', men fylke {fylke} heter '{fylke_names[fylke]}' lenger opp")))
        fylke_names.setdefault(fylke, fylke_name)
        people = _whole(row["people_outside_work"])
        if people < 0:
            shown = row["people_outside_work"]
            problems.append(_problem(i, "people_outside_work", said(
                f"'{shown}' is not a whole number >= 0", f"'{shown}' er ikke et helt tall >= 0")))
        people_source = row["people_source"].strip()
        if not people_source:
            problems.append(_problem(i, "people_source", said(
                "empty: name the SSB table the figure comes from, or say 'assumption: <how it was made>'",
                "tom: oppgi SSB-tabellen tallet kommer fra, eller skriv "
                "'assumption: <hvordan det ble laget>'")))
        population, population_source = None, ""
        if "population" in row:
            population_source = row["population_source"].strip()
            if row["population"].strip():
                population = _whole(row["population"])
                if population < 0:
                    shown = row["population"]
                    problems.append(_problem(i, "population", said(
                        f"'{shown}' is not a whole number >= 0 (or empty: no figure)",
                        f"'{shown}' er ikke et helt tall >= 0 (eller tomt: ikke noe tall)")))
                if not population_source or population_source.lower().startswith("missing"):
                    problems.append(_problem(i, "population_source", said(
                        "name where the population figure comes from (e.g. SSB table 07459)",
                        "oppgi hvor folketallet kommer fra (f.eks. SSB-tabell 07459)")))
            elif not population_source.lower().startswith("missing"):
                problems.append(_problem(i, "population_source", said(
                    "the population is empty: say 'missing: <why>'",
                    "folketallet er tomt: skriv 'missing: <hvorfor>'")))
        if len(problems) == bad:
            kommuner.append(Kommune(number, name, fylke, fylke_name, people, people_source, population,
                                    population_source))
    if problems:
        raise SpecError(source, problems)
    if not kommuner:
        raise SpecError(source, [said("no kommune rows", "ingen kommunerader")])
    return KommuneTable(tuple(kommuner), source)


__all__ = ["COLUMNS", "FULL_COLUMNS", "KOMMUNER_FILE", "NATIONAL_PEOPLE_OUTSIDE_WORK", "POPULATION_COLUMNS",
           "Kommune", "KommuneTable", "read_kommuner", "split_by_population"]
