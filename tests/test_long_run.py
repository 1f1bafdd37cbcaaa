"""The horizon question: the contract period and the long run side by side.

By hand: an effect that falls only after the contract's horizon (a person leaves sosialhjelp in
week 200 of a 156-week contract) is 0 in every contract-period KPI and, in the long run, the
sosialhjelp the kommune no longer pays, discounted month by month at 4 % real: a geometric series
computed here, not by the model. The contract period is the same with and without a long run;
the two windows' warning where their signs differ comes in both languages; and a long run the
scenario cannot mean is refused with a message naming the key.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from effekt.contracts import (
    Valuation,
    clip_records,
    declared_kpi,
    evaluate,
    kpis_for,
    load_terms,
)
from effekt.contracts.records import person, persons_table, spell, spells_table
from effekt.experiments.batch import run_batch
from effekt.experiments.report import ReportData, gather, render_html
from effekt.experiments.runner import run_replication
from effekt.experiments.scenario import load_scenario
from effekt.experiments.summary import headline, horizon_lines, horizon_table, load_runs
from effekt.sim import replication_seed, simulate
from effekt.specfile import SpecError

G = 130_160.0  # source: NAV, grunnbeløp from 1 May 2025
TERMS = load_terms("kongsberg_outcomes")
H, LONG = 156.0, 520.0  # a three-year contract period, a ten-year long run (weeks)
SOSIALHJELP = 0.8  # G a year, by hand (the kommune pays it; not taxable: sosialtjenesteloven § 18)


def late_effect() -> tuple[pd.DataFrame, pd.DataFrame]:
    """One person on sosialhjelp in both arms; with the programme it stops in week 200, after the
    contract's horizon (and no job, so no tax and no outcome)."""
    persons = persons_table([person(0, benefit_kind="sosialhjelp", benefit_g=SOSIALHJELP),
                             person(0, "control", benefit_kind="sosialhjelp", benefit_g=SOSIALHJELP)])
    spells = spells_table([
        spell(0, "not_employed", 0, 200, benefit_kind="sosialhjelp", benefit_g=SOSIALHJELP),
        spell(0, "not_employed", 200, LONG, benefit_kind="none", benefit_g=0.0),
        spell(0, "not_employed", 0, LONG, "control", benefit_kind="sosialhjelp", benefit_g=SOSIALHJELP)])
    return persons, spells


def saved_by_hand() -> float:
    """Sosialhjelp saved from week 200 to week 520 (month 120, exactly), discounted to month 0 by
    (1.04) ** (month / 12): month 46 (weeks 199.33-203.67) holds 47 - 200 / (52/12) of a month's
    amount, months 47-119 a full one, a geometric series in v = 1.04 ** (-1/12)."""
    monthly = SOSIALHJELP * G / 12
    v = 1.04 ** (-1 / 12)
    first = 47 - 200 / (52 / 12)
    full = v ** 47 * (1 - v ** (120 - 47)) / (1 - v)
    return monthly * (first * v ** 46 + full)


def test_an_effect_after_the_contract_shows_in_the_long_run_only():
    persons, spells = late_effect()
    ev = evaluate(TERMS, persons, spells, H, Valuation(G=G), long_run_weeks=LONG)
    k = ev.kpis
    for party in ("kommune", "state", "fylke", "other_kommuner", "total"):
        assert k[f"fiscal_npv_{party}"] == 0.0  # the contract period saw nothing
    expected = saved_by_hand()
    assert expected == pytest.approx(490_405.81, abs=0.01)
    assert k["fiscal_npv_long_run_kommune"] == pytest.approx(expected, rel=1e-12)
    assert k["fiscal_npv_long_run_total"] == pytest.approx(expected, rel=1e-12)
    assert k["fiscal_npv_long_run_state"] == 0.0
    # the budgets cover the long run: the kommune gains from year 3 (months 36-47) on, and the
    # discounted sums of its years are the long-run NPV
    b = ev.budgets[(ev.budgets["arm"] == "difference") & (ev.budgets["party"] == "kommune")]
    assert b["year"].min() == 3 and b["year"].max() == 9
    assert b["amount_discounted"].sum() == pytest.approx(expected, abs=1.0)
    assert ev.long_run_weeks == LONG


def test_without_a_long_run_the_same_tables_are_read_as_today():
    persons, spells = late_effect()
    cut_p, cut_s, _ = clip_records(persons, spells, None, H)
    plain = evaluate(TERMS, cut_p, cut_s, H, Valuation(G=G))
    long = evaluate(TERMS, persons, spells, H, Valuation(G=G), long_run_weeks=LONG)
    assert "fiscal_npv_long_run_total" not in plain.kpis
    same = {n: v for n, v in long.kpis.items()  # the long run's own KPIs left out
            if not n.startswith(("fiscal_npv_long_run_", "additional_work_years_long_run"))}
    assert list(same) == list(plain.kpis)
    np.testing.assert_array_equal(np.array(list(same.values())), np.array(list(plain.kpis.values())))
    pd.testing.assert_frame_equal(long.fiscal, plain.fiscal)
    pd.testing.assert_frame_equal(long.cashflows, plain.cashflows)


def test_clip_records_is_what_a_simulation_ending_at_the_horizon_records():
    persons, spells = late_effect()
    p, s, _ = clip_records(persons, spells, None, H)
    assert s["start"].tolist() == [0.0, 0.0]  # the spell from week 200 is after the horizon
    assert s["end"].tolist() == [H, H]
    late = persons_table([person(0), person(1, entry_week=H)])  # referred at the horizon: not seen
    assert clip_records(late, spells_table([spell(0, "not_employed", 0, 300),
                                            spell(1, "not_employed", H, 300)]), None, H)[0][
        "person_id"].tolist() == [0]
    with pytest.raises(ValueError, match="long_run_weeks"):
        evaluate(TERMS, persons, spells, H, Valuation(G=G), long_run_weeks=100.0)


def _one_person(assignments: list[str]):
    return load_scenario(None, ["world.cohorts[0].size=1", *assignments])


def test_one_persons_simulation_is_the_same_inside_the_contract_period():
    """Each arm's draws of one person are a prefix of the longer simulation's: the records and
    every contract-period KPI are identical with a long run."""
    short, long = _one_person([]), _one_person(["world.long_run_years=20"])
    assert long.simulated_world.horizon_weeks == 20 * 52 and long.world.horizon_weeks == 156
    for r in range(5):
        a = simulate(short.world, replication_seed(short.design.seed, r))
        b = simulate(long.simulated_world, replication_seed(long.design.seed, r))
        p, s, e = clip_records(b.persons, b.spells, b.events, short.world.horizon_weeks)
        assert s.equals(a.spells) and e.equals(a.events) and p.equals(a.persons)
        plain = run_replication(short, r)["runs"].iloc[0]
        both = run_replication(long, r)["runs"].iloc[0]
        pd.testing.assert_series_equal(both[plain.index], plain)
        assert np.isfinite(both["fiscal_npv_long_run_total"])


def test_the_contract_period_is_the_same_with_a_long_run_for_a_whole_kull():
    """Everything drawn at or after the contract's horizon comes from the long_run stream
    (effekt.sim.streams), so the streams everyone shares see the draws of the short simulation."""
    short, long = load_scenario(None), load_scenario(None, ["world.long_run_years=20"])
    plain = run_replication(short, 0)["runs"].iloc[0]
    both = run_replication(long, 0)["runs"].iloc[0]
    pd.testing.assert_series_equal(both[plain.index], plain, check_exact=True)


def _same_contract_period(short_world, long_world, seeds=range(3)) -> None:
    assert long_world.contract_horizon_weeks == short_world.horizon_weeks < long_world.horizon_weeks
    for r in seeds:
        a = simulate(short_world, replication_seed(7, r))
        b = simulate(long_world, replication_seed(7, r))
        p, s, e = clip_records(b.persons, b.spells, b.events, short_world.horizon_weeks)
        assert p.equals(a.persons) and s.equals(a.spells) and e.equals(a.events)
        assert b.spells.num_rows > s.num_rows  # the long run did record more


FIRST_STAGE_QUEUE = [  # two kull starting in the (one-slot) placement, the later ids first
    "pathway.capacity.placements.slots=1",
    'world.cohorts=[{name="k1", start_week=10, size=20, groups={A=0.5, D=0.5}, stage="work_training"},'
    ' {name="k2", start_week=0, size=20, groups={B=1.0}, stage="work_training"}]',
]


@pytest.mark.parametrize("assignments", [
    [f"pathway.template={name}"] for name in ("kongsberg_kull", "fjell_project_jobs", "gloppen",
                                              "lyngdal_en_av_mange", "baerum_pilot", "enkla_jobb")
] + [
    ['world.counterfactual.mode="rct"', "world.cohorts[0].size=60"],
    ['world.cohorts[0].arrival="poisson"', "world.cohorts[0].rate_per_week=0.1",
     "world.cohorts[0].size=40"],  # referrals go on past the contract's horizon
    FIRST_STAGE_QUEUE,  # people still queueing at the contract's horizon
], ids=lambda a: a[0].split("=")[-1].strip('"')[:24])
def test_the_records_of_the_contract_period_are_the_same_with_a_long_run(assignments):
    """Row for row, not just the KPIs: referrals and randomisation after the contract's horizon,
    and people still waiting for capacity at it, change nothing before it."""
    short, long = load_scenario(None, assignments), load_scenario(None, ["world.long_run_years=15",
                                                                         *assignments])
    _same_contract_period(short.world, long.simulated_world)


def test_a_matched_comparison_group_is_the_same_in_the_contract_period_with_a_long_run():
    """The scenario refuses the two together (the evaluation of a long run's matched comparison is
    not built: someone referred before the contract's horizon who becomes a participant after it
    has a comparison person in the long run only), but for a kull the simulation keeps the
    comparison people's draws after the horizon apart too."""
    sc = load_scenario(None, ['evaluation.design="matched"', "world.cohorts[0].size=40"])
    assert sc.world.counterfactual.comparison == "matched"
    long = sc.world.model_copy(update={"horizon_weeks": 520.0, "contract_horizon_weeks": 156.0})
    _same_contract_period(sc.world, long)


def test_a_contract_horizon_after_the_horizon_is_refused():
    w = load_scenario(None).world
    with pytest.raises(ValueError, match="contract_horizon_weeks: 200 is after the horizon"):
        type(w)(**{**dict(w), "contract_horizon_weeks": 200.0})


def test_the_runner_stores_the_long_run_and_its_budgets():
    sc = load_scenario(None, ["world.long_run_years=10"])
    out = run_replication(sc, 3)
    runs, budgets = out["runs"].iloc[0], out["budgets"]
    assert budgets["year"].max() == 9
    diff = budgets[(budgets["arm"] == "difference") & budgets["public"]]
    assert diff["amount_discounted"].sum() == pytest.approx(runs["fiscal_npv_long_run_total"], abs=1.0)
    for party in ("kommune", "state"):
        mine = diff[diff["party"] == party]["amount_discounted"].sum()
        assert mine == pytest.approx(runs[f"fiscal_npv_long_run_{party}"], abs=1.0)


# -- the KPIs are declared -------------------------------------------------------------------

def test_the_long_run_kpis_are_declared_with_labels_in_both_languages():
    plain, long = kpis_for(TERMS), kpis_for(TERMS, long_run=True)
    assert long.names[:len(plain)] == plain.names  # added at the end: the columns stay
    k = long["fiscal_npv_long_run_kommune"]
    assert (k.measure, k.party, k.party_kind, k.arm, k.unit) == (
        "fiscal_npv_long_run", "kommune", "public", "difference", "NOK (NPV)")
    assert "lang sikt" in k.label("nb") and "long run" in k.label("en")
    assert long["fiscal_npv_long_run_total"].party is None
    # a column read without its metadata is declared the same, not taken for a commissioner's
    found = declared_kpi("fiscal_npv_long_run_state")
    assert found is not None and (found.measure, found.party) == ("fiscal_npv_long_run", "state")
    assert declared_kpi("fiscal_npv_long_run_total").measure == "fiscal_npv_long_run"


# -- the two windows side by side, and the warning -------------------------------------------

def _runs(**means: float) -> pd.DataFrame:
    return pd.DataFrame({name: [x - 10.0, x + 10.0] for name, x in means.items()}).assign(point=0)


def test_the_warning_names_the_parties_whose_signs_differ_in_both_languages():
    runs = _runs(fiscal_npv_kommune=-280_000, fiscal_npv_long_run_kommune=3_800_000,
                 fiscal_npv_state=50_000, fiscal_npv_long_run_state=-20_000,
                 fiscal_npv_fylke=1_000, fiscal_npv_long_run_fylke=9_000,
                 fiscal_npv_total=-229_000, fiscal_npv_long_run_total=3_789_000)
    reg = kpis_for(TERMS, long_run=True)
    t = horizon_table(runs, reg)
    assert t.loc["kommune", "contract"] == -280_000 and t.loc["kommune", "long_run"] == 3_800_000
    assert t["signs_differ"].to_dict() == {"fylke": False, "kommune": True, "state": True, "total": True}
    en = horizon_lines(runs, reg, "en", (3.0, 20.0))
    # rounded to what the model can know: millions with one decimal, thin spaces between thousands
    assert en[0].startswith("Public budgets, NPV with the contract, over the contract period (3 years) "
                            "and in the long run (20 years): the fylke 1\u202f000 / 9\u202f000; the kommune "
                            "-280\u202f000 / 3.8\u00a0million")
    assert ("the kommune and the public budgets in all lose over the contract period but gain in the "
            "long run; the state gains over the contract period but loses in the long run") in en[1]
    assert en[1].startswith("Warning:")
    nb = horizon_lines(runs, reg, "nb", (3.0, 20.0))
    assert "i kontraktsperioden (3 år) og på lang sikt (20 år)" in nb[0]
    assert nb[1].startswith("Advarsel:")
    assert ("kommunen og offentlige budsjetter i alt taper i kontraktsperioden, men tjener på lang sikt; "
            "staten tjener i kontraktsperioden, men taper på lang sikt") in nb[1]
    assert headline(runs, registry=reg, lang="nb", windows=(3.0, 20.0))[-2:] == nb


def test_no_warning_when_the_signs_agree_and_no_lines_without_a_long_run():
    reg = kpis_for(TERMS, long_run=True)
    agree = _runs(fiscal_npv_total=-5_000, fiscal_npv_long_run_total=-90_000)
    assert len(horizon_lines(agree, reg, "en")) == 1
    assert horizon_lines(_runs(fiscal_npv_total=-5_000), kpis_for(TERMS), "en") == []


def test_the_report_shows_both_windows_and_warns_in_both_languages():
    runs = _runs(fiscal_npv_kommune=-280_000, fiscal_npv_long_run_kommune=3_800_000,
                 fiscal_npv_total=-229_000, fiscal_npv_long_run_total=3_789_000).assign(replication=[0, 1])
    data = ReportData(runs=runs, cashflows=pd.DataFrame(columns=["replication", "party", "month", "item",
                                                                  "amount"]),
                      scenario=None, kpis=kpis_for(TERMS, long_run=True))
    nb, en = render_html(data, "nb"), render_html(data, "en")
    assert "Offentlige budsjetter over to perioder" in nb and "Advarsel: svaret avhenger" in nb
    assert "Public budgets over two windows" in en and "Warning: the answer depends on the horizon" in en
    assert "the kommune and the public budgets in all lose over the contract period" in en


def test_a_long_run_batch_reports_both_windows(tmp_path):
    out = tmp_path / "res"
    run_batch(load_scenario(None, ["design.replications=4", "world.long_run_years=20"]), out,
              progress=False)
    runs = load_runs(out)
    assert runs["fiscal_npv_long_run_total"].notna().all()
    data = gather(out, ts_runs=4)
    assert not data.notes  # the report re-simulates the long world: no drift
    html = render_html(data, "en")
    assert "contract period (3 years)" in html and "long run (20 years)" in html


# -- validation -----------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["true", '"20"', "0", "-5", "101", "nan"])
def test_a_long_run_that_is_no_number_of_years_is_refused(value):
    with pytest.raises(SpecError) as info:
        load_scenario(None, [f"world.long_run_years={value}"])
    text = str(info.value)
    assert "world.long_run_years" in text
    assert "a number of years above 0 and at most 100" in text and "leave the key out" in text


def test_a_long_run_shorter_than_the_contract_is_refused():
    with pytest.raises(SpecError) as info:
        load_scenario(None, ["world.long_run_years=2"])
    text = str(info.value)
    assert "world.long_run_years = 2 (104 weeks) ends before the contract period" in text
    assert "world.horizon_weeks = 156" in text and "raise it to 3 or more" in text


def test_a_long_run_with_a_matched_comparison_is_refused():
    with pytest.raises(SpecError, match="evaluation.design = 'matched'"):
        load_scenario(None, ["world.long_run_years=20", 'evaluation.design="matched"'])


def test_without_the_option_the_scenario_and_its_hash_are_as_before():
    sc = load_scenario(None)
    assert sc.long_run_weeks is None and sc.simulated_world is sc.world
    assert "long_run_years" not in sc.resolved["world"]
    long = load_scenario(None, ["world.long_run_years=12.5"])
    assert long.long_run_weeks == 650.0 and long.resolved["world"]["long_run_years"] == 12.5
    assert long.hash != sc.hash
    assert math.isclose(load_scenario(None, ["world.long_run_years=3"]).long_run_weeks, 156.0)
