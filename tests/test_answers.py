"""Answers that say what they mean (issue 13, item 3): why an IRR is undefined, on hand-built
cashflows checked against numpy-financial and numpy's polynomial roots; the investor's sentences
(money multiple first, the IRR only where defined, with the count); the price per additional
outcome when the programme adds none; what drives the result; and the provenance of every file
the scenario read."""

from __future__ import annotations

import json
import re

import numpy as np
import numpy_financial as npf
import pandas as pd
import pytest

from effekt.contracts import IRR_UNDEFINED, UndefinedIRR, common_kpis, irr, irr_reason
from effekt.experiments import answers


def _plain(text: str | None) -> str:
    """``text`` with the typographic spaces as plain ones and thousands grouped by a space
    (formatting's house style is not what these tests are about)."""
    text = (text or "").replace("\u202f", " ").replace("\u00a0", " ")
    return re.sub(r"(?<=\d),(?=\d{3})", " ", text)


# -- why an IRR is undefined ---------------------------------------------------------------------


def _real_rates(flows: np.ndarray) -> list[float]:
    """Independent: the monthly rates r > -1 with NPV(r) = 0, as the real positive roots x =
    1 / (1 + r) of the polynomial sum_t flows[t] x^t (numpy's companion-matrix roots)."""
    roots = np.roots(np.asarray(flows, dtype=float)[::-1])
    x = roots[(np.abs(roots.imag) < 1e-9) & (roots.real > 0)].real
    return sorted(1 / x - 1)


def test_each_reason_on_hand_built_cashflows():
    # nothing back: money only goes out
    assert irr_reason(np.array([-100.0, -10.0, 0.0])) == "nothing_back"
    # nothing invested: money only comes in
    assert irr_reason(np.array([0.0, 50.0])) == "nothing_invested"
    # money back (50 in month 2) but costs go on after it (30 in month 3): -100 + 50 x^2 - 30 x^3
    # is below zero for every x > 0 (its largest value, at x = 10/9, is -100 + 50 (10/9)^2 - 30
    # (10/9)^3 = -79.4), so no rate makes the NPV zero
    flows = np.array([-100.0, 0.0, 50.0, -30.0])
    assert _real_rates(flows) == [] and np.isnan(npf.irr(flows))
    assert irr_reason(flows) == "no_root"
    # two rates: -100 + 230 x - 132 x^2 = 0 at x = 10/11 and 5/6, i.e. 10 % and 20 % a month
    flows = np.array([-100.0, 230.0, -132.0])
    assert _real_rates(flows) == pytest.approx([0.1, 0.2])
    with pytest.raises(UndefinedIRR) as err:
        irr(flows)
    assert err.value.reason == "several_roots"
    # one sign change: exactly one rate (Descartes), here 1 000 000 per krone in a month: outside
    assert irr_reason(np.array([-1.0, 1e6])) == "out_of_range"
    # and a plain one is defined, as numpy-financial has it: 100 out, 121 back two months later
    flows = np.array([-100.0, 0.0, 121.0])
    assert irr_reason(flows) is None
    assert irr(flows) == pytest.approx((1 + npf.irr(flows)) ** 12 - 1) == pytest.approx(1.1**12 - 1)
    assert set(IRR_UNDEFINED) == {"nothing_invested", "nothing_back", "no_root", "several_roots",
                                  "out_of_range"}


def _cash(rows: list[tuple[int, str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["replication", "party", "month", "amount"])


def test_reasons_from_the_cashflows_and_from_the_kpis():
    runs = pd.DataFrame({"replication": [0, 1, 2, 3], "investor_irr": [np.nan, np.nan, 0.1, np.nan],
                         "investor_invested": [100.0, 100.0, 100.0, 0.0],
                         "investor_received": [0.0, 50.0, 110.0, 0.0]})
    cash = _cash([(0, "investor", 0, -100.0),
                  (1, "investor", 0, -100.0), (1, "investor", 2, 50.0), (1, "investor", 3, -30.0),
                  (2, "investor", 0, -100.0), (2, "investor", 12, 110.0),
                  (2, "kommune", 12, -110.0)])  # another party's flows do not count; 3 has none
    by_flows = answers.irr_reasons_from_cashflows(runs, cash)
    assert list(by_flows) == ["nothing_back", "no_root", None, "nothing_invested"]
    by_kpis = answers.irr_reasons_from_kpis(runs, common_kpis())
    assert list(by_kpis) == ["nothing_back", answers.NO_SINGLE_RATE, None, "nothing_invested"]


def test_the_irr_sentence_counts_where_it_is_defined_and_says_why_not_elsewhere():
    irr_values = pd.Series([-0.7, -0.8, np.nan, np.nan, np.nan])
    reasons = pd.Series([None, None, "nothing_back", "no_root", "no_root"])
    en = _plain(answers.irr_sentence(irr_values, reasons, "en"))
    assert en.startswith("Investor IRR, defined in 2 of 5 runs: median -75 % a year")
    assert "from -80 % to -70 %" in en  # too few runs for a 90 % band: the smallest and the largest
    assert "undefined in 3: 1 no money back, 2 money back, but no rate makes the NPV zero" in en
    nb = _plain(answers.irr_sentence(irr_values, reasons, "nb"))
    assert nb.startswith("Investors internrente, definert i 2 av de 5 kjøringene: median -75 %")
    assert "1 ingen penger tilbake, 2 penger tilbake, men ingen rente gir nåverdi null" in nb
    # every run defined: median and 90 % band; none defined: said so, no median at all
    assert _plain(answers.irr_sentence(pd.Series([0.1] * 4), pd.Series([None] * 4), "en")) == (
        "Investor IRR: median 10 % a year (90 % of runs 10 % to 10 %)")
    none = answers.irr_sentence(pd.Series([np.nan] * 3), pd.Series(["nothing_back"] * 3), "en")
    assert none == "Investor IRR: defined in none of the 3 runs; undefined in 3: 3 no money back"


def test_the_money_multiple_comes_before_the_irr_in_the_headline():
    from effekt.experiments.summary import headline

    runs = pd.DataFrame({"investor_multiple": [0.5, 0.0, 1.5, 0.2], "investor_loss": [1.0, 1.0, 0.0, 1.0],
                         "investor_irr": [np.nan, np.nan, 0.3, np.nan],
                         "investor_invested": [10.0] * 4, "investor_received": [5.0, 0.0, 15.0, 2.0]})
    lines = [_plain(x) for x in headline(runs)]
    mult = next(i for i, x in enumerate(lines) if x.startswith("Investor money multiple"))
    irr_line = next(i for i, x in enumerate(lines) if x.startswith("Investor IRR"))
    assert mult < irr_line
    assert "probability of loss 75" in lines[mult]
    assert lines[irr_line] == ("Investor IRR, defined in 1 of 4 runs: median 30 % a year (from 30 % to "
                               "30 %); undefined in 3: 1 no money back, 2 money back, but no single rate "
                               "(no rate, or several, makes the NPV zero)")


# -- the price per additional outcome, and what drives the result -------------------------------


def test_no_additional_outcome_reads_as_a_plain_sentence():
    runs = pd.DataFrame({"commissioner_paid": [300_000.0, 100_000.0], "additional_outcomes": [-1.0, 1.0]})
    en = _plain(answers.per_extra_sentence(runs, "fast_jobb_24m", "en"))
    assert en == ("The contract pays for outcomes (fast_jobb_24m) but the programme adds none that can be "
                  "told from chance (0.0 per run against the counterfactual, on average, 95 % CI -2.0 to "
                  "2.0): the NOK 200 000 paid go, as far as the runs can tell, to people who would have "
                  "reached it anyway.")  # mean 0, sd 1.41 over 2 runs: 0 +- 1.96 x 1.41 / sqrt(2)
    nb = answers.per_extra_sentence(runs, "fast_jobb_24m", "nb")
    assert "ville nådd resultatet uansett" in nb and "ubegrenset" not in nb
    # two additional outcomes for 300 000 on average: 150 000 each
    paid = pd.DataFrame({"commissioner_paid": [200_000.0, 400_000.0], "additional_outcomes": [1.0, 3.0]})
    assert "the commissioners pay NOK 150 000 per additional outcome" in _plain(
        answers.per_extra_sentence(paid, "job", "en"))
    nothing = pd.DataFrame({"commissioner_paid": [0.0], "additional_outcomes": [0.0]})
    assert "paid nothing" in answers.per_extra_sentence(nothing, "job", "en")


def test_what_drives_the_result_on_cases_built_so_the_answer_is_known():
    reg = common_kpis()
    # the contract pays, the programme adds nothing: every krone is deadweight
    none = pd.DataFrame({"commissioner_paid": [100.0, 300.0], "additional_outcomes": [0.0, 0.0]})
    assert "adds no outcomes that can be told from chance" in answers.driver_sentence(none, reg, "en")
    assert "uansett" in answers.driver_sentence(none, reg, "nb")
    # 8 of 10 outcomes paid for would have happened anyway
    dead = pd.DataFrame({"commissioner_paid": [100.0], "additional_outcomes": [2.0],
                         "paid_not_additional_share": [0.8]})
    assert "mostly for people who would have reached the outcome anyway (80 %" in _plain(
        answers.driver_sentence(dead, reg, "en"))
    # additional outcomes and little deadweight: the largest item of the public budgets, by size
    items = pd.DataFrame({"commissioner_paid": [100.0], "additional_outcomes": [2.0],
                          "paid_not_additional_share": [0.1], "fiscal_benefits": [400_000.0],
                          "fiscal_income_tax": [-1_200_000.0], "fiscal_contract": [-100.0]})
    assert _plain(answers.driver_sentence(items, reg, "en")) == (
        "What drives the result: of what the programme changes in the public budgets, income tax "
        "weighs most (NOK -1.2 million against the counterfactual, undiscounted, mean).")
    assert "inntektsskatt" in answers.driver_sentence(items, reg, "nb")
    assert answers.driver_sentence(pd.DataFrame({"x": [1.0]}), reg, "en") is None


# -- where the numbers come from -----------------------------------------------------------------

CONTRACT = """\
[contract]
name = "mine"
term_months = 30            # assumption: two years and a half
payment_lag_months = 3

[prices]
fast_jobb = 300000

[provider]
per_cohort = 400000         # source: the provider's offer, 2026
"""


def test_count_numbers_names_the_users_numbers_without_a_source(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(CONTRACT + "\n[design]\nseed = 3\n")
    n = answers.count_numbers(path, builtin=False)
    # term (assumption), lag (bare), price (bare), per_cohort (source); the seed is a choice
    assert (n.assumption, n.source, n.calibrated, n.unmarked) == (1, 1, 0, 2)
    assert n.bare == ["contract.payment_lag_months", "prices.fast_jobb"]
    lines = answers.provenance_lines([n], "en")
    assert lines == [f"Numbers in your own files ({path}): 4, of which 1 with a source and 1 marked as "
                     "assumptions; with neither: mine.toml: contract.payment_lag_months, mine.toml: "
                     "prices.fast_jobb."]
    assert "uten noen av delene: mine.toml: contract.payment_lag_months" in (
        answers.provenance_lines([n], "nb")[0])


def test_every_file_the_scenario_read_is_counted_by_its_path(tmp_path):
    (tmp_path / "mine.toml").write_text(CONTRACT + '\n[outcomes.fast_jobb]\nmetric = "in_work_at"\n'
                                        "weeks_after_entry = 104\n\n[commissioners]\nkommune = 1.0\n")
    scenario = tmp_path / "s.toml"
    scenario.write_text('[scenario]\nname = "s"\n[world]\nhorizon_weeks = 156\n'
                        '[[world.cohorts]]\nname = "k"\nstart_week = 0\nsize = 12\ngroups = { A = 1.0 }\n'
                        '[world.groups.A]\nbau_pathway = "my_bau.toml"\n'
                        '[pathway]\ntemplate = "gloppen"\n[contract]\ntemplate = "mine.toml"\n')
    (tmp_path / "my_bau.toml").write_text("[stages.wait]\nweeks = 26\n")
    out = tmp_path / "results"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"scenario_source": str(scenario)}))
    files = answers.scenario_files(out)
    assert [f.name for f in files] == ["s.toml", "gloppen.toml", "mine.toml", "my_bau.toml"]
    counts = answers.provenance(files)
    assert [c.builtin for c in counts] == [False, True, False, False]
    own, builtin = answers.provenance_lines(counts, "en", shown=20)[::-1]
    assert builtin.startswith("Numbers in effekt's own files (gloppen.toml):")
    assert str(scenario) in own and str(tmp_path / "mine.toml") in own
    assert "mine.toml: prices.fast_jobb" in own and "s.toml: world.cohorts.size" in own
    assert "my_bau.toml: stages.wait.weeks" in own
    # gone: said so, never counted as if the user's files had none
    scenario.unlink()
    assert answers.scenario_files(out) is None
    assert "sources not checked" in answers.provenance_lines(None, "en")[0]


def test_the_report_counts_the_users_contract_and_puts_the_multiple_first(tmp_path):
    from effekt.experiments.batch import run_batch
    from effekt.experiments.report import _summary_lines, gather
    from effekt.experiments.scenario import load_scenario

    (tmp_path / "mine.toml").write_text(
        '[contract]\nname = "mine"\ntitle = "Mine"\nsource = "test"\nterm_months = 30  # assumption\n\n'
        '[outcomes.job]\nmetric = "job_start"\nwindow_weeks = 104  # assumption\n\n'
        "[prices]\njob = 150000\n\n[commissioners]\nkommune = 1.0  # assumption\n\n"
        "[provider]\nper_cohort = 100000  # source: an offer\n")
    scenario = tmp_path / "s.toml"
    scenario.write_text('[scenario]\nname = "s"\n[world]\nhorizon_weeks = 156\n'
                        'counterfactual = { mode = "parallel" }\n'
                        '[[world.cohorts]]\nname = "k"\nstart_week = 0\nsize = 6  # assumption\n'
                        'groups = { A = 1.0 }  # assumption\n'
                        '[pathway]\ntemplate = "kongsberg_kull"\n[contract]\ntemplate = "mine.toml"\n'
                        "[design]\nreplications = 3\nseed = 5\n")
    out = tmp_path / "res"
    run_batch(load_scenario(scenario), out, progress=False)
    data = gather(out, ts_runs=1)
    assert [f.name for f in data.files] == ["s.toml", "kongsberg_kull.toml", "mine.toml"]
    for lang, price in (("en", "with neither: s.toml: world.horizon_weeks, s.toml: world.cohorts.start_week, "
                                 "mine.toml: prices.job."),
                        ("nb", "mine.toml: prices.job.")):
        _, key, caveats = _summary_lines(data, lang)
        assert key[0].startswith({"en": "What drives the result: ", "nb": "Dette driver resultatet: "}[lang])
        own = next(c for c in caveats if str(tmp_path / "mine.toml") in c)
        assert own.endswith(price)
        first = next(i for i, k in enumerate(key) if "multip" in k)
        irr_at = next(i for i, k in enumerate(key) if "IRR" in k or "internrente" in k)
        assert first < irr_at
        assert "ubegrenset" not in " ".join(key) and "unbounded" not in " ".join(key)


def test_a_programme_that_does_nothing_reads_the_same_whichever_sign_its_luck_gives():
    # review 13: the sentences followed the sign of a noisy mean of additional outcomes
    reg = common_kpis()
    luck = np.array([0.6, -0.4, 0.5, -0.3, 0.4, -0.2])  # mean +0.1, 95 % CI about -0.33 to 0.53
    for sign in (1, -1):
        runs = pd.DataFrame({"commissioner_paid": np.full(6, 200_000.0), "additional_outcomes": sign * luck})
        per = _plain(answers.per_extra_sentence(runs, "job", "en"))
        assert "adds none that can be told from chance" in per and "per additional outcome" not in per
        assert "can be told from chance" in answers.driver_sentence(runs, reg, "en")


def test_a_programme_that_gives_fewer_outcomes_is_not_said_to_add_none():
    """The DWP lesson's programme gives about 2.5 fewer first jobs (95 % CI wholly below 0): saying it
    "adds none that can be told from chance" would hide a clear harm. Runs built so the interval is
    known: mean -3, sd sqrt(2/3) over 4 runs, 95 % CI -3 +- 1.96 x 0.816 / 2 = -3.80 to -2.20."""
    runs = pd.DataFrame({"commissioner_paid": [100_000.0] * 4,
                         "additional_outcomes": [-4.0, -3.0, -3.0, -2.0]})
    half = 1.96 * (2 / 3) ** 0.5 / 2
    assert answers.additional_ci(runs) == pytest.approx((-3 - half, -3 + half))
    en = _plain(answers.per_extra_sentence(runs, "job", "en"))
    assert en.startswith("The programme gives fewer outcomes (job) than the counterfactual (-3.0 per run")
    assert "told from chance" not in en
    assert "færre resultater" in answers.per_extra_sentence(runs, "job", "nb")
    drives = answers.driver_sentence(runs, common_kpis(), "en")
    assert "fewer outcomes than the counterfactual" in drives and "told from chance" not in drives
    assert "færre resultater" in answers.driver_sentence(runs, common_kpis(), "nb")
    # an interval that straddles 0 still reads as "none that can be told from chance"
    noisy = pd.DataFrame({"commissioner_paid": [1.0, 1.0], "additional_outcomes": [-3.0, 1.0]})
    assert "told from chance" in answers.driver_sentence(noisy, common_kpis(), "en")
