"""Another country's tax-and-benefit files (issue 11): Finland's, for Koto-SIB, in its own currency.

Hand-computed from the Finnish 2018 rules (sim/data/fi/benefits.toml, contracts/data/fi/fiscal.toml,
each number with its source there):

* a year of työmarkkinatuki is 32.40 EUR x 21.5 days x 12 = 8 359.20 EUR, paid by the state (Kela);
  its tax: perusvähennys 3 020 - 18 % x (8 359.20 - 3 020) = 2 058.94, municipal tax 19.84 % x
  6 300.26 = 1 249.97, sairaanhoitomaksu 1.36 % x 6 300.26 = 85.68, no state tax, no Yle: 1 335.65 a
  year, of which the kunta 1 249.97;
* a wage of 25 000 EUR a year: 3 525.57 of tax and contributions, the kunta's 2 505.07 (the file's
  worked example);
* perustoimeentulotuki, 7 694.52 a year, is paid half by the state, half by the kunta, and not taxed;
* after a lost job, peruspäiväraha is the flat 8 359.20 a year for 300 payment days (60 weeks).

Messages name the file, the key and what is allowed; Norway's rules are unchanged by all this.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from effekt.contracts import (
    FISCAL_COUNTRIES,
    Valuation,
    fiscal_path,
    fiscal_rules,
    in_currency_text,
    kpis_for,
    load_terms,
)
from effekt.contracts.fiscal import public_ledger
from effekt.experiments.runner import run_replication, valuation_of
from effekt.experiments.scenario import load_scenario
from effekt.experiments.summary import headline
from effekt.sim import (
    WORLD_COUNTRIES,
    Cohort,
    Counterfactual,
    Pathway,
    World,
    country_dir,
    country_files,
    load_benefits,
    load_target_groups,
    simulate,
)
from effekt.specfile import SpecError

ROOT = Path(__file__).resolve().parent.parent
KOTO = ROOT / "experiments" / "scenarios" / "koto_sib.toml"
TMT = 32.40 * 21.5 * 12  # työmarkkinatuki a year, EUR (Kela 2018)


def fi_world_files() -> dict[str, Path]:
    return {k: v for k, v in country_files("fi").items() if v is not None}


# -- the files ----------------------------------------------------------------------------------

def test_the_finnish_files_validate_and_name_their_kinds():
    files = fi_world_files()
    benefits = load_benefits(files["benefits"])
    assert list(benefits) == ["tyomarkkinatuki", "peruspaivaraha", "toimeentulotuki", "none"]
    assert benefits["tyomarkkinatuki"].g == pytest.approx(TMT)
    assert benefits["peruspaivaraha"].role == "after_job_loss"
    groups = load_target_groups(files["target_groups"], tuple(benefits), str(files["benefits"]))
    assert set(groups["K"].benefit) <= set(benefits)
    rules = fiscal_rules("fi")
    assert rules.money is not None and (rules.money.currency, rules.money.base_amount) == ("EUR", 1.0)
    assert rules.inntektsutjevning is None and rules.integration_grant.per_year == []  # Norway's only
    assert rules.income_tax.fylke_shares is None
    for kind in benefits:  # every kind has a payer and a tax class
        assert kind in rules.benefit_payers and kind in rules.taxable_benefits
    assert set(WORLD_COUNTRIES) == set(FISCAL_COUNTRIES) == {"no", "fi"}


@pytest.mark.parametrize("path", sorted((ROOT / "sim" / "data" / "fi").glob("*.toml")),
                         ids=lambda p: p.name)
def test_every_finnish_number_has_its_source_beside_it(path):
    # the rule of tests/test_contracts_sources.py (which reads contracts/data/fi too)
    missing = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.lstrip()
        if not stripped or stripped.startswith(("#", "[")) or "=" not in line:
            continue
        code, _, comment = line.partition("#")
        value = re.sub(r'"[^"]*"', '""', code.partition("=")[2])
        if re.search(r"(?<![\w.])-?\d", value) and not re.search(r"source|derived|assumption|calibrated",
                                                                 comment, re.I):
            missing.append(n)
    assert missing == [], f"{path.name}: lines {missing}"


def _own_country(tmp_path: Path) -> Path:
    """A user's country folder: a copy of Finland's files (world data and fiscal rules)."""
    folder = tmp_path / "land"
    folder.mkdir()
    for p in (ROOT / "sim" / "data" / "fi").glob("*.toml"):
        shutil.copy(p, folder / p.name)
    shutil.copy(fiscal_path("fi"), folder / "fiscal.toml")
    return folder


def _scenario_in(folder: Path, tmp_path: Path) -> Path:
    text = KOTO.read_text(encoding="utf-8").replace('country = "fi"', f'country = "{folder.name}"')
    text = text.replace('template = "../../sim/data/fi/koto_sib_pathway.toml"',
                        f'template = "{ROOT / "sim" / "data" / "fi" / "koto_sib_pathway.toml"}"')
    path = tmp_path / "koto.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_folder_of_ones_own_is_a_country(tmp_path):
    sc = load_scenario(_scenario_in(_own_country(tmp_path), tmp_path), ["world.cohorts[0].size=10"])
    assert sc.info.currency == "EUR" and sc.info.G == 1
    assert Path(sc.info.country) == (tmp_path / "land").resolve()  # stored absolute: rebuilt anywhere


def test_a_misspelt_kind_is_refused_naming_the_file_the_key_and_the_kind_meant(tmp_path):
    folder = _own_country(tmp_path)
    groups = folder / "target_groups.toml"
    groups.write_text(groups.read_text(encoding="utf-8").replace(
        "benefit = { none = 0.1, toimeentulotuki = 0.15, tyomarkkinatuki = 0.75 }",
        "benefit = { none = 0.1, toimeentulotuki = 0.15, tyomarkinatuki = 0.75 }"), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_scenario(_scenario_in(folder, tmp_path))
    text = str(err.value)
    assert "world.groups.K" in text and "unknown benefit kind ['tyomarkinatuki']" in text
    assert "did you mean 'tyomarkkinatuki'" in text
    assert str(folder / "benefits.toml") in text  # what is allowed, and from which file
    assert "tyomarkkinatuki, peruspaivaraha, toimeentulotuki, none" in text
    # the same misspelling in a benefits file's `then`, read on its own
    benefits = folder / "benefits.toml"
    benefits.write_text(benefits.read_text(encoding="utf-8").replace(
        'g = 7694.52',
        'max_weeks = 52  # assumption\nthen = { tyomarkinatuki = 1.0 }  # assumption\ng = 7694.52'),
        encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_benefits(benefits)
    assert err.value.source == str(benefits)
    assert "toimeentulotuki" in str(err.value) and "did you mean 'tyomarkkinatuki'" in str(err.value)


def test_a_kind_without_a_payer_or_a_tax_class_is_refused_naming_the_fiscal_file(tmp_path):
    folder = _own_country(tmp_path)
    fiscal = folder / "fiscal.toml"
    text = fiscal.read_text(encoding="utf-8")
    text = re.sub(r"\nperuspaivaraha = \"benefit\".*", "", text, count=1)
    text = re.sub(r"\ntoimeentulotuki = \{ state = 0.5, kommune = 0.5 \}.*", "", text, count=1)
    fiscal.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_scenario(_scenario_in(folder, tmp_path))
    problems = " | ".join(err.value.problems)
    assert "world.benefits.toimeentulotuki: no payer in" in problems and "[benefit_payers]" in problems
    assert "world.benefits.peruspaivaraha: no tax class in" in problems and "[taxable_benefits]" in problems
    assert str(fiscal.resolve()) in problems


def test_an_unknown_country_is_refused_with_what_is_allowed(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(KOTO.read_text(encoding="utf-8").replace('country = "fi"', 'country = "fl"'),
                    encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_scenario(path)
    text = str(err.value)
    assert "scenario.country: 'fl' is no built-in country (did you mean 'fi'?)" in text
    assert "allowed: no, fi or the path of a folder holding benefits.toml and fiscal.toml" in text
    with pytest.raises(SpecError, match="scenario.currency|currency: 'NOK'"):
        load_scenario(KOTO, ["scenario.currency=NOK"])


def test_a_stage_paying_a_benefit_on_measures_needs_a_kind_with_that_role():
    # Finland's file gives no kind the role 'on_measures': Norway's name is refused, naming the key
    files = fi_world_files()
    benefits = load_benefits(files["benefits"])
    groups = load_target_groups(files["target_groups"], tuple(benefits))
    ctx = {"benefit_kinds": tuple(benefits)}
    for value in ("tiltakspenger", "on_measures"):
        course = {"kind": "course", "duration": {"dist": "fixed", "value": 4}, "funding": {"benefit": value},
                  "next": "out"}
        out = {"kind": "exit", "outcome": "not_employed"}
        pw = Pathway.model_validate({"pathway": {"name": "m", "title": "m", "source": "test", "entry": "c"},
                                     "stages": {"c": course, "out": out}})
        with pytest.raises(ValueError, match=r"stages\.c\.funding\.benefit: '.*' is not the benefit on "
                                             r"labour-market measures \(no benefit of this world has role"):
            World.model_validate({"pathway": pw, "horizon_weeks": 52, "groups": groups, "benefits": benefits,
                                  "cohorts": [Cohort(name="k", start_week=0, size=1, groups={"K": 1.0})]},
                                 context=ctx)


# -- money by the Finnish rules, by hand ----------------------------------------------------------

def _one_year(kind: str, level: float, state: str = "not_employed", wage: float = 0.0, fte: float = 0.0):
    persons = pd.DataFrame({"arm": ["treatment"], "person_id": [0], "cohort": ["k"], "group": ["K"],
                            "benefit_kind": [kind], "benefit_g": [level], "entry_week": [0.0]})
    spells = pd.DataFrame({"arm": ["treatment"], "person_id": [0], "state": [state], "stage": [None],
                           "contract": [None], "start": [0.0], "end": [52.0], "fte": [fte],
                           "annual_wage": [wage], "benefit_kind": [kind], "benefit_g": [level]})
    return persons, spells


def _year(ledger, party: str, item: str) -> float:
    return float(ledger.get(("treatment", party, item), np.zeros(12))[:12].sum())


def test_a_month_on_tyomarkkinatuki_by_the_finnish_rules():
    rules = fiscal_rules("fi")
    ledger = public_ledger(*_one_year("tyomarkkinatuki", TMT), G=1.0, n_months=12, params=rules)
    assert ledger[("treatment", "state", "benefits")][0] == pytest.approx(-696.60, abs=0.005)  # a month
    assert _year(ledger, "state", "benefits") == pytest.approx(-8359.20, abs=0.01)
    tax = _year(ledger, "kommune", "income_tax") + _year(ledger, "state", "income_tax")
    assert tax == pytest.approx(1335.65, abs=0.05)  # the hand computation in the module docstring
    assert tax / 12 == pytest.approx(111.30, abs=0.01)  # a month's tax
    assert _year(ledger, "kommune", "income_tax") == pytest.approx(1249.97, abs=0.05)
    assert ("treatment", "other_kommuner", "income_tax") not in ledger  # no inntektsutjevning
    assert ("treatment", "fylke", "income_tax") not in ledger  # no fylke


def test_a_wage_and_social_assistance_by_the_finnish_rules():
    rules = fiscal_rules("fi")
    wage = _one_year("none", 0.0, "employed", 25000.0, 1.0)
    ledger = public_ledger(*wage, G=1.0, n_months=12, params=rules)
    kunta, state = _year(ledger, "kommune", "income_tax"), _year(ledger, "state", "income_tax")
    assert kunta + state == pytest.approx(3525.57, abs=0.05)
    assert kunta == pytest.approx(2505.07, abs=0.05)
    assert _year(ledger, "state", "employer_contributions") == pytest.approx(0.0151 * 25000, abs=0.01)
    ledger = public_ledger(*_one_year("toimeentulotuki", 7694.52), G=1.0, n_months=12, params=rules)
    assert _year(ledger, "state", "benefits") == pytest.approx(-7694.52 / 2, abs=0.01)  # 50/50
    assert _year(ledger, "kommune", "benefits") == pytest.approx(-7694.52 / 2, abs=0.01)
    assert _year(ledger, "kommune", "income_tax") == 0.0  # not taxed (TVL § 92)


def test_peruspaivaraha_after_a_lost_job_is_flat_for_sixty_weeks():
    files = fi_world_files()
    benefits = load_benefits(files["benefits"])
    groups = load_target_groups(files["target_groups"], tuple(benefits))
    at_30 = groups["K"].age.model_copy(update={"low": 30, "high": 30})
    k = groups["K"].model_copy(update={"benefit": {"none": 1.0}, "bau_entry_rate": 0.0, "bau_pathway": None,
                                       "age": at_30})
    pw = Pathway.model_validate({
        "pathway": {"name": "j", "title": "j", "source": "test", "entry": "job"},
        "stages": {"job": {"kind": "employment", "duration": {"dist": "fixed", "value": 52}, "next": "out",
                           "employment": {"contract": "temporary", "fte": 0.8, "annual_wage": 24000}},
                   "out": {"kind": "exit", "outcome": "not_employed"}}})
    world = World.model_validate({"pathway": pw, "horizon_weeks": 156, "groups": {"K": k},
                                  "benefits": benefits,
                                  "counterfactual": Counterfactual(mode="none"),
                                  "cohorts": [Cohort(name="k", start_week=0, size=3, groups={"K": 1.0})]},
                                 context={"benefit_kinds": tuple(benefits)})
    s = simulate(world, 3).spells.to_pandas().sort_values(["person_id", "start"])
    paid = s[s.benefit_kind == "peruspaivaraha"]
    assert paid.person_id.nunique() == 3
    assert np.allclose(paid.start, 52.0) and np.allclose(paid.end, 112.0)  # 300 payment days
    assert np.allclose(paid.benefit_g, TMT)  # the flat rate: min(19 200 earned, 8 359.20)
    assert (s[s.start >= 112].benefit_kind == "none").all()  # then back to the benefit before


def test_a_contract_in_the_countrys_currency_is_counted_one_to_one():
    terms = load_terms("koto_sib")
    assert (terms.contract.currency, terms.contract.nok_per_unit) == ("EUR", 11.6)
    fi = Valuation.for_rules(fiscal_rules("fi"))
    assert (fi.currency, fi.G, fi.price_year) == ("EUR", 1.0, 2018)
    assert fi.priced(terms).contract.nok_per_unit == 1.0  # EUR by Finland's rules: no conversion
    assert Valuation().priced(terms) is terms  # by Norway's rules: converted to NOK as always
    with pytest.raises(SpecError, match="contract.currency = 'GBP', but the evaluation counts in EUR"):
        fi.priced(load_terms("peterborough"))


# -- the Koto-SIB scenario --------------------------------------------------------------------------

def test_the_koto_scenario_runs_in_eur_and_its_summary_says_so():
    sc = load_scenario(KOTO, ["world.cohorts[0].size=40"])
    assert (sc.info.country, sc.info.currency, sc.info.G, sc.info.price_year) == ("fi", "EUR", 1, 2018)
    v = valuation_of(sc)
    assert (v.currency, v.G, v.base_name) == ("EUR", 1.0, "EUR")
    assert sc.terms.contract.nok_per_unit == 1.0
    reg = sc.kpis
    assert reg.currency == "EUR" and reg["outcome_payments"].unit == "EUR"
    assert "(EUR)" in reg["fiscal_npv_total"].label_en and "NOK" not in reg["fiscal_npv_total"].label_nb
    assert reg["benefits_saved_g"].label_en == "Benefits saved (EUR)"
    rows = [run_replication(sc, r)["runs"] for r in range(3)]
    runs = pd.concat(rows, ignore_index=True)
    assert (runs["outcome_payments"] > 0).all()
    spells = run_replication(sc, 0, tables=("spells",))["spells"]
    assert set(spells.benefit_kind) <= {"tyomarkkinatuki", "peruspaivaraha", "toimeentulotuki", "none"}
    en, nb = headline(runs, registry=reg, lang="en"), headline(runs, registry=reg, lang="nb")
    assert any(line.endswith("EUR") for line in en) and not any("NOK" in line for line in en)
    assert any("€" in line for line in nb) and not any(re.search(r"\bkr\b", line) for line in nb)
    assert not any("fylke" in line for line in en)  # no Norwegian-only budget in Finland


def test_norway_stays_as_it_was():
    sc = load_scenario()
    assert "country" not in sc.resolved["scenario"]  # the resolved tree (and its hash) as before
    assert (sc.info.country, sc.info.currency, sc.info.G, sc.info.price_year) == ("no", "NOK", 130160, 2025)
    assert kpis_for(sc.terms) is sc.kpis  # the same declarations, in NOK
    assert sc.world.benefit_with_role("on_measures")[0] == "tiltakspenger"
    assert sc.world.benefit_with_role("after_job_loss")[0] == "dagpenger"
    assert country_dir("no") == ROOT / "sim" / "data"
    v = valuation_of(sc)
    assert (v.currency, v.G, v.price_year) == ("NOK", 130160, 2025)
    assert in_currency_text("Resultatbetalinger: 1 234 kr", "NOK", "nb") == "Resultatbetalinger: 1 234 kr"
    assert in_currency_text("1 234 kr, nominelle kroner", "EUR", "nb") == "1 234 €, nominelle euro"
    assert in_currency_text("data:image/png;base64,AB+NOK/kr==", "EUR", "en") == \
        "data:image/png;base64,AB+NOK/kr=="  # never inside other text


def test_a_misspelt_kind_in_the_fiscal_tables_is_refused(tmp_path):
    # found by the fuzzing campaign: [taxable_benefits] nonex = ... was accepted and never applied
    folder = _own_country(tmp_path)
    fiscal = folder / "fiscal.toml"
    text = fiscal.read_text(encoding="utf-8")
    assert "tyomarkkinatuki" in text
    typo = "[taxable_benefits]\ntyomarkinatuki = false  # x\n"
    fiscal.write_text(text.replace("[taxable_benefits]\n", typo, 1), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_scenario(_scenario_in(folder, tmp_path), ["world.cohorts[0].size=10"])
    assert "[taxable_benefits] tyomarkinatuki: no benefit kind 'tyomarkinatuki'" in str(err.value)
    assert "did you mean 'tyomarkkinatuki'?" in str(err.value)
