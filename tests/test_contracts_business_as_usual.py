"""What contracts make of spells in a business-as-usual pathway (``spells.business_as_usual``).

A person who leaves the pathway and rejoins the introduction programme is in a stage of kind
"programme" again, with a stage name, but it is not the provider's programme: the provider's
per-week delivery cost does not run in it, and a subsidised job in it is not the programme's own
job. Hand-built tables, hand-computed expectations.
"""

from __future__ import annotations

import numpy as np

from effekt.contracts import load_terms, programme_jobs
from effekt.contracts.evaluate import provider_costs
from effekt.contracts.records import person, persons_table, spell, spells_table


def test_the_provider_is_not_paid_for_weeks_in_business_as_usual():
    terms = load_terms("kongsberg_outcomes")
    per_week = terms.provider.per_week * terms.contract.nok_per_unit
    persons = persons_table([person(0)])
    spells = spells_table([
        spell(0, "programme", 0, 10, stage="course", business_as_usual=False),
        spell(0, "programme", 10, 30, stage="intro", business_as_usual=True),
        spell(0, "not_employed", 30, 156, business_as_usual=False),
    ])
    costs = provider_costs(terms, persons, spells, 36)
    once = terms.provider.per_cohort + terms.provider.per_participant
    assert np.isclose(costs.sum(), once * terms.contract.nok_per_unit + 10 * per_week)


def test_a_subsidised_job_in_business_as_usual_is_not_the_programmes_own():
    state = np.array(["employed", "employed", "employed"], dtype=object)
    stage = np.array(["wage_subsidy", "wage_subsidy", None], dtype=object)
    contract = np.array(["temporary", "temporary", "permanent"], dtype=object)
    subsidy = np.array([0.4, 0.4, 0.0])
    usual = np.array([False, True, False])
    assert programme_jobs(state, stage, contract, subsidy, usual).tolist() == [True, False, False]
    assert programme_jobs(state, stage, contract, subsidy).tolist() == [True, True, False]
