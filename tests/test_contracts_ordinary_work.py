"""Ordinary work and the education state, on hand-built record tables.

"The programme's own jobs" (``effekt.contracts.programme_jobs``) are employed spells in a pathway
stage that are project positions or wage-subsidised; everything else employed is ordinary work.
The KPIs ``in_ordinary_work_*`` leave the programme's own jobs out of "in work", the KPIs
``in_work_or_education_*`` count a spell in education as well, and the ``in_work_at`` outcome
has the same two options. Every expectation below is counted by hand from the table.
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pandas as pd
import pytest

from effekt.contracts import (
    evaluate,
    in_work_by_month,
    in_work_share,
    kpis_for,
    load_terms,
    programme_jobs,
    work_variant_of,
)
from effekt.contracts.outcomes import measure_one, on_benefit
from effekt.contracts.records import events_table, person, persons_table, spell, spells_table
from effekt.contracts.terms import BenefitDaysSaved, InWorkAt, Terms, templates_dir
from effekt.sim import Cohort, Counterfactual, World, load_pathway, replication_seed, simulate
from effekt.specfile import SpecError, validate

M12, M24 = 12 * 52 / 12, 24 * 52 / 12  # weeks: 52 and 104
H = 156.0  # horizon: three years, everyone entered at week 0


def _tables():
    """Six people with the programme, three without it (everyone enters at week 0).

    treatment 0: project position (stage, contract "project") to week 104, then an ordinary job
    treatment 1: simple job (stage, lønnstilskudd 80 %) to week 80, then out of work
    treatment 2: a labour-market job (no stage) from week 0
    treatment 3: a permanent post the unit created (stage, no subsidy): ordinary work
    treatment 4: ordinary education (stage, state "education") to week 120, then a job
    treatment 5: out of work throughout
    control 0: labour-market job; control 1: education to week 130; control 2: out of work
    """
    persons = persons_table([person(i) for i in range(6)]
                            + [person(i, "control") for i in range(3)])
    c = "control"
    spells = spells_table([
        spell(0, "employed", 0, 104, stage="project_position", contract="project"),
        spell(0, "employed", 104, H, contract="permanent"),
        spell(1, "employed", 0, 80, stage="simple_job", contract="temporary", subsidy_share=0.8,
              subsidy_payer="nav"),
        spell(1, "not_employed", 80, H),
        spell(2, "employed", 0, H, contract="temporary", subsidy_share=0.0),
        spell(3, "employed", 0, H, stage="kept_by_unit", contract="permanent", subsidy_share=0.0),
        spell(4, "education", 0, 120, stage="upper_secondary"),
        spell(4, "employed", 120, H, contract="temporary"),
        spell(5, "not_employed", 0, H),
        spell(0, "employed", 0, H, c, contract="temporary"),
        spell(1, "education", 0, 130, c, stage="upper_secondary"),
        spell(1, "not_employed", 130, H, c),
        spell(2, "not_employed", 0, H, c),
    ])
    return persons, spells


def test_the_programmes_own_jobs_are_project_or_subsidised_jobs_in_a_stage():
    state = np.array(["employed"] * 5 + ["programme", "education"], dtype=object)
    stage = np.array(["project_position", "simple_job", "kept_by_unit", None, None, "course",
                      "school"], dtype=object)
    contract = np.array(["project", "temporary", "permanent", "project", "temporary", None, None],
                        dtype=object)
    subsidy = np.array([0.0, 0.8, 0.0, 0.0, 0.5, 0.0, 0.0])
    # project position and subsidised simple job: own; a post paid from the ordinary budget, and
    # labour-market jobs (no stage, whatever their contract or subsidy) are ordinary; not employed
    # spells are no job at all
    assert programme_jobs(state, stage, contract, subsidy).tolist() == [
        True, True, False, False, False, False, False]


def test_kpis_count_ordinary_work_and_work_or_education_beside_in_work():
    persons, spells = _tables()
    k = evaluate(load_terms("kongsberg_outcomes"), persons, spells, H, events=events_table([])).kpis
    # at week 52: in work treatment 0, 1, 2, 3; of them ordinary 2 and 3; treatment 4 in education
    assert k["in_work_12m_treatment"] == pytest.approx(4 / 6)
    assert k["in_ordinary_work_12m_treatment"] == pytest.approx(2 / 6)
    assert k["in_work_or_education_12m_treatment"] == pytest.approx(5 / 6)
    # at week 104: treatment 0's ordinary job starts (counts), the simple job ended at 80,
    # treatment 4 is still in education: in work 0, 2, 3, all ordinary
    assert k["in_work_24m_treatment"] == pytest.approx(3 / 6)
    assert k["in_ordinary_work_24m_treatment"] == pytest.approx(3 / 6)
    assert k["in_work_or_education_24m_treatment"] == pytest.approx(4 / 6)
    # control: one labour-market job, one in education at both points
    for m in (12, 24):
        assert k[f"in_work_{m}m_control"] == pytest.approx(1 / 3)
        assert k[f"in_ordinary_work_{m}m_control"] == pytest.approx(1 / 3)
        assert k[f"in_work_or_education_{m}m_control"] == pytest.approx(2 / 3)


def test_in_work_share_and_by_month_take_the_same_options():
    persons, spells = _tables()
    assert in_work_share(persons, spells, M12, H, ordinary_only=True) == pytest.approx(
        {"treatment": 2 / 6, "control": 1 / 3})
    assert in_work_share(persons, spells, M12, H, or_education=True) == pytest.approx(
        {"treatment": 5 / 6, "control": 2 / 3})
    # both: ordinary work or education (2, 3 and 4 at week 52)
    both = in_work_share(persons, spells, M12, H, ordinary_only=True, or_education=True)
    assert both["treatment"] == pytest.approx(3 / 6)
    by = in_work_by_month(persons, spells, H, ordinary_only=True).set_index(["arm", "month"])["share"]
    assert by[("treatment", 12)] == pytest.approx(2 / 6) and by[("treatment", 24)] == pytest.approx(3 / 6)
    # month 20 (week 86.7): the simple job ended at week 80, the project position still runs
    assert by[("treatment", 20)] == pytest.approx(2 / 6)
    plain = in_work_by_month(persons, spells, H).set_index(["arm", "month"])["share"]
    assert plain[("treatment", 20)] == pytest.approx(3 / 6)
    assert list(in_work_by_month(persons, spells, H).columns) == ["arm", "month", "share", "n"]


def _at(**options) -> InWorkAt:
    return InWorkAt(metric="in_work_at", weeks_after_entry=52, **options)


def _who(o: InWorkAt) -> list[int]:
    persons, spells = _tables()
    got = measure_one(o, persons, spells)
    return sorted(got.loc[got["arm"] == "treatment", "person_id"].tolist())


def test_in_work_at_ordinary_only_leaves_out_project_and_subsidised_jobs():
    assert _who(_at()) == [0, 1, 2, 3]
    assert _who(_at(ordinary_only=True)) == [2, 3]  # a labour-market job and an ordinary post count
    assert _who(_at(or_education=True)) == [0, 1, 2, 3, 4]
    assert _who(_at(ordinary_only=True, or_education=True)) == [2, 3, 4]
    # exclude_stages applies to education spells too; min_fte only to jobs (education has fte 0)
    assert _who(_at(or_education=True, exclude_stages=["upper_*"])) == [0, 1, 2, 3]
    assert _who(_at(or_education=True, min_fte=0.5)) == [0, 1, 2, 3, 4]
    # the older way of excluding project positions by contract still leaves the simple job in
    assert _who(_at(exclude_contracts=["project"])) == [1, 2, 3]


def _terms_with(**options) -> dict:
    data = tomllib.loads((templates_dir() / "kongsberg_outcomes.toml").read_text())
    data["outcomes"]["job_start"] = {"metric": "in_work_at", "weeks_after_entry": 52, **options}
    return data


def test_in_work_at_options_load_and_are_validated_strictly():
    terms = validate(Terms, _terms_with(ordinary_only=True, or_education=False), "c.toml")
    assert terms.outcomes["job_start"].ordinary_only is True
    assert terms.outcomes["job_start"].or_education is False
    assert validate(Terms, _terms_with(), "c.toml").outcomes["job_start"].ordinary_only is False
    for key, bad in (("ordinary_only", "true"), ("ordinary_only", 1), ("or_education", "yes"),
                     ("or_education", 0)):
        with pytest.raises(SpecError) as err:
            validate(Terms, _terms_with(**{key: bad}), "c.toml")
        msg = str(err.value)
        assert "c.toml" in msg and f"outcomes.job_start.{key}" in msg
        assert "must be true or false" in msg and repr(bad) in msg
    with pytest.raises(SpecError, match="ordinary_jobs"):  # a typo is no silent default
        validate(Terms, _terms_with(ordinary_jobs=True), "c.toml")


def test_a_paid_ordinary_in_work_outcome_pays_only_for_ordinary_work():
    persons, spells = _tables()
    terms = validate(Terms, _terms_with(ordinary_only=True), "c.toml")
    k = evaluate(terms, persons, spells, H, events=events_table([])).kpis
    assert k["outcomes_job_start"] == 2 and k["outcomes_job_start_control"] == 1


def test_education_is_on_the_prior_benefit():
    _, spells = _tables()
    # with benefit columns: the helper gave the education spells 2 G of AAP
    edu = (spells["state"] == "education").to_numpy()
    assert on_benefit(spells)[edu].all()
    # without them, the state decides: education counts as on benefit, as out of work does
    bare = spells.drop(columns=["benefit_kind", "benefit_g"])
    assert on_benefit(bare).tolist() == [s in ("not_employed", "education") for s in bare["state"]]
    # so a year of education saves no benefit days: treatment 4 is in education weeks 0-52
    persons, _ = _tables()
    saved = measure_one(BenefitDaysSaved(metric="benefit_days_saved", expected_weeks=52), persons, bare)
    mine = saved.set_index(["arm", "person_id"])["quantity"]
    assert ("treatment", 4) not in mine.index and ("treatment", 5) not in mine.index
    assert mine[("treatment", 2)] == pytest.approx(7 * 52)


def test_the_variants_are_declared_beside_in_work():
    r = kpis_for(load_terms("kongsberg_outcomes"))
    for measure in ("in_ordinary_work", "in_work_or_education"):
        for m in (12, 24):
            tr, ct = r[f"{measure}_{m}m_treatment"], r[f"{measure}_{m}m_control"]
            assert (tr.kind, tr.unit, tr.arm, tr.higher_is_better) == ("share", "share", "treatment", True)
            assert (ct.kind, ct.arm, ct.measure) == ("share", "control", f"{measure}_{m}m")
            assert work_variant_of(tr.measure) == f"in_work_{m}m"
            assert str(m) in tr.label("nb") and str(m) in tr.label("en")
    assert r["in_ordinary_work_12m_treatment"].label("nb").startswith("I ordinært arbeid")
    assert r["in_work_or_education_24m_control"].label("en").startswith("In work or education")
    assert work_variant_of("in_work_12m") is None and work_variant_of("irr") is None
    # no arm measurable: NaN, as in work
    persons, spells = _tables()
    k = evaluate(load_terms("kongsberg_outcomes"), persons, spells, 40.0, events=events_table([])).kpis
    assert math.isnan(k["in_ordinary_work_12m_treatment"]) and math.isnan(k["in_work_12m_treatment"])


def test_fjell_project_positions_are_in_work_but_not_ordinary_work():
    """Simulated: Fjell's ten refugees hold two-year project positions at 12 months, so in work
    is above ordinary work with the programme, by exactly the share in a project position then
    (counted here from the spells); the control arm has no project jobs, so its two measures
    agree, and without education spells in work or education is in work."""
    world = World(pathway=load_pathway("fjell_project_jobs"),
                  cohorts=[Cohort(name="2017", start_week=0, size=10, groups={"R": 1.0})],
                  horizon_weeks=160, counterfactual=Counterfactual(mode="parallel"))
    terms = load_terms("fjell_project_jobs_outcomes")
    gaps = []
    for rep in range(6):
        t = simulate(world, replication_seed(5, rep))
        sp = t.spells.to_pandas()
        entry = t.persons.to_pandas().set_index(["arm", "person_id"])["entry_week"]
        at = entry.reindex(pd.MultiIndex.from_frame(sp[["arm", "person_id"]])).to_numpy() + M12
        covers = (sp["start"] <= at) & (at < sp["end"])
        held = sp[(sp["contract"] == "project") & sp["stage"].notna() & covers]
        assert set(held["arm"]) <= {"treatment"}
        k = evaluate(terms, t.persons, t.spells, world.horizon_weeks, events=t.events).kpis
        gap = k["in_work_12m_treatment"] - k["in_ordinary_work_12m_treatment"]
        assert gap == pytest.approx(held["person_id"].nunique() / 10)
        assert k["in_ordinary_work_12m_control"] == k["in_work_12m_control"]
        assert k["in_ordinary_work_24m_treatment"] <= k["in_work_24m_treatment"]
        if not (sp["state"] == "education").any():
            assert k["in_work_or_education_12m_treatment"] == k["in_work_12m_treatment"]
        gaps.append(gap)
    # most of the kull is in a project position a year after entry (10 % find no unit)
    assert min(gaps) > 0 and np.mean(gaps) >= 0.6


# -- the experiments layer shows ordinary work beside in work, where it differs -------------------

def _runs(ordinary_gap: float) -> pd.DataFrame:
    """Three replications' KPIs: in ordinary work ``ordinary_gap`` below in work with the
    programme (0: the same), in work or education always equal to in work."""
    tr, ct = np.array([0.6, 0.7, 0.8]), np.array([0.3, 0.4, 0.5])
    cols = {"replication": [0, 1, 2]}
    for m in (12, 24):
        cols |= {f"in_work_{m}m_treatment": tr, f"in_work_{m}m_control": ct,
                 f"in_ordinary_work_{m}m_treatment": tr - ordinary_gap,
                 f"in_ordinary_work_{m}m_control": ct,
                 f"in_work_or_education_{m}m_treatment": tr, f"in_work_or_education_{m}m_control": ct}
    return pd.DataFrame(cols)


def test_summary_headline_shows_ordinary_work_only_where_it_differs():
    from effekt.contracts import common_kpis
    from effekt.experiments.summary import headline, work_share_kpis

    reg = common_kpis()
    lines = headline(_runs(0.5), registry=reg)
    work = [ln for ln in lines if "months after start" in ln]
    # in work 12 m, then ordinary work 12 m beside it; then 24 m; education equal: left out
    assert [ln.split(":")[0] for ln in work] == [
        "In work 12 months after start, programme", "In ordinary work 12 months after start, programme",
        "In work 24 months after start, programme", "In ordinary work 24 months after start, programme"]
    assert work[1].startswith("In ordinary work 12 months after start, programme: 20\u00a0%")  # 0.7 - 0.5
    same = headline(_runs(0.0), registry=reg)
    assert not any("ordinary" in ln or "education" in ln for ln in same)
    assert [k.name for k in work_share_kpis(reg, _runs(0.0))] == ["in_work_12m_treatment",
                                                                 "in_work_24m_treatment"]


def test_compare_adds_ordinary_work_rows_where_a_scenario_differs():
    from effekt.experiments.analysis.compare import compare_runs

    t = compare_runs({"a": _runs(0.0), "b": _runs(0.1)})
    kpis = list(dict.fromkeys(t["kpi"]))
    assert kpis[:6] == ["in_work_12m_treatment", "in_ordinary_work_12m_treatment", "in_work_12m_control",
                        "in_ordinary_work_12m_control", "in_work_24m_treatment",
                        "in_ordinary_work_24m_treatment"]
    assert not any("education" in k for k in kpis)
    row = t.set_index(["scenario", "kpi"]).loc[("b", "in_ordinary_work_12m_treatment")]
    assert row["mean"] == pytest.approx(0.6) and row["diff"] == pytest.approx(-0.1)
    same = compare_runs({"a": _runs(0.0), "b": _runs(0.0)})
    assert not same["kpi"].str.contains("ordinary").any()
    assert list(t.columns) == list(same.columns)  # the table's columns stay


@pytest.mark.parametrize(("lang", "words"), [("en", "In ordinary work 12 months after start"),
                                             ("nb", "I ordinært arbeid 12 måneder etter oppstart")])
def test_report_key_numbers_show_ordinary_work_in_both_languages(lang, words):
    from effekt.contracts import common_kpis
    from effekt.experiments.report import ReportData, _summary_lines

    data = ReportData(runs=_runs(0.5), cashflows=pd.DataFrame(), scenario=None, kpis=common_kpis())
    _, key, _ = _summary_lines(data, lang)
    assert sum(k.startswith(words) for k in key) == 1
    # 20 % with the programme, 40 % without: 20 points below
    line = next(k for k in key if k.startswith(words))
    assert "20\u00a0%" in line and "40\u00a0%" in line and "\u221220" in line
    plain = ReportData(runs=_runs(0.0), cashflows=pd.DataFrame(), scenario=None, kpis=common_kpis())
    assert len(_summary_lines(plain, lang)[1]) == 2  # in work 12 and 24 months only


def test_report_of_fjell_draws_and_states_ordinary_work(tmp_path):
    """End to end: a small Fjell batch; the report's key numbers have the ordinary-work line in
    both languages, and its in-work figure the dashed ordinary series, with its note."""
    from effekt.experiments.batch import run_batch
    from effekt.experiments.report import gather, render_html
    from effekt.experiments.scenario import load_scenario
    from effekt.experiments.summary import headline, load_runs

    sc = load_scenario(None, ["pathway.template=fjell_project_jobs",
                              "contract.template=fjell_project_jobs_outcomes", "world.horizon_weeks=182",
                              'world.cohorts=[{name="kull", start_week=0, size=10, groups={R=1.0}}]',
                              "design.replications=4"])
    out = tmp_path / "fjell"
    run_batch(sc, out, progress=False)
    runs = load_runs(out)
    assert (runs["in_ordinary_work_12m_treatment"] < runs["in_work_12m_treatment"]).all()
    assert any(ln.startswith("In ordinary work 12 months") for ln in headline(runs))
    data = gather(out, ts_runs=4)
    assert data.in_ordinary_work is not None
    at12 = data.in_ordinary_work[(data.in_ordinary_work["month"] == 12)
                                 & (data.in_ordinary_work["arm"] == "treatment")]
    stored = runs.set_index("replication")["in_ordinary_work_12m_treatment"]
    assert at12.set_index("replication")["share"].to_numpy() == pytest.approx(
        stored.reindex(at12["replication"]).to_numpy())
    nb, en = render_html(data, "nb"), render_html(data, "en")
    assert "I ordinært arbeid 12 måneder etter oppstart" in nb and "Stiplet: i ordinært arbeid" in nb
    assert "In ordinary work 12 months after start" in en and "Dashed: in ordinary work" in en
