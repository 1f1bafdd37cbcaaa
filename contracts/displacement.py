"""Displacement and substitution: how much of the programme's extra work is extra for the public budgets.

A comparison of the two arms (treatment minus control) counts every job a participant gets beyond
the control arm as additional. In a labour market that has only so many vacancies, some of those
jobs would have gone to someone else, and some subsidised jobs replace a worker the employer had.
The evaluation vocabulary (HM Treasury, *The Magenta Book*, 2020, and *The Green Book*, 2022, on
additionality; the Government Outcomes Lab's glossary) names them:

* **displacement**: a job a participant got that someone outside the programme would otherwise
  have had, who is then out of work instead. Stated as ``displacement_share``, a share of the
  programme's additional employment.
* **substitution**: an employer swapping an existing worker for a subsidised participant to get
  the subsidy. Stated as ``substitution_share``, a share of the programme's wage-subsidised job
  time.

**The rule.** The worker displaced or substituted loses what the participant gained *from the
job*: the budget flows that come from employment (``OFFSET_ITEMS``: income tax net of the tax
the stopped benefit would have paid, employer contributions (arbeidsgiveravgift), the benefit
the job stops, and the gross earnings), counted
in the employed spells only (:func:`employment_flows`), are offset, each for the party that loses
it by the payer rules the fiscal ledger already uses (:mod:`effekt.contracts.fiscal`): the
kommune, the other kommuner and the fylke their shares of the income tax, the state the rest and
the employer contributions, the
benefit's payer (the state for AAP, the kommune for sosialhjelp, ...) the benefit. In a job spell
the benefit stopped is the person's own benefit (the ``persons`` table) less any benefit the
spell still pays. A benefit that stops *without* work (a course with ``funding.benefit =
"stops"``, a sanction, a move) is no job anyone else lost, so it is not offset. In turn, as the
additionality guides apply them:

1. substitution: ``- substitution_share`` x those flows in subsidised job spells (employed, with
   ``subsidy_share > 0``, :func:`subsidised_flows`), treatment minus scaled control;
2. displacement: ``- displacement_share`` x the difference (treatment minus scaled control) of
   those flows in every job spell (:func:`employment_flows`), after the substitution offset.

So an item's net difference is ``D - s S - d (E - s S)``: ``D`` the difference of the item,
``E`` that of the employed spells' flows, ``S`` that of the subsidised spells' flows, ``s`` and
``d`` the two shares. Tax, employer contributions and earnings come from jobs only, so for them
``E = D`` and the net is ``(D - s S) (1 - d)``; for benefits ``D - E`` is what the programme
changed in benefits without work, and stays whole. The displaced or substituted worker is
assumed to be on the participant's benefit, with the participant's wage: the offset is a share
of what the programme's jobs brought, not a model of who else is in the labour market.
Programme costs, wage costs, subsidies paid, grants and the contract's payments are not offset:
they are paid whatever. Nor is what a contract pays on: a savings share (Koto-SIB) is paid on the
difference its trial measures, which does not see the people outside it.

**A negative employment effect** (a programme that locks people in, so its participants hold
fewer jobs than the control arm): the offset is read symmetrically, ``- d E`` with ``E < 0`` is
a gain for the budgets. The vacancies the participants did not take went, by the same
assumption of a fixed number of vacancies, to other jobseekers, a share ``d`` of whom would
otherwise have been out of work: the participants' lost jobs are partly somebody else's gain.
Clipping at an effect of 0 instead would make the offset a non-linear function of a noisy
difference: a programme that changes nothing would, month by month, have its chance gains cut
and its chance losses kept, and show a negative offset on average. The symmetric reading keeps
the offset linear, so a null programme offsets nothing in expectation.

With both shares 0 (the default) nothing is computed and the ledger is the one the comparison
gives. Whatever the shares, a programme that changes nothing offsets nothing (``E`` and ``S`` are
differences of arms).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from effekt.contracts.finance import npv
from effekt.contracts.fiscal import (
    SUBSIDY_SHARE_COLUMNS,
    FiscalParams,
    IntegrationGrant,
    Ledger,
    difference_ledger,
    public_ledger,
)
from effekt.contracts.kpis import Key, KpiRegistry, kpi_key
from effekt.contracts.outcomes import Frame, Tables, _floats, _strings, has
from effekt.lazy import pandas as pd

OFFSET_ITEMS = ("income_tax", "employer_contributions", "benefits", "earnings")
"""The budget flows that come from employment, and so are offset (``earnings`` to party
``participants``, the others to the public party that receives or pays them)."""


def employment_flows(persons: Frame, spells: Frame, G: float, n_months: int, params: FiscalParams,
                     payers: dict[str, str], tables: Tables) -> Ledger:
    """Each arm's flows in its job spells (every spell in state ``employed``) by (arm, party,
    item), for the items of ``OFFSET_ITEMS``: the spells' income tax, employer contributions and
    earnings, and as ``benefits`` the benefit the person does not draw while in the job (the
    ``persons`` table's benefit less any the spell pays), each to its party by the fiscal rules.
    What displacement offsets a share of: only what work brought, not a benefit stopped without
    a job."""
    return _job_flows(persons, spells, G, n_months, params, payers, tables,
                      _strings(spells, "state", "") == "employed")


def subsidised_flows(persons: Frame, spells: Frame, G: float, n_months: int, params: FiscalParams,
                     payers: dict[str, str], tables: Tables) -> Ledger:
    """:func:`employment_flows` of the subsidised job spells only (employed, ``subsidy_share >
    0``): what substitution offsets a share of."""
    share_col = next((c for c in SUBSIDY_SHARE_COLUMNS if has(spells, c)), None)
    if share_col is None:
        return {}
    subsidised = (_strings(spells, "state", "") == "employed") & (_floats(spells, share_col) > 0)
    return _job_flows(persons, spells, G, n_months, params, payers, tables, subsidised)


def _job_flows(persons: Frame, spells: Frame, G: float, n_months: int, params: FiscalParams,
               payers: dict[str, str], tables: Tables, jobs: np.ndarray) -> Ledger:
    """The ``OFFSET_ITEMS`` flows of the job spells ``jobs`` (a mask of ``spells``), by (arm,
    party, item), less those of the person's own benefit over the same weeks: ``benefits`` is the
    benefit the jobs stop (own benefit less the spell's), ``income_tax`` the tax on the job's
    income less the tax the own benefit would have paid (benefits are taxed by the same rule)."""
    if not jobs.any():
        return {}
    rows = spells.filter(pa.array(jobs)).to_pandas() if isinstance(spells, pa.Table) \
        else spells[jobs]
    person_row = tables.s_person[jobs]
    known = person_row >= 0
    own_kind = np.where(known, _strings(persons, "benefit_kind", "none")[np.maximum(person_row, 0)], "none")
    own_g = np.where(known, _floats(persons, "benefit_g")[np.maximum(person_row, 0)], 0.0)
    no_grant = params.model_copy(update={"integration_grant": IntegrationGrant(per_year=[])})
    in_job = public_ledger(persons, rows, G, n_months, no_grant, payers)
    out_of_job = public_ledger(persons, pd.DataFrame({
        "arm": rows["arm"].to_numpy(), "state": "not_employed", "start": rows["start"].to_numpy(),
        "end": rows["end"].to_numpy(), "benefit_kind": own_kind, "benefit_g": own_g}),
        G, n_months, no_grant, payers)
    out: Ledger = {key: a for key, a in in_job.items() if key[2] in OFFSET_ITEMS}
    # what the job brought = the job spell's flows - those of the person's own benefit instead:
    # benefits saved = own benefit - the spell's, and the tax on the own benefit (when taxable) is
    # tax the job did not bring
    for (arm, party, item), a in out_of_job.items():
        if item in OFFSET_ITEMS:
            key = (arm, party, item)
            out[key] = out[key] - a if key in out else -a
    return out


def _padded(a: np.ndarray, n: int) -> np.ndarray:
    return np.pad(a, (0, n - len(a))) if len(a) < n else a


def offsets(employment: Ledger, subsidised: Ledger, n_treatment: int, n_control: int,
            displacement_share: float, substitution_share: float) -> tuple[Ledger, Ledger]:
    """The displacement and the substitution offsets by (``difference``, party, item), from each
    arm's :func:`employment_flows` and :func:`subsidised_flows` (see the module's rule:
    ``- s S`` and ``- d (E - s S)``, symmetric when the employment effect is negative)."""
    emp_diff = difference_ledger(employment, n_treatment, n_control) if displacement_share else {}
    sub_diff = difference_ledger(subsidised, n_treatment, n_control) if substitution_share else {}
    n = max((len(a) for a in (*emp_diff.values(), *sub_diff.values())), default=0)
    substitution: Ledger = {key: -substitution_share * _padded(a, n) for key, a in sub_diff.items()
                            if key[2] in OFFSET_ITEMS}
    displacement: Ledger = {}
    if displacement_share:
        for key in dict.fromkeys([*(k for k in emp_diff if k[2] in OFFSET_ITEMS), *substitution]):
            after = _padded(emp_diff.get(key, np.zeros(n)), n) + substitution.get(key, 0.0)
            displacement[key] = -displacement_share * after
    return displacement, substitution


def net_of(diff: Ledger, *offset_ledgers: Ledger) -> Ledger:
    """The difference ledger with the offsets added, item by item (a new ledger; ``diff`` is not
    changed)."""
    out = dict(diff)
    for ledger in offset_ledgers:
        for key, a in ledger.items():
            if key in out:
                base = out[key]
                n = max(len(base), len(a))
                out[key] = _padded(base, n) + _padded(a, n)
            else:
                out[key] = a.copy()
    return out


def offset_kpis(displacement: Ledger, substitution: Ledger, n_months: int, rate: float,
                registry: KpiRegistry) -> dict[Key, float]:
    """The offsets' KPIs: the NPV each public budget the registry declares loses to them
    (``fiscal_offset_npv_*``, and their total over every public party), the undiscounted totals of
    each offset over the public parties, and the earnings the displaced and substituted workers
    lose (``earnings_offset``). Zero when there is nothing to offset."""

    def total(ledgers: tuple[Ledger, ...], party: str | None = None) -> np.ndarray:
        acc = np.zeros(n_months)
        for ledger in ledgers:
            for (_, p, _), a in ledger.items():
                if party is None and p != "participants" or p == party:
                    acc[:min(len(a), n_months)] += a[:n_months]
        return acc

    both = (displacement, substitution)
    out: dict[Key, float] = {}
    for kpi in registry.select(measure="fiscal_offset_npv", party_kind="public"):
        out[kpi.key] = npv(total(both, kpi.party), rate)
    out[kpi_key("fiscal_displacement_offset", arm="difference")] = float(total((displacement,)).sum())
    out[kpi_key("fiscal_substitution_offset", arm="difference")] = float(total((substitution,)).sum())
    out[kpi_key("earnings_offset", arm="difference")] = float(total(both, "participants").sum())
    return out

