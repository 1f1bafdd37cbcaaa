"""The KPI registry: every KPI declared once (name, unit, kind, arm, party, labels), names that
cannot collide, evaluations filled by declaration, and the valuation object."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest

from effekt.contracts import (
    Kpi,
    KpiRegistry,
    Valuation,
    common_kpis,
    declared_kpi,
    evaluate,
    is_indicator_kpi,
    kpi_names,
    kpis_for,
    load_terms,
)
from effekt.contracts.fiscal import benefit_payers, fiscal_path, gains_by_component, savings_gain
from effekt.contracts.records import events_table, person, persons_table, spell, spells_table
from effekt.contracts.terms import Terms, terms_data
from effekt.specfile import SpecError, validate


def _kongsberg(**changes) -> dict:
    data, _ = terms_data("kongsberg_outcomes")
    data = {**data, **changes}
    return data


def test_registry_of_a_template_declares_names_kinds_units_arms_and_parties():
    r = kpis_for(load_terms("kongsberg_outcomes"))
    assert isinstance(r, KpiRegistry) and r.names == kpi_names(load_terms("kongsberg_outcomes"))
    # the first KPIs in the order evaluations return them (the runs table's columns)
    assert r.names[:10] == ["participants", "controls", "in_work_12m_treatment", "in_work_12m_control",
                            "in_work_24m_treatment", "in_work_24m_control", "outcomes_job_start",
                            "outcomes_job_start_control", "outcomes_job_sustained",
                            "outcomes_job_sustained_control"]
    expect = {  # name: (kind, unit, arm, party, party_kind, higher_is_better)
        "participants": ("count", "persons", "treatment", None, None, None),
        "controls": ("count", "persons", "control", None, None, None),
        "in_work_12m_treatment": ("share", "share", "treatment", None, None, True),
        "in_work_24m_control": ("share", "share", "control", None, None, None),
        "outcomes_job_start": ("count", "persons", "treatment", None, None, True),
        "outcomes_job_sustained_control": ("count", "persons", "control", None, None, None),
        "outcome_payments": ("money", "NOK", None, None, None, None),
        "cap_binding": ("indicator", "0/1", None, None, None, None),
        "investor_irr": ("rate", "1/year", None, "investor", "investor", True),
        "investor_multiple": ("ratio", "ratio", None, "investor", "investor", True),
        "investor_npv": ("money", "NOK (NPV)", None, "investor", "investor", True),
        "investor_loss": ("indicator", "0/1", None, "investor", "investor", False),
        "commissioner_paid_kommune": ("money", "NOK", None, "kommune", "commissioner", None),
        "fiscal_npv_state": ("money", "NOK (NPV)", "difference", "state", "public", True),
        "fiscal_npv_total": ("money", "NOK (NPV)", "difference", None, "public", True),
        "benefits_saved_g": ("money", "G", "difference", None, None, True),
        "control_missing": ("indicator", "0/1", None, None, None, False),
    }
    for name, (kind, unit, arm, party, party_kind, hib) in expect.items():
        k = r[name]
        assert (k.kind, k.unit, k.arm, k.party, k.party_kind, k.higher_is_better) == (
            kind, unit, arm, party, party_kind, hib), name
    assert r["outcomes_job_start"].outcome == "job_start"
    assert r["in_work_12m_treatment"].measure == r["in_work_12m_control"].measure == "in_work_12m"
    assert r.indicators == ["cap_binding", "investor_loss", "control_missing"]  # no commitment here
    # every KPI has labels in both languages
    for k in r.values():
        assert k.label("nb") and k.label("en") and k.label("nb") != k.name, k.name
    assert r["fiscal_npv_kommune"].label("nb") == "Budsjettet til kommunen, nåverdi mot kontrafaktisk (NOK)"
    assert r["fiscal_npv_kommune"].label("en") == "Kommune budget, NPV vs counterfactual (NOK)"
    # looked up by what it measures, not by parsing its name
    assert r.at("fiscal_npv", arm="difference", party=None).name == "fiscal_npv_total"
    parties = [k.party for k in r.select(measure="fiscal_npv")]
    assert parties == ["fylke", "kommune", "other_kommuner", "state", None]
    assert r.at("outcomes", arm="control", outcome="job_start").name == "outcomes_job_start_control"


def test_tranches_and_commitment_add_declared_kpis():
    t = load_terms("sticking_together")
    r = kpis_for(t)
    assert [k.party for k in r.select(measure="loss")] == ["investor", "investor.senior", "investor.junior"]
    assert r["investor_senior_loss"].is_indicator and r["investor_senior_loss"].party_kind == "tranche"
    assert not r["investor_senior_loss_amount"].is_indicator
    assert r["investor_junior_irr"].label("en") == "Tranche 'junior' IRR (per year)"
    # without the contract, the naming rule of kpis_for gives the same declaration
    assert is_indicator_kpi("investor_junior_loss", r) and is_indicator_kpi("investor_junior_loss")
    assert declared_kpi("investor_junior_loss") == r["investor_junior_loss"]
    assert declared_kpi("investor_junior_irr") == r["investor_junior_irr"]
    assert declared_kpi("not_a_kpi") is None and not is_indicator_kpi("not_a_kpi")
    committed = Terms.model_validate({**t.model_dump(by_alias=True),
                                      "investors": {**t.investors.model_dump(), "commitment": 1e6}})
    assert "investor_commitment_exceeded" in kpis_for(committed)
    assert "investor_commitment_exceeded" not in r


def test_outcomes_job_and_job_control_are_refused_naming_both_keys():
    # the bug: outcomes 'job' and 'job_control' gave 3 outcome KPIs instead of 4, because the
    # control arm of 'job' and the treatment arm of 'job_control' were both 'outcomes_job_control'
    data = _kongsberg(
        outcomes={"job": {"metric": "job_start", "window_weeks": 104},
                  "job_control": {"metric": "job_start", "window_weeks": 52}},
        prices={"job": 45000, "job_control": 10000})
    with pytest.raises(SpecError) as err:
        validate(Terms, data, "my_contract.toml")
    text = str(err.value)
    assert text.startswith("my_contract.toml: invalid")
    assert "outcomes.job: " in text and "which outcomes.job_control of the same contract reports too" in text
    assert "'outcomes_job_control'" in text
    assert "control arm of outcome 'job'" in text and "treatment arm of outcome 'job_control'" in text


def test_a_commissioner_named_total_is_refused_naming_the_key(tmp_path):
    # the bug: a commissioner 'total' lost its fiscal_npv_total to the public total (or overwrote it)
    data = _kongsberg(commissioners={"kommune": 0.5, "total": 0.5})
    path = tmp_path / "c.toml"
    path.write_text(
        open(terms_data("kongsberg_outcomes")[1], encoding="utf-8").read().replace(
            "state = 0.5 ", "total = 0.5 "), encoding="utf-8")
    assert tomllib.loads(path.read_text())["commissioners"] == data["commissioners"]
    with pytest.raises(SpecError) as err:
        load_terms(path)
    text = str(err.value)
    assert str(path) in text and "commissioners.total" in text
    # commissioners come from a closed list now (issue 15: a misspelt party was a new party), so
    # 'total' is refused before its KPIs could collide with the public total's
    assert "not a party that can commission" in text and "allowed: kommune, fylke, state" in text


def test_kpis_for_refuses_unvalidated_terms_with_colliding_names():
    good = load_terms("kongsberg_outcomes")
    bad = good.model_copy(update={"commissioners": {"kommune": 0.5, "total": 0.5}})
    with pytest.raises(SpecError, match="commissioners.total"):
        kpis_for(bad)


def _fylke_tax(income: float) -> float:
    """The fylke's skatteøre of the tax on an annual income by the built-in rules, by hand:
    contracts/data/fiscal.toml [income_tax] (average rate x income x fylke share, linear between
    the points; the fylke's share is kommune_shares x 2.35 / 10.95, the 2024 skatteører)."""
    points = [0, 100_000, 260_000, 450_000, 700_000]
    rate = np.interp(income, points, [0.0, 0.076, 0.14, 0.22, 0.267])
    share = np.interp(income, points, [0.0, 0.0, 0.044, 0.0607, 0.0637])
    return float(rate * income * share)


def test_a_commissioner_of_its_own_gets_budget_kpis_and_they_add_up():
    terms = load_terms("kongsberg_outcomes").model_copy(
        update={"commissioners": {"kommune": 0.4, "fylke": 0.6}})
    r = kpis_for(terms)
    parties = [k.party for k in r.select(measure="fiscal_npv")]
    assert parties == ["fylke", "kommune", "other_kommuner", "state", None]
    assert r["commissioner_paid_fylke"].label("nb") == "Betalt av fylkeskommunen (NOK)"
    persons = persons_table([person(0), person(0, arm="control")])
    spells = spells_table([spell(0, "employed", 0, 156, annual_wage=400_000),
                           spell(0, "not_employed", 0, 156, arm="control", benefit_kind="aap",
                                 benefit_g=2.0)])
    k = evaluate(terms, persons, spells, 156, events=events_table([])).kpis
    assert list(k) == r.names
    parts = sum(k[f"fiscal_npv_{p}"] for p in ("fylke", "kommune", "other_kommuner", "state"))
    assert parts == pytest.approx(k["fiscal_npv_total"])
    # it pays, and gets its skatteøre of the tax on the treated person's wage, less that of the tax
    # on the control's AAP (2 G, taxed by the same rule), three years each
    fylke_tax = 3 * (_fylke_tax(400_000) - _fylke_tax(2 * 130_160))
    assert k["fiscal_net_fylke"] == pytest.approx(-k["commissioner_paid_fylke"] + fylke_tax)


def test_metadata_round_trip_and_common_kpis():
    r = kpis_for(load_terms("sticking_together"))
    for k in r.values():
        md = {key.encode(): v.encode() for key, v in k.metadata().items()}  # as pyarrow returns them
        assert Kpi.from_metadata(k.name, md) == k
    common = common_kpis()
    assert {"cap_binding", "investor_loss", "investor_commitment_exceeded", "control_missing"} == set(
        common.indicators)
    assert "fiscal_npv_kommune" in common and "outcomes_job_start" not in common
    both = common.union(r)
    assert both.names[:len(common)] == common.names and "investor_senior_loss" in both


def test_fill_refuses_a_value_no_kpi_declares():
    r = kpis_for(load_terms("kongsberg_outcomes"))
    with pytest.raises(ValueError, match="undeclared"):
        r.fill({("no_such_measure", None, None, None): 1.0})
    filled = r.fill({r["participants"].key: 3.0})
    assert filled["participants"] == 3.0 and math.isnan(filled["controls"])


def test_valuation_replaces_the_parameter_list():
    terms = load_terms("kongsberg_outcomes")
    persons = persons_table([person(0), person(0, arm="control")])
    spells = spells_table([spell(0, "employed", 0, 52, annual_wage=400_000),
                           spell(0, "not_employed", 0, 52, arm="control", benefit_kind="aap", benefit_g=2.0)])
    v = Valuation(G=100_000.0)
    a = evaluate(terms, persons, spells, 52, v, events=events_table([])).kpis
    assert a["benefits_saved_g"] == pytest.approx(2.0) and a["fiscal_benefits"] == pytest.approx(200_000)
    moved = v.with_benefit_payers({"aap": "kommune"})
    assert moved.benefit_payers["aap"] == "kommune" and v.benefit_payers["aap"] == "state"
    assert moved.benefit_payers["uforetrygd"] == "state"  # the others stay
    b = evaluate(terms, persons, spells, 52, moved, events=events_table([])).kpis
    assert b["fiscal_net_kommune"] - a["fiscal_net_kommune"] == pytest.approx(200_000)
    # a discount rate of 0 makes every NPV the undiscounted sum
    c = evaluate(terms, persons, spells, 52, Valuation(G=100_000.0, discount_rate=0.0),
                 events=events_table([])).kpis
    assert c["fiscal_npv_total"] == pytest.approx(c["fiscal_net_total"])
    with pytest.raises(TypeError, match="Valuation"):
        evaluate(terms, persons, spells, 52, 0.04)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="missing_control"):
        Valuation(missing_control="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="G"):
        Valuation(G=0)


def test_benefit_payers_are_a_fiscal_rule_with_sources():
    assert benefit_payers() == {"aap": "state", "uforetrygd": "state", "introduksjonsstonad": "kommune",
                                "kvalifiseringsstonad": "kommune", "sosialhjelp": "kommune", "none": "none",
                                "dagpenger": "state", "tiltakspenger": "state"}
    assert Valuation().benefit_payers == benefit_payers()
    table = fiscal_path().read_text(encoding="utf-8").split("\n[benefit_payers]\n")[1]
    lines = [ln for ln in table.splitlines() if "=" in ln and not ln.startswith("#")]
    assert len(lines) == 8 and all("source:" in ln for ln in lines if not ln.startswith("none"))


def test_one_savings_gain_for_the_ledger_and_the_table():
    # treatment works a year at 400 000; control on AAP of 2 G: the gain by component in the
    # first 6 months is half a year of each
    persons = persons_table([person(0), person(0, arm="control")])
    spells = spells_table([spell(0, "employed", 0, 52, annual_wage=400_000),
                           spell(0, "not_employed", 0, 52, arm="control", benefit_kind="aap", benefit_g=2.0)])
    from effekt.contracts.fiscal import difference_ledger, public_ledger

    diff = difference_ledger(public_ledger(persons, spells, 100_000.0, 12), 1, 1)
    table = gains_by_component(diff)
    for comps in (["benefits"], ["benefits", "earnings"], ["income_tax", "employer_contributions"]):
        assert savings_gain(diff, 6, comps) == pytest.approx(savings_gain(table, 6, comps))
    # benefits saved over 6 of 12 months: 2 G x 6/12 (months are 52/12 weeks long)
    assert savings_gain(diff, 6, ["benefits"]) == pytest.approx(200_000 * 6 / 12)
    assert np.isfinite(savings_gain(table, 12, ["earnings"]))


def test_a_valuation_cannot_be_changed_through_its_payers():
    v = Valuation()
    with pytest.raises(TypeError):
        v.benefit_payers["aap"] = "kommune"  # type: ignore[index]
    assert Valuation().benefit_payers["aap"] == "state"


def test_a_valuation_pickles_for_worker_processes():
    import pickle

    v = Valuation(G=100_000.0, discount_rate=0.03).with_benefit_payers({"aap": "kommune"})
    back = pickle.loads(pickle.dumps(v))
    assert back == v and back.benefit_payers["aap"] == "kommune"
