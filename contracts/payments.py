"""From outcomes reached to outcome payments: rate card, price ladders, triggers, savings share,
caps and payment timing.

Three ways a contract pays, and they can be combined:

* the **rate card** prices each outcome a treated person reaches (per target group, or on a ladder),
  paid after the lag at the end of the payment period; the per-person cap applies to it;
* **triggered** outcomes are not paid person by person but per cohort, and only if the cohort's
  result clears a threshold (absolute, or relative to the control arm), or pooled over all cohorts
  at the final evaluation (Peterborough);
* a **savings share** pays a share of the public gain against the control arm (Koto-SIB).

The contract cap then applies to all of them in the order they fall due. Amounts are NOK.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from effekt import lazy
from effekt.contracts.fiscal import Ledger, savings_gain
from effekt.contracts.frames import frame
from effekt.contracts.periods import WEEKS_PER_MONTH, month_of, pay_month, within_term
from effekt.contracts.terms import Price, Terms, Trigger
from effekt.lazy import pandas as pd

np = lazy.module("numpy", globals())  # on first use: `effekt validate` reads only MissingControl (issue 14)

PAYMENT_COLUMNS = [
    "kind", "person_id", "cohort", "outcome", "week", "month_achieved", "month_paid",
    "price", "quantity", "amount", "capped",
]


class NeedsControl(ValueError):
    """A contract compares with the control arm, and the tables have no control arm (or none in
    the cohort a trigger tests)."""


MissingControl = Literal["raise", "not_met"]
"""What a comparison with the control arm does when there are no controls to compare with:
``raise`` :class:`NeedsControl` (the data cannot answer what the contract asks), or count as
``not_met`` (a trigger is not met, a savings share pays nothing). A randomised trial can, by
chance, put nobody of a small cohort into control; the contract then cannot show an effect, so it
does not pay for one."""


def unit_prices(price: Price, groups: np.ndarray, weeks_since_entry: np.ndarray,
                count: np.ndarray | None = None) -> np.ndarray:
    """The price of each outcome (given in the order they were reached), from the person's target
    group and how long after entry it was reached; ``count``: how many outcomes of this price came
    before each in its replication (default 0, 1, 2 ...: the outcomes of one replication), what a
    ladder ``by = "count"`` climbs."""
    if price.ladder:
        starts = np.array([s.start for s in price.ladder])
        rung_prices = np.array([s.price for s in price.ladder])
        if price.ladder_by == "count":
            x = np.arange(len(groups), dtype=float) if count is None else np.asarray(count, dtype=float)
        else:
            x = weeks_since_entry
        rung = np.searchsorted(starts, x, side="right") - 1
        return np.where(rung >= 0, rung_prices[np.clip(rung, 0, None)], price.default)
    if price.by_group:
        return np.array([price.by_group.get(g, price.default) for g in groups], dtype=float)
    return np.full(len(groups), price.default)


def _cumsum_by(keys: Sequence, values: np.ndarray) -> np.ndarray:
    """Running sums of ``values`` within each key, in the given order."""
    out = np.empty(len(values))
    running: dict = {}
    for i, (k, v) in enumerate(zip(keys, values, strict=True)):
        running[k] = running.get(k, 0.0) + v
        out[i] = running[k]
    return out


def _running_sums(rep: np.ndarray, pid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """:func:`_cumsum_by` with the keys (replication ``rep``, person ``pid``): each person's
    running sum of ``values`` in the given order, added one value after another from 0 as the
    loop adds them. Integer person ids: all persons' k-th values added at once, k = 0, 1, ...
    (a person has a few outcomes); other ids: the loop."""
    if pid.dtype.kind not in "iu" or not len(pid):
        return _cumsum_by(list(zip(rep.tolist(), pid.tolist(), strict=True)), values)
    low = int(pid.min())
    span = int(pid.max()) - low + 1
    if span * (int(rep.max()) + 2) >= 2 ** 62:
        return _cumsum_by(list(zip(rep.tolist(), pid.tolist(), strict=True)), values)
    key = np.asarray(rep, dtype=np.int64) * span + (pid.astype(np.int64) - low)
    order = np.argsort(key, kind="stable")  # each person's values together, in their order
    sorted_key, v = key[order], np.asarray(values, dtype=float)[order]
    positions = np.arange(len(v))
    first = np.ones(len(v), dtype=bool)
    first[1:] = sorted_key[1:] != sorted_key[:-1]
    nth = positions - np.maximum.accumulate(np.where(first, positions, 0))  # a value's place in its person's
    running = np.empty(len(v))
    running[first] = 0.0 + v[first]
    for k in range(1, int(nth.max()) + 1):
        at = np.flatnonzero(nth == k)
        running[at] = running[at - 1] + v[at]
    out = np.empty(len(v))
    out[order] = running
    return out


Columns = dict[str, "np.ndarray"]
"""A small table as numpy columns: outcomes (``OUTCOME_COLUMNS``) or payments (``PAYMENT_COLUMNS``).
Contracts are evaluated once per replication on tables of a few dozen rows, where pandas' per-call
overhead would cost more than the arithmetic."""


@dataclass(frozen=True)
class People:
    """The columns of ``persons`` that payments need."""

    arm: np.ndarray
    person_id: np.ndarray
    cohort: np.ndarray
    entry: np.ndarray

    @classmethod
    def of(cls, persons: pd.DataFrame) -> People:
        n = len(persons)
        return cls(arm=persons["arm"].to_numpy(dtype=object), person_id=persons["person_id"].to_numpy(),
                   cohort=(persons["cohort"].to_numpy(dtype=object) if "cohort" in persons
                           else np.full(n, None, dtype=object)),
                   entry=persons["entry_week"].to_numpy(dtype=float))


CARD_INPUTS = ("arm", "outcome", "week", "person_id", "group", "cohort", "quantity")
"""The outcome columns the rate card reads."""


def _rate_card(terms: Terms, o: Columns, people: People) -> Columns:
    """The rate card's payments of one replication: :func:`rate_cards` of a block of one."""
    return rate_cards(terms, [o], [people])[0]


def rate_cards(terms: Terms, found: Sequence[Columns], people: Sequence[People]) -> list[Columns]:
    """The rate card's payments (``PAYMENT_COLUMNS`` but ``kind``-first as the card makes them) of
    each replication of a block, from its outcomes as the design measures them and its people:
    every treated outcome reached within the term and not paid by a trigger, in the order reached
    (week, person, outcome), priced by the outcome's price (target group, time since entry, or
    its count in the replication) and capped per person in that order.

    The replications' rows are read at once, each replication's rows kept together and in its own
    order (sorted by replication first), and every sum a person's cap reads is that person's own
    running sum in that order: each replication gets the rows, and the floats, it gets alone.
    Replications whose columns have different dtypes (an empty table's) are read in separate
    blocks, so no column is cast."""
    if len(found) != len(people):
        raise ValueError(f"rate_cards: {len(found)} outcome tables for {len(people)} people tables")
    kinds: dict[tuple, list[int]] = {}
    for i, (o, who) in enumerate(zip(found, people, strict=True)):
        sig = (*(o[c].dtype for c in CARD_INPUTS), who.arm.dtype, who.person_id.dtype, who.entry.dtype)
        kinds.setdefault(sig, []).append(i)
    out: list[Columns | None] = [None] * len(found)
    for members in kinds.values():
        for i, card in zip(members, _rate_cards([found[i] for i in members], [people[i] for i in members],
                                                terms), strict=True):
            out[i] = card
    return out  # type: ignore[return-value]


def _joined(parts: Sequence[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _rate_cards(found: Sequence[Columns], people: Sequence[People], terms: Terms) -> list[Columns]:
    """:func:`rate_cards` of replications whose columns share their dtypes."""
    c = terms.contract
    triggered = [t.outcome for t in terms.triggers]
    o = {k: _joined([f[k] for f in found]) for k in CARD_INPUTS}
    rep = np.repeat(np.arange(len(found)), [len(f["week"]) for f in found])
    treated = o["arm"] == "treatment"
    outcome = o["outcome"][treated]
    week = o["week"][treated]
    month = month_of(week)
    keep = within_term(week, c.term_months)
    if triggered:  # a triggered outcome is paid by its trigger, not by the rate card
        keep &= ~np.isin(outcome, np.array(triggered, dtype=object))
    pid = o["person_id"][treated][keep]
    outcome, week, month, rep = outcome[keep], week[keep], month[keep], rep[treated][keep]
    group = o["group"][treated][keep]
    cohort = o["cohort"][treated][keep]
    quantity = o["quantity"][treated][keep]
    order = np.lexsort((outcome.astype(str), pid, week, rep))  # by replication, then as one alone
    pid, outcome, week, month, group, cohort, quantity, rep = (
        x[order] for x in (pid, outcome, week, month, group, cohort, quantity, rep))
    since = week - _entry_weeks(people, rep, pid)
    price = np.zeros(len(pid))
    for name, p in terms.prices.items():
        mask = outcome == name
        if mask.any():
            here = rep[mask]  # each outcome's count among its replication's outcomes of this price
            count = np.arange(len(here)) - np.searchsorted(here, here, side="left")
            price[mask] = unit_prices(p, group[mask], since[mask], count)
    price *= c.nok_per_unit
    due = price * quantity
    amount = due
    if terms.caps.per_person is not None and len(pid):
        before = _running_sums(rep, pid, due) - due
        amount = np.clip(np.minimum(due, terms.caps.per_person * c.nok_per_unit - before), 0.0, None)
    n = len(pid)
    card = {
        "kind": np.full(n, "rate_card", dtype=object), "person_id": pid, "cohort": cohort,
        "outcome": outcome, "week": week, "month_achieved": month,
        "month_paid": pay_month(month, c.payment_lag_months, c.payment_period),
        "price": price, "quantity": quantity, "amount": amount, "capped": amount < due - 1e-9,
    }
    bounds = np.searchsorted(rep, np.arange(len(found) + 1))
    return [{k: a[lo:hi] for k, a in card.items()} for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _entry_weeks(people: Sequence[People], rep: np.ndarray, pid: np.ndarray) -> np.ndarray:
    """The entry week of each treated person (replication ``rep``, ``pid``) among ``people`` (a
    block's, by replication; the last row of a person named twice, as a dict keeps it), 0.0 for
    one not there. Integer person ids: (replication, person) as one sorted integer key for the
    block, looked up at once; other ids one by one."""
    mine = [who.arm == "treatment" for who in people]
    pids = [who.person_id[m] for who, m in zip(people, mine, strict=True)]
    entries = [who.entry[m] for who, m in zip(people, mine, strict=True)]
    if len(pid) and all(a.dtype.kind in "iu" for a in (*pids, pid)):
        known_pid = np.concatenate(pids).astype(np.int64)
        query_pid = np.asarray(pid, dtype=np.int64)
        low = int(min(known_pid.min(initial=0), query_pid.min()))
        span = int(max(known_pid.max(initial=0), query_pid.max())) - low + 1
        if span * (len(people) + 1) < 2 ** 62:  # (replication, person) as one int64
            known = np.repeat(np.arange(len(people)), [len(a) for a in pids]) * span + (known_pid - low)
            order = np.argsort(known, kind="stable")  # a person named twice: its rows in order
            keys = known[order]
            query = np.asarray(rep, dtype=np.int64) * span + (query_pid - low)
            at = np.searchsorted(keys, query, side="right") - 1  # the last row of the person
            found = at >= 0
            found[found] = keys[at[found]] == query[found]
            out = np.zeros(len(pid))
            out[found] = np.concatenate(entries).astype(float)[order][at[found]]
            return out
    entry_of: dict = {}
    for i, (who_pid, who_entry) in enumerate(zip(pids, entries, strict=True)):
        ids = who_pid.tolist()
        entry_of.update(zip(zip([i] * len(ids), ids, strict=True), who_entry.tolist(), strict=True))
    return np.array([entry_of.get(k, 0.0) for k in zip(rep.tolist(), pid.tolist(), strict=True)], dtype=float)


def _rates(o: Columns, people: People, name: str, cohort: str | None,
           until_week: float, term_months: int) -> dict[str, tuple[int, int]]:
    """(people with the outcome by ``until_week``, people) per arm, for one cohort or all."""
    out = {}
    base = ((o["outcome"] == name) & (o["week"] <= until_week + 1e-9)
            & within_term(o["week"], term_months))
    if cohort is not None:
        base &= o["cohort"] == cohort
    for arm in ("treatment", "control"):
        people_here = people.arm == arm
        if cohort is not None:
            people_here &= people.cohort == cohort
        got = o["person_id"][base & (o["arm"] == arm)]
        out[arm] = (_distinct(got), int(people_here.sum()))
    return out


def _distinct(values: np.ndarray) -> int:
    """How many different values ``values`` holds, missing ones (NaN, None) not counted: what
    ``len(pd.unique(v[pd.notna(v)]))`` gives, without pandas for numbers (a run of a trigger
    contract imported pandas for this alone, some 0.2 s of its start-up, issue 14; the
    simulation's ids are whole numbers)."""
    v = np.asarray(values)
    if v.dtype.kind == "O":  # ids from outside the simulation (None, pd.NA, mixed types): as before
        return len(pd.unique(v[pd.notna(v)]))
    if v.dtype.kind == "f":
        v = v[~np.isnan(v)]
    return len(np.unique(v)) if v.size else 0


def trigger_result(t: Trigger, counts: dict[str, tuple[int, int]],
                   missing_control: MissingControl = "raise") -> tuple[bool, float]:
    """Whether trigger ``t`` is met by ``counts`` and the number of outcomes it pays for;
    ``missing_control`` says what a comparison with an empty control arm does."""
    n_t, size_t = counts["treatment"]
    n_c, size_c = counts["control"]
    if size_t == 0:
        return False, 0.0
    rate_t = n_t / size_t
    if t.needs_control and size_c == 0:
        if missing_control == "not_met":
            return False, 0.0
        raise NeedsControl(f"trigger on '{t.outcome}' compares with the control arm, "
                           "and there are no controls to compare with")
    rate_c = n_c / size_c if size_c else 0.0
    if t.compare == "absolute":
        result = rate_t
    elif t.compare == "difference_to_control":
        result = rate_t - rate_c
    else:
        result = (rate_t - rate_c) / rate_c if rate_c > 0 else (np.inf if rate_t > 0 else 0.0)
    met = bool(result >= t.threshold - 1e-12 * max(1.0, abs(t.threshold)))
    paid_for = n_t if t.pay == "all" else max(0.0, n_t - rate_c * size_t)
    return met, float(paid_for) if met else 0.0


def _cohort_starts(people: People) -> list[tuple[object, float]]:
    """Each treated cohort's first entry week, by cohort name (missing names left out)."""
    treated = people.arm == "treatment"
    starts: dict = {}
    for cohort, entry in zip(people.cohort[treated].tolist(), people.entry[treated].tolist(), strict=True):
        if cohort is None or (isinstance(cohort, float) and np.isnan(cohort)):
            continue
        starts[cohort] = min(starts.get(cohort, entry), entry)
    return sorted(starts.items(), key=lambda kv: kv[0])


def _compared(counts: dict[str, tuple[int, int]], name: str,
              baseline: Mapping[str, float] | None) -> dict[str, tuple[float, float]]:
    """``counts`` with the control arm's replaced by a fixed baseline share of ``name`` (as one
    person of whom ``share`` reach it) when there is a baseline (an evaluation design without a
    comparison arm: :mod:`effekt.contracts.evaluation_design`; a missing outcome counts 0)."""
    if baseline is None:
        return counts  # type: ignore[return-value]
    return {**counts, "control": (float(baseline.get(name, 0.0)), 1.0)}


def _triggered(terms: Terms, o: Columns, people: People,
               missing_control: MissingControl = "raise",
               baseline: Mapping[str, float] | None = None) -> list[dict]:
    c = terms.contract
    rows: list[dict] = []
    if not terms.triggers:
        return rows
    starts = _cohort_starts(people)
    for name in dict.fromkeys(t.outcome for t in terms.triggers):
        price = terms.prices[name].default * c.nok_per_unit
        paid_so_far = 0.0
        for t in (t for t in terms.triggers if t.outcome == name and t.scope == "cohort"):
            for cohort, start in starts:
                month = int(month_of(start)) + int(t.evaluate_after_months)
                counts = _rates(o, people, name, cohort, month * WEEKS_PER_MONTH, c.term_months)
                met, n = trigger_result(t, _compared(counts, name, baseline), missing_control)
                if met and n > 0:
                    rows.append(dict(kind="trigger_cohort", person_id=-1, cohort=cohort, outcome=name,
                                     week=month * WEEKS_PER_MONTH, month_achieved=month,
                                     month_paid=int(pay_month(month, c.payment_lag_months,
                                                              c.payment_period)),
                                     price=price, quantity=n, amount=price * n, capped=False))
                    paid_so_far += price * n
        for t in (t for t in terms.triggers if t.outcome == name and t.scope == "pooled"):
            final = c.final_month
            counts = _rates(o, people, name, None, final * WEEKS_PER_MONTH, c.term_months)
            met, n = trigger_result(t, _compared(counts, name, baseline), missing_control)
            amount = max(0.0, price * n - paid_so_far)
            if met and amount > 0:
                rows.append(dict(kind="trigger_pooled", person_id=-1, cohort="(pooled)", outcome=name,
                                 week=final * WEEKS_PER_MONTH, month_achieved=final, month_paid=final,
                                 price=price, quantity=n, amount=amount, capped=False))
                paid_so_far += amount
    return rows


def savings_base(terms: Terms, gains: Ledger | pd.DataFrame | None) -> float | None:
    """What the savings share of ``terms`` is paid a share of: the public gain of ``gains`` (a
    difference ledger or the table of :func:`effekt.contracts.fiscal.gains_by_component`) over the
    share's window and components, by :func:`effekt.contracts.fiscal.savings_gain`. None without a
    savings share; :class:`NeedsControl` when there is no control arm (``gains`` None)."""
    s = terms.savings_share
    if s is None:
        return None
    if gains is None:
        raise NeedsControl("the savings share is measured against the control arm, "
                           "and there are no controls to compare with")
    return savings_gain(gains, s.window_months, s.components)


def _savings(terms: Terms, gain: float | None) -> list[dict]:
    s = terms.savings_share
    if s is None or gain is None:
        return []
    final = terms.contract.final_month
    amount = s.share * max(0.0, gain)
    if amount <= 0:
        return []
    return [dict(kind="savings_share", person_id=-1, cohort="(pooled)",
                 outcome="savings_share", week=final * WEEKS_PER_MONTH,
                 month_achieved=final, month_paid=final, price=s.share,
                 quantity=gain, amount=amount, capped=False)]


_DTYPES = {"kind": object, "cohort": object, "outcome": object, "week": float, "month_achieved": "int64",
           "month_paid": "int64", "price": float, "quantity": float, "amount": float, "capped": bool}


def payment_columns(terms: Terms, o: Columns, people: People,
                    gain: Callable[[], float | None],
                    missing_control: MissingControl = "raise",
                    baseline: Mapping[str, float] | None = None, *,
                    card: Columns | None = None) -> Columns | None:
    """Every outcome payment as numpy columns (``PAYMENT_COLUMNS``), in the order they fall due,
    capped; None when nothing is paid. ``gain()`` is what a savings share is paid on
    (:func:`savings_base`; None pays nothing), asked for only after the triggers;
    ``missing_control`` what a trigger does without controls to compare with; ``baseline`` the
    share of each outcome a trigger compares with instead of the control arm's (None: the control
    arm; see :meth:`effekt.contracts.evaluation_design.EvaluationDesign.baseline_shares`);
    ``card``: the rate card's payments of ``o`` when a block priced them (:func:`rate_cards`;
    None: priced here)."""
    if card is None:
        card = _rate_card(terms, o, people)
    rows = _triggered(terms, o, people, missing_control, baseline)
    rows += _savings(terms, gain())
    parts = [card] if len(card["person_id"]) else []
    if rows:
        parts.append({c: np.array([r[c] for r in rows], dtype=_DTYPES.get(c, np.int64))
                      for c in PAYMENT_COLUMNS})
    if not parts:
        return None
    out = {c: np.concatenate([p[c] for p in parts]) if len(parts) > 1 else parts[0][c]
           for c in PAYMENT_COLUMNS}
    order = np.lexsort((out["week"], out["month_paid"]))
    out = {c: a[order] for c, a in out.items()}
    cap = terms.caps.contract
    if cap is not None:
        cap *= terms.contract.nok_per_unit
        amount = out["amount"].astype(float)
        before = np.cumsum(amount) - amount
        capped = np.clip(np.minimum(amount, cap - before), 0.0, None)
        out["capped"] = out["capped"].astype(bool) | (capped < amount - 1e-9)
        out["amount"] = capped
    out["month_paid"] = out["month_paid"].astype(np.int64)
    out["month_achieved"] = out["month_achieved"].astype(np.int64)
    out["capped"] = out["capped"].astype(bool)
    return out


def payments_frame(cols: Columns | None) -> pd.DataFrame:
    """Payment columns as the ``schedule_payments`` table."""
    if cols is None:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in PAYMENT_COLUMNS})
    return frame(cols)


def schedule_payments(terms: Terms, outcomes: pd.DataFrame, persons: pd.DataFrame | None = None,
                      gains: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every outcome payment the commissioners make, in NOK, in the order they fall due.

    ``outcomes`` are all arms' outcomes (see :func:`effekt.contracts.outcomes.measure_outcomes`; only
    the treated are paid, the control arm is the comparison); ``gains`` the treatment-minus-control
    public gains by month and component (see :mod:`effekt.contracts.fiscal`), needed for a savings share.
    Outcomes reached after the end of month ``term_months`` (week ``term_months`` x 52/12) are
    not paid. ``capped`` marks payments
    reduced by a cap.
    """
    if persons is None:  # the treated outcomes alone (older call style): people from the outcomes
        persons = outcomes.drop_duplicates(["person_id"]).assign(arm="treatment", entry_week=0.0)
    n = len(outcomes)
    o = {
        "arm": (outcomes["arm"].to_numpy(dtype=object) if "arm" in outcomes
                else np.full(n, "treatment", dtype=object)),
        "person_id": outcomes["person_id"].to_numpy(),
        "cohort": (outcomes["cohort"].to_numpy(dtype=object) if "cohort" in outcomes
                   else np.full(n, "", dtype=object)),
        "group": (outcomes["group"].to_numpy(dtype=object) if "group" in outcomes
                  else np.full(n, "", dtype=object)),
        "outcome": outcomes["outcome"].to_numpy(dtype=object),
        "week": outcomes["week"].to_numpy(dtype=float),
        "quantity": outcomes["quantity"].to_numpy(dtype=float) if "quantity" in outcomes else np.ones(n),
    }
    return payments_frame(payment_columns(terms, o, People.of(persons), lambda: savings_base(terms, gains)))
