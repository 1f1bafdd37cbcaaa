"""Benefits combined with work, by their rules (sim/data/benefits.toml ``with_work``), by hand.

* AAP is graded by hours (folketrygdloven § 11-23): 2.041 G x (1 - fte) in a job up to 60 % of full
  time, none above it (NAV: no AAP for working time above 60 % of a 37.5-hour week);
* uføretrygd is reduced by income (folketrygdloven § 12-14): 2.529 G less 0.766 of the year's
  earnings above the inntektsgrense of 0.4 G, none above 2.64 G (80 % of an inntekt før uførhet of
  3.3 G, the file's assumption for people on the minimum);
* sosialhjelp is means-tested (sosialtjenesteloven § 18): 1.2769 G less 0.9 of the earnings (net of
  tax, the file's assumption);
* the graded benefit is the person's entitlement at the time: a job across AAP's 156-week limit is
  cut there and graded by the next kind's rule; a stage whose funding says the benefit continues
  pays it in full; the same rule in every arm;
* the public ledger pays the graded amount and taxes it with the wage (AAP as a wage, on the sum).

G = 130 160 NOK (NAV, from 1 May 2025), the wages' G in sim/data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from effekt.contracts.fiscal import public_flows
from effekt.experiments.scenario import load_scenario
from effekt.sim import (
    Benefit,
    Cohort,
    Counterfactual,
    LabourMarket,
    Pathway,
    TargetGroup,
    World,
    default_benefits,
    simulate,
)
from effekt.specfile import SpecError

G = 130_160.0  # source: NAV, grunnbeløp from 1 May 2025
AAP, UFORE, SOSIALHJELP = 2.041, 2.529, 1.2769  # G a year: benefits.toml, with their sources there
WAGE = 400_000.0


def group(benefit: str, age: int = 30, bau: float = 0.0, fte: float = 0.8) -> TargetGroup:
    return TargetGroup(
        title="test", age={"low": age, "high": age}, norwegian={"B1": 1.0}, education={"primary": 1.0},
        work_capacity={"low": 1.0, "high": 1.0}, benefit={benefit: 1.0}, bau_entry_rate=bau,
        bau_job_loss_rate=0.0, wage=WAGE, fte=fte)


def pathway(stages: dict, entry: str) -> Pathway:
    return Pathway.model_validate({
        "pathway": {"name": "t", "title": "test", "source": "test", "entry": entry}, "stages": stages})


def job_from(start: float, weeks: float, fte: float, funding: dict | None = None) -> Pathway:
    """Out of work (a course on the prior benefit) until ``start``, then a job the employer pays
    for ``weeks``, then out."""
    stages = {
        "job": {"kind": "employment", "duration": {"dist": "fixed", "value": weeks}, "next": "out",
                "employment": {"contract": "temporary", "fte": fte, "annual_wage": WAGE},
                **({"funding": funding} if funding else {})},
        "out": {"kind": "exit", "outcome": "not_employed"},
    }
    if start > 0:
        stages["wait"] = {"kind": "course", "duration": {"dist": "fixed", "value": start}, "next": "job"}
    return pathway(stages, "wait" if start > 0 else "job")


def run(pw: Pathway, tg: TargetGroup, horizon: float, n: int = 3, mode: str = "none",
        benefits: dict[str, Benefit] | None = None, seed: int = 1):
    w = World(pathway=pw, horizon_weeks=horizon, groups={"T": tg}, labour_market=LabourMarket(),
              counterfactual=Counterfactual(mode=mode), benefits=benefits or default_benefits(),
              cohorts=[Cohort(name="k", start_week=0, size=n, groups={"T": 1.0})])
    t = simulate(w, seed)
    s = t.spells.to_pandas().sort_values(["arm", "person_id", "start"]).reset_index(drop=True)
    assert s.benefit_kind.isin(list(w.benefits)).all()  # every spell names a kind of the file
    return t, s


def jobs(s: pd.DataFrame) -> pd.DataFrame:
    return s[s.state == "employed"]


# -- AAP: graded by hours ----------------------------------------------------------------------

@pytest.mark.parametrize(("fte", "age", "expected"), [
    (0.5, 30, 2.041 * 0.5),             # half time: half the AAP, 1.0205 G
    (0.6, 30, 2.041 * 0.4),             # at the limit of 60 %: still paid, 0.8164 G
    (0.8, 30, 0.0),                     # above 60 %: none
    (0.5, 20, 2.041 * 0.6667 * 0.5),    # under 25: two thirds of the minimum, graded the same
])
def test_an_aap_person_in_a_job_draws_aap_graded_by_hours(fte, age, expected):
    # 30 weeks: too short to earn dagpenger (1.5 G in the last 52 weeks, folketrygdloven § 4-4)
    _, s = run(job_from(0, 30, fte), group("aap", age=age), 60)
    j = jobs(s)
    assert len(j) == 3 and (j.start == 0).all() and (j.end == 30).all()
    if expected:
        assert (j.benefit_kind == "aap").all()
        np.testing.assert_allclose(j.benefit_g, expected, rtol=1e-12)
    else:
        assert (j.benefit_kind == "none").all() and (j.benefit_g == 0).all()
    after = s[s.start >= 30]
    assert len(after) == 3 and (after.benefit_kind == "aap").all()  # out of work again: the whole AAP
    np.testing.assert_allclose(after.benefit_g, 2.041 * (0.6667 if age < 25 else 1.0), rtol=1e-12)


def test_a_stage_whose_funding_says_the_benefit_continues_pays_it_in_full():
    _, s = run(job_from(0, 52, 0.5, funding={"benefit": "continues"}), group("aap"), 60)
    np.testing.assert_allclose(jobs(s).benefit_g, AAP, rtol=1e-12)


# -- uføretrygd: reduced by income ------------------------------------------------------------

def ufore_by_hand(fte: float) -> float:
    """folketrygdloven § 12-14 with the file's numbers: 0.766 of the earnings above 0.4 G, none
    above 2.64 G."""
    earned = WAGE * fte / G
    if earned > 2.64:
        return 0.0
    return max(0.0, UFORE - 0.766 * max(0.0, earned - 0.4))


@pytest.mark.parametrize(("fte", "expected"), [
    (0.1, 2.529),            # 40 000 NOK = 0.307 G, under the inntektsgrense: the whole uføretrygd
    (0.5, 1.6583870928),     # 200 000 = 1.5366 G: 2.529 - 0.766 x 1.1366
    (0.85, 0.8344780578),    # 340 000 = 2.6122 G: 2.529 - 0.766 x 2.2122, just under 2.64 G
    (0.9, 0.0),              # 360 000 = 2.7658 G: above 80 % of inntekt før uførhet, none
])
def test_an_uforetrygd_person_keeps_what_the_income_rule_leaves(fte, expected):
    assert ufore_by_hand(fte) == pytest.approx(expected, abs=1e-9)
    _, s = run(job_from(0, 52, fte), group("uforetrygd"), 60)
    j = jobs(s)
    assert len(j) == 3
    if expected:
        assert (j.benefit_kind == "uforetrygd").all()
        np.testing.assert_allclose(j.benefit_g, ufore_by_hand(fte), rtol=1e-12)
    else:
        assert (j.benefit_kind == "none").all()


# -- sosialhjelp in a labour-market job, both arms alike ---------------------------------------

def test_sosialhjelp_tops_up_a_small_labour_market_job_in_both_arms_alike():
    # a job found in the labour market at the group's 30 % of full time: 120 000 NOK a year =
    # 0.92194 G, of which 0.9 counts: 1.2769 - 0.82975 = 0.44715 G of sosialhjelp beside it
    expected = SOSIALHJELP - 0.9 * WAGE * 0.3 / G
    assert expected == pytest.approx(0.4471520, abs=1e-7)
    out = {"out": {"kind": "exit", "outcome": "not_employed"}}
    _, s = run(pathway(out, "out"), group("sosialhjelp", bau=20.0, fte=0.3), 104, n=40, mode="parallel")
    for arm in ("treatment", "control"):
        j = jobs(s[s.arm == arm])
        assert len(j) >= 40 and (j.stage.isna()).all()
        assert (j.benefit_kind == "sosialhjelp").all()
        np.testing.assert_allclose(j.benefit_g, expected, rtol=1e-12)


# -- a limit inside a job: the next kind's rule ------------------------------------------------

def with_then(kind: str, then: dict[str, float]) -> dict[str, Benefit]:
    b = default_benefits()
    return {**b, kind: b[kind].model_copy(update={"then": then})}


def test_a_part_time_job_across_aaps_limit_is_cut_and_graded_by_uforetrygds_rule():
    # AAP ends 156 weeks after referral (folketrygdloven § 11-12); this person goes on to uføretrygd.
    # The job runs from week 100 to 200 at 40 %: AAP x 0.6 to week 156, then 2.529 G less 0.766 of
    # (160 000 / G - 0.4 G) to week 200, then the whole uføretrygd out of work (160 000 a year for
    # 100 weeks earns no dagpenger: less than 1.5 G in 52 weeks and 3 G in 156, § 4-4)
    _, s = run(job_from(100, 100, 0.4), group("aap"), 260, benefits=with_then("aap", {"uforetrygd": 1.0}))
    one = s[s.person_id == 0]
    rows = [(r.state, r.start, r.end, r.benefit_kind, round(r.benefit_g, 10)) for r in one.itertuples()]
    assert rows == [
        ("programme", 0.0, 100.0, "aap", 2.041),
        ("employed", 100.0, 156.0, "aap", round(2.041 * 0.6, 10)),
        ("employed", 156.0, 200.0, "uforetrygd", round(ufore_by_hand(0.4), 10)),
        ("not_employed", 200.0, 260.0, "uforetrygd", 2.529),
    ]
    # the job's columns are otherwise those of one job: one-off costs stay on the first piece
    j = jobs(one)
    assert ufore_by_hand(0.4) == pytest.approx(1.8937896742, abs=1e-9)
    assert (j.fte == 0.4).all() and (j.annual_wage == WAGE).all() and (j.stage == "job").all()


@pytest.mark.parametrize(("fte", "pieces"), [
    (1.0, [(100.0, 200.0, "none", 0.0)]),  # 400 000 NOK: no sosialhjelp either, the job stays whole
    (0.2, [(100.0, 104.0, "none", 0.0),    # kvalifiseringsstønad stops in a job, to its limit at 104
           (104.0, 200.0, "sosialhjelp", round(SOSIALHJELP - 0.9 * 80_000 / G, 10))]),  # 0.72373 G
])
def test_a_job_across_kvalifiseringsstonads_limit(fte, pieces):
    # sosialtjenesteloven § 30: KVP ends 104 weeks after referral; this person goes on to sosialhjelp
    _, s = run(job_from(100, 100, fte), group("kvalifiseringsstonad"), 220,
               benefits=with_then("kvalifiseringsstonad", {"sosialhjelp": 1.0}))
    j = jobs(s[s.person_id == 0])
    assert [(r.start, r.end, r.benefit_kind, round(r.benefit_g, 10)) for r in j.itertuples()] == pieces


# -- the ledger pays and taxes the graded amount -----------------------------------------------

def rate_260_450(x: float) -> float:
    """The 2024 average tax rate between the 260 000 (14 %) and 450 000 (22 %) points
    (contracts/data/fiscal.toml, derived from Skatteetaten's 2024 rules)."""
    return 0.14 + (0.22 - 0.14) * (x - 260_000) / (450_000 - 260_000)


def test_the_public_ledger_pays_and_taxes_the_graded_aap_by_hand():
    t, _ = run(job_from(0, 52, 0.5), group("aap"), 52, n=1)
    f = public_flows(t.persons.to_pandas(), t.spells.to_pandas(), G, 12)
    month = f[f.month == 3]  # weeks 13-17.33, inside the job

    def item(name: str, party: str | None = None) -> float:
        m = month[month.item == name]
        return float((m[m.party == party] if party else m).amount.sum())

    aap = 2.041 * 0.5 * G  # 132 828.28 NOK a year beside the job, paid by NAV (the state)
    assert item("benefits", "state") == pytest.approx(-aap / 12, rel=1e-12)
    # AAP is taxed as a wage, on the sum: 200 000 + 132 828.28 = 332 828.28 at 17.07 %
    income = WAGE * 0.5 + aap
    assert item("income_tax") == pytest.approx(income * rate_260_450(income) / 12, rel=1e-9)
    assert item("earnings", "participants") == pytest.approx(WAGE * 0.5 / 12, rel=1e-12)


# -- the rules refuse what they cannot mean ----------------------------------------------------

def test_a_rule_for_work_without_its_numbers_is_refused_naming_the_key():
    with pytest.raises(SpecError) as info:
        load_scenario(None, ['world.benefits.aap.with_work="income"'])
    text = str(info.value)
    assert "world.benefits.aap" in text
    assert "with_work = 'income' needs free_g, reduction_share, nok_per_g" in text
    assert "§ 12-14" in text
    with pytest.raises(SpecError, match="stop_above_fte: only with with_work = 'hours'"):
        load_scenario(None, ['world.benefits.sosialhjelp.stop_above_fte=0.5'])
    with pytest.raises(SpecError, match="with_work"):
        load_scenario(None, ['world.benefits.aap.with_work="sometimes"'])
    # turning a rule off is one key: the other numbers are then not used
    sc = load_scenario(None, ['world.benefits.uforetrygd.with_work="stops"'])
    assert sc.world.benefits["uforetrygd"].in_work(2.529, 0.1, WAGE) == 0.0


def test_every_built_in_benefit_says_what_it_does_in_a_job():
    rules = {k: b.with_work for k, b in default_benefits().items()}
    assert rules == {"aap": "hours", "introduksjonsstonad": "stops", "kvalifiseringsstonad": "stops",
                     "sosialhjelp": "income", "uforetrygd": "income", "none": "stops",
                     "dagpenger": "stops", "tiltakspenger": "stops"}


def test_a_part_time_aap_worker_who_loses_the_job_keeps_aap_not_smaller_dagpenger():
    # 60 weeks at 0.5 fte of 400 000: 200 000 a year earned, above 1.5 G (195 240), so dagpenger
    # would be 0.624 x 200 000 / G = 0.959 G a year (folketrygdloven §§ 4-4, 4-11, 4-12); AAP's
    # 2.041 G is larger and the two are not paid together: the person goes on with AAP
    _, s = run(job_from(0, 60, 0.5), group("aap"), 100)
    after = s[s.start >= 60]
    assert len(after) == 3 and (after.benefit_kind == "aap").all()
    np.testing.assert_allclose(after.benefit_g, AAP, rtol=1e-12)
    # with no benefit before, the same job earns dagpenger
    _, s = run(job_from(0, 60, 0.5), group("none"), 100)
    after = s[s.start >= 60]
    assert (after.benefit_kind == "dagpenger").all()
    np.testing.assert_allclose(after.benefit_g, 0.624 * 200_000 / G, rtol=1e-9)
