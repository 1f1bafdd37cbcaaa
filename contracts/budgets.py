"""Budgets per year: what flows into and out of every party of one replication, by arm, year and
item, in nominal kroner and discounted to year 0.

One table for all the money of an evaluation, so that a reader can see *when* each budget gains
or pays, not only the NPV:

* the **public budgets** of the beregningsmodell (:mod:`effekt.contracts.fiscal`): benefits by the
  party that pays them, taxes, employer contributions, grants, wage costs and subsidies, programme
  costs, for every party the fiscal ledger names (kommune, state, the commissioners, and whatever
  parties the fiscal rules add), and the participants' earnings (party ``participants``, not a
  public budget);
* the **contract's own flows** item by item (outcome payments, coupons, capital protection,
  refunds, bridge funding) for the commissioners, in place of the single ``contract`` item of the
  fiscal ledger (they sum to it), and the contract's other parties (the investors or each tranche,
  the provider, the intermediary) with their cashflows (funding, outcome payments, delivery
  costs, fees ...).

Arms as in the fiscal ledger (:data:`effekt.contracts.evaluate.FISCAL`): ``treatment`` and
``control`` are levels, ``difference`` is treatment minus the control scaled to the treatment
arm's size (net of any displacement and substitution), and is absent when there are no controls.
The contract exists only with the programme, so its flows are in ``treatment`` and, unchanged, in
``difference``. ``year`` 0 is months 0-11 from the start of the simulation (the last year may be
part of one). ``amount_discounted`` is each month's amount discounted at the valuation's real
rate to month 0, ``amount / (1 + rate) ** (month / 12)``, summed over the year's months, exactly as
the NPV KPIs are (:func:`effekt.contracts.finance.npv`): summed over years and items of the
``difference`` arm, it is ``fiscal_npv_<party>``; over the public parties, ``fiscal_npv_total``.
All amounts NOK at the price year, positive into the party, negative out; a year in which an item
is zero has no row.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa

from effekt.contracts import fiscal as fis
from effekt.contracts.frames import months_matrix, taken
from effekt.lazy import pandas as pd

ARMS = ("treatment", "control", "difference")
"""The arms of the budgets table, in the order its rows come."""

CONTRACT_ITEM = "contract"
"""The fiscal ledger's item for a commissioner's contract flows, split here into their items."""


def _field(name: str, typ: pa.DataType, unit: str, nb: str, en: str) -> pa.Field:
    return pa.field(name, typ, metadata={"unit": unit, "label_nb": nb, "label_en": en})


BUDGETS = pa.schema([
    _field("arm", pa.string(), "", "Arm: treatment (med tiltaket), control (uten) eller difference "
           "(forskjellen, kontrollgruppen skalert til tiltaksgruppens størrelse)",
           "Arm: treatment, control or difference (treatment minus the control scaled to the "
           "treatment arm's size)"),
    _field("party", pa.string(), "", "Part: kommune, stat, oppdragsgiver, deltakerne, investor, "
           "leverandør, mellommann ...", "Party: kommune, state, a commissioner, the participants, "
           "investor, provider, intermediary ..."),
    _field("public", pa.bool_(), "", "Om parten er et offentlig budsjett",
           "Whether the party is a public budget"),
    _field("year", pa.int32(), "year", "År fra start (0 = månedene 0-11)",
           "Year from the start (0 = months 0-11)"),
    _field("item", pa.string(), "", "Post: ytelser, skatt, arbeidsgiveravgift, tilskudd, lønn, "
           "programkostnader, resultatbetalinger ...", "Item: benefits, tax, employer contributions, "
           "grants, wages, programme costs, outcome payments ..."),
    _field("amount_nominal", pa.float64(), "NOK", "Beløp i årets løp, kroner i prisåret (inn "
           "positivt, ut negativt)", "Amount in the year, NOK at the price year (in positive, out "
           "negative)"),
    _field("amount_discounted", pa.float64(), "NOK (NPV)", "Beløpet diskontert til år 0 med den "
           "reelle kalkulasjonsrenten, måned for måned", "The amount discounted to year 0 at the real "
           "discount rate, month by month"),
])
"""Arrow schema of the budgets table of one replication (the stored table adds ``replication``
in front, and ``point`` in the partition path); each field's metadata gives its unit and its
label in bokmål and English."""

COLUMNS = BUDGETS.names


def budget_ledger(fiscal: fis.Ledger, contract: Iterable[tuple[str, str, np.ndarray]],
                  commissioners: Iterable[str]) -> tuple[fis.Ledger, set[str]]:
    """Every party's monthly flows by (arm, party, item), and the public parties among them.

    ``fiscal``: the public budgets by arm (the arms of :data:`ARMS`), the commissioners' contract
    flows in item ``contract``; ``contract``: the contract's cashflow rows (party, item, monthly
    amounts) of every party; ``commissioners``: the contract's commissioners. A commissioner's
    ``contract`` item is replaced, in each arm that has it, by its contract rows item by item;
    every other contract party's rows go to ``treatment`` and, when the ledger has a difference
    arm, to ``difference`` (the control arm has no contract). Public: the parties of ``fiscal``
    that the fiscal rules count as public budgets, and the commissioners."""
    payers = set(commissioners)
    out: fis.Ledger = {}
    contract_arms: dict[str, list[str]] = {}
    for (arm, party, item), a in fiscal.items():
        if party in payers and item == CONTRACT_ITEM:
            contract_arms.setdefault(party, []).append(arm)
            continue
        out[(arm, party, item)] = np.asarray(a, dtype=float)
    public = {p for _, p, _ in fiscal if p not in fis.NOT_PUBLIC} | payers
    others = ["treatment", *(["difference"] if any(k[0] == "difference" for k in fiscal) else [])]
    for party, item, a in contract:
        for arm in contract_arms.get(party, ["treatment"]) if party in payers else others:
            key = (arm, party, item)
            a = np.asarray(a, dtype=float)
            if key in out:
                n = max(len(out[key]), len(a))
                out[key] = np.pad(out[key], (0, n - len(out[key]))) + np.pad(a, (0, n - len(a)))
            else:
                out[key] = a
    return out, public


def discount_factors(n_months: int, rate: float) -> np.ndarray:
    """``(1 + rate) ** (month / 12)`` for months ``0 .. n_months - 1``: what a month's amount is
    divided by to discount it to month 0 (as :func:`effekt.contracts.finance.npv` does)."""
    return (1.0 + rate) ** (np.arange(n_months) / 12.0)


def by_year(ledger: Mapping[tuple[str, str, str], np.ndarray], rate: float,
            public: Iterable[str] = ()) -> pd.DataFrame:
    """The monthly ``ledger`` summed into years (:data:`BUDGETS`): nominal and discounted at
    ``rate`` (real, per year) to month 0; ``public`` names the public parties. Rows by arm (in
    the order of :data:`ARMS`), party, item and year; zero years are left out."""
    cols = by_year_columns(ledger, rate, public)
    if cols is None:
        return empty()
    names, which = cols.pop("names"), cols.pop("which")
    return pd.DataFrame({
        "arm": taken(names[0], which), "party": taken(names[1], which), "public": cols["public"],
        "year": cols["year"], "item": taken(names[2], which),
        "amount_nominal": cols["amount_nominal"], "amount_discounted": cols["amount_discounted"],
    }, copy=False)


def by_year_columns(ledger: Mapping[tuple[str, str, str], np.ndarray], rate: float,
                    public: Iterable[str] = ()) -> dict | None:
    """:func:`by_year` as numpy columns (None when there are no rows): ``public``, ``year``,
    ``amount_nominal``, ``amount_discounted``, and the string columns as ``names`` (the arm,
    party and item of each ledger row, three object arrays of str) and ``which`` (the ledger row of each table
    row), so a caller can build them as it likes (pandas strings, Arrow, object arrays). The
    block of one ledger (:func:`by_year_block`)."""
    cols = by_year_block([ledger], rate, [public])
    if cols is not None:
        del cols["replication"]
    return cols


BLOCK_CELLS = 1 << 22
"""How many monthly cells (rows times months) :func:`by_year_block` sums at a time: a task's
ledgers of many replications over a long run are summed in slices of rows, so the matrix stays
a few dozen MB (each row's sums do not depend on which rows it is summed beside)."""


def _table_order(key: tuple[str, str, str]) -> tuple[int, str, str, str]:
    return (ARMS.index(key[0]) if key[0] in ARMS else len(ARMS), *key)


@functools.lru_cache(maxsize=64)
def _sorted(keys: tuple[tuple[str, str, str], ...]) -> tuple[tuple[str, str, str], ...]:
    return tuple(sorted(keys, key=_table_order))


def _sorted_keys(ledger: Mapping[tuple[str, str, str], np.ndarray]) -> tuple[tuple[str, str, str], ...]:
    """The ledger's keys in the order of the budgets table: arm (as :data:`ARMS`), party, item
    (sorted once for the keys a task's ledgers share, in the order they were written)."""
    return _sorted(tuple(ledger))


@functools.lru_cache(maxsize=64)
def _key_columns(keys: tuple[tuple[str, str, str], ...], public: frozenset[str]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The arm, party and item of each of a ledger's ``keys`` (object arrays of str) and whether
    its party is ``public``: once for the keys a task's ledgers share."""
    arm, party, item = (np.array([k[j] for k in keys], dtype=object) for j in range(3))
    return arm, party, item, np.array([k[1] in public for k in keys], dtype=bool)


def by_year_block(ledgers: Sequence[Mapping[tuple[str, str, str], np.ndarray]], rate: float,
                  publics: Sequence[Iterable[str]]) -> dict | None:
    """:func:`by_year_columns` of several ledgers (a task's replications, each with its public
    parties) at once, their rows one ledger after another: the columns of each ledger alone,
    concatenated, with ``replication`` (the position of the ledger in ``ledgers``) for each row.

    Every ledger row's months go into one matrix, zero months padded to the longest ledger (a
    year of zeros has no row, as for the ledger alone); the 12 months of a year are summed
    along the row, nominal and divided by the one set of discount factors, so each row's years
    are the same floats in a block as alone. ``which`` indexes the rows of all the ledgers, in
    order (``names`` lists them)."""
    keys = [_sorted_keys(ledger) for ledger in ledgers]
    arrays = [ledger[k] for ledger, ks in zip(ledgers, keys, strict=True) for k in ks]
    return _years_of(arrays, [_key_columns(ks, frozenset(p)) for ks, p in zip(keys, publics, strict=True)],
                     rate)


def _years_of(arrays: list[np.ndarray],
              columns: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
              rate: float) -> dict | None:
    """:func:`by_year_block` of the ledgers' rows ``arrays`` (every ledger's in the table's
    order, one ledger after another) with each ledger's key columns (:func:`_key_columns`)."""
    n_months = int(np.fromiter(map(len, arrays), dtype=np.intp, count=len(arrays)).max()) if arrays else 0
    n_years = -(-n_months // 12)
    if not arrays or n_years == 0:
        return None
    width = n_years * 12
    factors = discount_factors(width, rate)
    nominal = np.empty((len(arrays), n_years))
    discounted = np.empty((len(arrays), n_years))
    step = max(1, BLOCK_CELLS // width)
    for lo in range(0, len(arrays), step):
        part = arrays[lo:lo + step]
        m = months_matrix(part, width)
        nominal[lo:lo + len(part)] = m.reshape(len(part), n_years, 12).sum(axis=2)
        discounted[lo:lo + len(part)] = (m / factors).reshape(len(part), n_years, 12).sum(axis=2)
    which, year = np.nonzero((np.abs(nominal) > 1e-9) | (np.abs(discounted) > 1e-9))
    arm, party, item, public = (np.concatenate([c[j] for c in columns]) for j in range(4))
    replication = np.repeat(np.arange(len(columns)), [len(c[0]) for c in columns])
    return {"names": (arm, party, item), "which": which,
            "replication": replication[which], "public": public[which],
            "year": year.astype(np.int32),
            "amount_nominal": nominal[which, year], "amount_discounted": discounted[which, year]}


@functools.lru_cache(maxsize=64)
def _plan(fiscal: tuple[tuple[str, str, str], ...], contract: tuple[tuple[str, str], ...],
          commissioners: tuple[str, ...]) -> tuple[tuple[tuple[int, ...], ...],
                                                   tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """What :func:`budget_ledger` makes of a fiscal ledger with the keys ``fiscal`` and contract
    rows of the (party, item)s ``contract``, for the rows of the budgets table: for each of its
    rows, in the table's order, the positions of its sources among the fiscal ledger's rows and
    then the contract rows (several: added one after another, as :func:`budget_ledger` adds
    them); and the rows' key columns (:func:`_key_columns`). Once for the keys a task's
    replications share."""
    payers = set(commissioners)
    sources: dict[tuple[str, str, str], list[int]] = {}
    contract_arms: dict[str, list[str]] = {}
    for j, (arm, party, item) in enumerate(fiscal):
        if party in payers and item == CONTRACT_ITEM:
            contract_arms.setdefault(party, []).append(arm)
            continue
        sources[(arm, party, item)] = [j]
    public = {p for _, p, _ in fiscal if p not in fis.NOT_PUBLIC} | payers
    others = ["treatment", *(["difference"] if any(k[0] == "difference" for k in fiscal) else [])]
    for j, (party, item) in enumerate(contract, start=len(fiscal)):
        for arm in contract_arms.get(party, ["treatment"]) if party in payers else others:
            sources.setdefault((arm, party, item), []).append(j)
    keys = _sorted(tuple(sources))
    return tuple(tuple(sources[k]) for k in keys), _key_columns(keys, frozenset(public))


def _merged(parts: list[np.ndarray]) -> np.ndarray:
    """Several sources of one budgets row added one after another, each padded with zero months
    to the longer (as :func:`budget_ledger` adds a contract row to a row it has)."""
    out = np.asarray(parts[0], dtype=float)
    for a in parts[1:]:
        a = np.asarray(a, dtype=float)
        n = max(len(out), len(a))
        out = np.pad(out, (0, n - len(out))) + np.pad(a, (0, n - len(a)))
    return out


def empty() -> pd.DataFrame:
    """A budgets table without rows, in the columns and types of :data:`BUDGETS`."""
    return BUDGETS.empty_table().to_pandas()


def budgets(fiscal: fis.Ledger, contract: Iterable[tuple[str, str, np.ndarray]],
            commissioners: Iterable[str], rate: float) -> pd.DataFrame:
    """The budgets table of one evaluation (:data:`BUDGETS`): :func:`budget_ledger` by year."""
    ledger, public = budget_ledger(fiscal, contract, commissioners)
    return by_year(ledger, rate, public)


def budget_columns(fiscal: fis.Ledger, contract: Iterable[tuple[str, str, np.ndarray]],
                   commissioners: Iterable[str], rate: float) -> dict[str, np.ndarray]:
    """:func:`budgets` as numpy columns in the order of :data:`BUDGETS`, the strings (arm, party,
    item) as object arrays of str: what a batch turns into Arrow without a DataFrame."""
    cols = block_budget_columns([(fiscal, contract, commissioners)], rate)
    del cols["replication"]
    return cols


def block_budget_columns(parts: Sequence[tuple[fis.Ledger, Iterable[tuple[str, str, np.ndarray]],
                                                Iterable[str]]], rate: float) -> dict[str, np.ndarray]:
    """:func:`budget_columns` of several evaluations (each its fiscal ledger, contract rows and
    commissioners; one ``rate``) at once: their rows one after another, and in front the column
    ``replication``, the position in ``parts`` of each row's evaluation (:func:`by_year_block`:
    one matrix for all, the same floats as each alone)."""
    arrays: list[np.ndarray] = []
    columns = []
    for fiscal, contract, commissioners in parts:  # each as budget_ledger merges it, by its plan
        contract = list(contract)
        plan, keys = _plan(tuple(fiscal), tuple((p, i) for p, i, _ in contract), tuple(commissioners))
        got = [*fiscal.values(), *(a for _, _, a in contract)]
        arrays += [got[s[0]] if len(s) == 1 else _merged([got[j] for j in s]) for s in plan]
        columns.append(keys)
    cols = _years_of(arrays, columns, rate)
    if cols is None:
        return {"replication": np.zeros(0, np.int64),
                **{f.name: np.zeros(0, dtype=object if f.type == pa.string() else f.type.to_pandas_dtype())
                   for f in BUDGETS}}
    names, which = cols.pop("names"), cols.pop("which")
    arm, party, item = (n[which] for n in names)
    return {"replication": cols["replication"], "arm": arm, "party": party, "public": cols["public"],
            "year": cols["year"], "item": item, "amount_nominal": cols["amount_nominal"],
            "amount_discounted": cols["amount_discounted"]}
