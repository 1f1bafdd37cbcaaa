"""Numbers for a person (effekt.experiments.formatting) and the language of the command line
(effekt.experiments.cli_lang): hand-written expected strings in bokmål and English."""

from __future__ import annotations

import html
import re

import click
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from effekt.experiments import formatting as f
from effekt.experiments.cli_lang import lang_from_environment, lang_option
from effekt.experiments.parameter_labels import parameter_label

NB = "\u00a0"  # CLDR nb's thousands separator, and the space before % and units
TH = "\u202f"  # the thin space between thousands in English (SI)
NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(("x", "nb", "en"), [
    (3_586_214, f"3,6{NB}mill.{NB}kr", f"NOK{NB}3.6{NB}million"),
    (-1_234_567, f"-1,2{NB}mill.{NB}kr", f"NOK{NB}-1.2{NB}million"),
    (358_214, f"358{NB}000{NB}kr", f"NOK{NB}358{TH}000"),
    (10_499, f"10{NB}000{NB}kr", f"NOK{NB}10{TH}000"),
    (3_586, f"3{NB}600{NB}kr", f"NOK{NB}3{TH}600"),
    (250, f"300{NB}kr", f"NOK{NB}300"),           # halves away from zero, as by hand
    (-250, f"-300{NB}kr", f"NOK{NB}-300"),
    (-40, f"0{NB}kr", f"NOK{NB}0"),               # never -0
    (999_700, f"1,0{NB}mill.{NB}kr", f"NOK{NB}1.0{NB}million"),  # the step of the rounded value
    (9_960, f"10{NB}000{NB}kr", f"NOK{NB}10{TH}000"),
    (1_234_000_000, f"1,2{NB}mrd.{NB}kr", f"NOK{NB}1.2{NB}billion"),
    (1e15, f"1{NB}000{NB}000,0{NB}mrd.{NB}kr", f"NOK{NB}1{TH}000{TH}000.0{NB}billion"),
    (-4.337e-19, f"0{NB}kr", f"NOK{NB}0"),
])
def test_money_is_rounded_to_what_the_model_can_know(x, nb, en):
    assert f.money(x, "nb") == nb
    assert f.money(x, "en") == en


def test_money_without_unit_other_currency_and_typeset_minus():
    assert f.money(3_586_214, "nb", unit=False) == f"3,6{NB}mill."
    assert f.money(358_214, "en", unit=False) == f"358{TH}000"
    assert f.money(3_586_214, "nb", currency="EUR") == f"3,6{NB}mill.{NB}EUR"
    assert f.money(-3_586_214, "nb", unicode_minus=True) == f"\u22123,6{NB}mill.{NB}kr"
    assert f.money(2_000, "nb", sign=True) == f"+2{NB}000{NB}kr"


def test_special_values_are_said_in_words():
    assert f.money(NAN, "nb") == "ikke definert" and f.money(NAN, "en") == "not defined"
    assert f.number(None, "nb") == "ikke definert"
    assert f.percent(NAN, "nb", na="\u2013") == "\u2013"
    assert f.number(INF, "en") == "\u221e" and f.number(-INF, "nb") == "-\u221e"
    assert f.number(-INF, "nb", unicode_minus=True) == "\u2212\u221e"
    with pytest.raises(ValueError, match="language 'de'; allowed: nb, en"):
        f.number(1.0, "de")


def test_number_groups_thousands_and_never_prints_negative_zero():
    assert f.number(1_234_567.891, "nb", 1) == f"1{NB}234{NB}567,9"
    assert f.number(1_234_567.891, "en", 1) == f"1{TH}234{TH}567.9"
    assert f.number(-1234.6, "nb") == f"-1{NB}235" and f.number(-1234.6, "en") == f"-1{TH}235"
    assert f.number(-0.4, "nb") == "0" and f.number(-0.04, "en", 1) == "0.0"
    assert f.number(4.337e-19, "nb", 3) == "0,000"
    assert f.number(1e20, "en") == "100" + f"{TH}000" * 6  # no e-notation, ever
    assert f.number(2.5, "nb") == "3" and f.number(-2.5, "en") == "-3"


def test_signed_shows_the_direction_of_a_change():
    assert f.signed(1.23, "nb", 1) == "+1,2" and f.signed(-1.23, "en", 1) == "-1.2"
    assert f.signed(-0.04, "nb", 1) == "0,0" and f.signed(0.0, "en") == "0"


def test_percent_has_a_no_break_space_in_both_languages():
    assert f.percent(0.39, "nb") == f"39{NB}%" and f.percent(0.39, "en") == f"39{NB}%"
    assert f.percent(0.415, "nb", 1) == f"41,5{NB}%" and f.percent(0.415, "en", 1) == f"41.5{NB}%"
    assert f.percent(-0.0023, "nb") == f"0{NB}%"     # a rounded -0 % reads as a loss not there
    assert f.percent(-0.006, "en") == f"-1{NB}%"
    assert f.points(0.072, "nb") == "7,2" and f.points(-0.2, "en", 0) == "-20"
    # 0.285 is 28.5 %, not the 28.499999999999996 of 100 * 0.285: rounded as by hand
    assert f.percent(0.285, "nb") == f"29{NB}%" and f.percent(0.0125, "en", 1) == f"1.3{NB}%"


def test_intervals_share_one_unit_and_one_step():
    assert f.money_interval(-1.2e6, 0.8e6, "nb") == f"-1,2 til 0,8{NB}mill.{NB}kr"
    assert f.money_interval(-1.2e6, 0.8e6, "en") == f"NOK{NB}-1.2 to 0.8{NB}million"
    # the larger end's step (nearest thousand) for both: 450 is 0, not 500
    assert f.money_interval(450, 35_000, "nb") == f"0 til 35{NB}000{NB}kr"
    assert f.money_interval(450, 3_500, "en", unit=False) == f"500 to 3{TH}500"
    assert f.money_interval(NAN, 3_500, "nb") == f"ikke definert til 3{NB}500{NB}kr"
    assert f.interval(4.1, 5.9, "nb", 1) == "4,1 til 5,9" and f.interval(4.1, 5.9, "en", 1) == "4.1 to 5.9"
    assert f.percent_interval(0.12, 0.4, "nb") == f"12 til 40{NB}%"


def test_general_keeps_three_significant_digits_without_e_notation():
    assert f.general(1_158_610, "nb") == f"1{NB}160{NB}000"
    assert f.general(1_158_610, "en") == f"1{TH}160{TH}000"
    assert f.general(-0.012345, "nb") == "-0,0123"
    assert f.general(4.337e-19, "en") == "0" and f.general(-4.337e-19, "nb") == "0"
    assert f.general(0.0, "en") == "0" and f.general(12.345, "en") == "12.3"


def test_money_step_by_magnitude():
    assert f.money_step(9_949) == (1, 100, 0)
    assert f.money_step(10_000) == (1, 1000, 0)
    assert f.money_step(2.5e6)[0] == 10**6 and f.money_step(-3e9)[0] == 10**9


# -- figures -------------------------------------------------------------------------------------


def test_tick_formatter_has_a_decimal_comma_no_offset_and_the_real_minus():
    ticks = f.tick_formatter("nb", 1e6).format_ticks([-1.5e6, -1e6, 0.0, 5e5, 1e6])
    assert ticks == ["\u22121,5", "\u22121,0", "0,0", "0,5", "1,0"]
    assert f.tick_formatter("en", 1e6).format_ticks([0.0, 2e6, 4e6]) == ["0", "2", "4"]
    assert f.tick_formatter("nb").format_ticks([0.0, 250_000.0, 500_000.0]) == ["0", f"250{NB}000",
                                                                               f"500{NB}000"]
    assert f.tick_formatter("nb", percent_axis=True).format_ticks([0.0, 0.125, 0.25]) == [
        f"0,0{NB}%", f"12,5{NB}%", f"25,0{NB}%"]


def test_a_money_axis_in_millions_says_so_in_its_unit():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [0.0, 1.5e6, 3.2e6])
    unit = f.money_axis(ax.yaxis, 3.2e6, "nb")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert unit == "mill. kr" and f.money_unit(10**6, "en") == "NOK million"
    assert f.money_unit(1, "nb", "EUR") == "EUR"
    assert all("e" not in s and "." not in s for s in labels)  # no 1e6 offset, no decimal point
    assert ax.yaxis.get_offset_text().get_text() == ""
    assert any("," in s for s in labels)  # 0,5 1,0 ... in millions
    plt.close(fig)


# -- the language ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "lang"), [
    ({}, "nb"),
    ({"LANG": "C"}, "nb"), ({"LANG": "POSIX"}, "nb"), ({"LANG": "C.UTF-8"}, "nb"),
    ({"LANG": "en_GB.UTF-8"}, "en"), ({"LANG": "en"}, "en"),
    ({"LANG": "nb_NO.UTF-8"}, "nb"), ({"LANG": "no_NO"}, "nb"), ({"LANG": "nn_NO.UTF-8"}, "nb"),
    ({"LANG": "de_DE.UTF-8"}, "nb"),
    ({"LANG": "nb_NO.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "en"),   # LC_MESSAGES before LANG
    ({"LC_ALL": "nb_NO.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "nb"),  # LC_ALL before both
    ({"LC_ALL": "", "LANG": "en_US"}, "en"),                           # an empty one does not count
])
def test_the_language_comes_from_the_locale_and_nb_is_the_default(env, lang):
    assert lang_from_environment(env) == lang


def test_an_explicit_lang_wins_over_the_environment():
    @click.command()
    @lang_option()
    def cmd(lang):
        click.echo(lang)

    runner = CliRunner()
    unset = {"LC_ALL": None, "LC_MESSAGES": None}
    assert runner.invoke(cmd, [], env={**unset, "LANG": "en_US.UTF-8"}).output == "en\n"
    assert runner.invoke(cmd, [], env={**unset, "LANG": "C"}).output == "nb\n"
    assert runner.invoke(cmd, ["--lang", "nb"], env={"LANG": "en_US.UTF-8"}).output == "nb\n"
    assert runner.invoke(cmd, ["--lang", "de"]).exit_code == 2


def test_parameter_labels_or_the_key_as_code():
    assert parameter_label("world.counterfactual.entry_rate_multiplier", "nb") == (
        "jobbsjanser uten tiltaket (faktor)")
    assert parameter_label("contract.prices.job_sustained", "nb") == "pris per resultat «job_sustained»"
    assert parameter_label("world.cohorts[0].size", "en") == "people in cohort 1"
    assert parameter_label("pathway.stages.course.exits[0].p", "nb") == "`pathway.stages.course.exits[0].p`"


# -- every output a person reads: no e-notation, no -0, and bokmål throughout in nb --------------

E_NOTATION = re.compile(r"(?<![\w#])\d+(?:[.,]\d+)?[eE][+-]?\d+\b")
SIGNED = re.compile(r"(?<![\w\d])[-\u2212](\d[\d\u00a0\u202f]*(?:[.,]\d+)?)")


def _text_of(page: str) -> str:
    """The text a reader sees in an HTML page: no style, no embedded images, no tags."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _problems(text: str) -> list[str]:
    """E-notation and negative zeros (``-0``, ``−0,0``) in ``text``."""
    found = E_NOTATION.findall(text)
    for m in SIGNED.finditer(text):
        digits = m.group(1).replace("\u00a0", "").replace("\u202f", "").replace(",", ".")
        if float(digits) == 0:
            found.append(m.group(0))
    return found


def test_the_problem_finder_finds_what_it_should():
    assert _problems("payments 1.15861e+06 and 4.337e-19") == ["1.15861e+06", "4.337e-19"]
    assert _problems("mean -0 and \u22120,0 %, but -0,5 and 2026-12-01 are fine") == ["-0", "\u22120,0"]
    assert _problems("colour #fff8e1; ratio 0,83") == []


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    """A small results directory whose runs carry rounding residue (4.337e-19, -0.0, -1e-12) in
    some KPIs, as a sweep's differences do, with its outputs in both languages."""
    from effekt.experiments.batch import run_batch
    from effekt.experiments.scenario import load_scenario

    out = tmp_path_factory.mktemp("formatting") / "res"
    run_batch(load_scenario(None, ["design.replications=4"]), out, progress=False)
    part = next((out / "runs").rglob("*.parquet"))
    table = pq.read_table(part)
    noise = {"fiscal_npv_fylke": 4.337e-19, "recycled_payments": -0.0, "investor_multiple": 1 - 1e-12,
             "fiscal_npv_other_kommuner": -4.337e-19}
    for name, value in noise.items():
        i = table.schema.get_field_index(name)
        table = table.set_column(i, table.schema.field(i), pa.array([value] * table.num_rows, pa.float64()))
    pq.write_table(table, part)
    return out


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_no_e_notation_and_no_negative_zero_in_any_output(noisy, lang):
    from effekt.experiments.analysis.compare import compare_runs
    from effekt.experiments.analysis.compare import render as compare_render
    from effekt.experiments.cli import main
    from effekt.experiments.summary import headline, load_runs

    runner = CliRunner()
    outputs = {}
    for fmt in ("text", "markdown"):
        r = runner.invoke(main, ["summary", str(noisy), "--format", fmt, "--lang", lang])
        assert r.exit_code == 0, r.output
        outputs[f"summary {fmt}"] = r.output
    runs = load_runs(noisy)
    outputs["run"] = "\n".join(headline(runs, lang=lang))
    other = runs.assign(fiscal_npv_fylke=-4.337e-19, outcome_payments=runs["outcome_payments"] + 1e-10)
    outputs["compare"] = compare_render(compare_runs({"a": runs, "b": other}), lang)
    for what, text in outputs.items():
        assert _problems(text) == [], (what, _problems(text))
    assert "4.337" not in outputs["summary text"] and "4,337" not in outputs["summary text"]


@pytest.fixture(scope="module")
def reports(noisy):
    """The report of ``noisy`` in each language, as the text a reader sees."""
    from effekt.experiments.report import gather, render_html

    data = gather(noisy, ts_runs=1)
    return {lang: _text_of(render_html(data, lang)) for lang in ("nb", "en")}


@pytest.mark.slow  # two reports with their figures
def test_no_e_notation_and_no_negative_zero_in_the_report(reports):
    for lang, text in reports.items():
        assert _problems(text) == [], (lang, _problems(text))


@pytest.mark.slow
def test_an_nb_report_has_no_english_titles_or_labels_and_no_code_names(reports):
    from effekt.contracts import kpis_for
    from effekt.experiments.report_text import TEXT
    from effekt.experiments.scenario import load_scenario

    registry = kpis_for(load_scenario(None).terms)
    text = reports["nb"]
    sections = ["title", "summary", "what", "key", "caveats", "figures", "funnel", "in_work", "payments",
                "irr", "cash", "fiscal", "compare", "mc_caveat", "cf_caveat"]
    english = {k.label_en for k in registry.values() if k.label_en != k.label_nb}
    english |= {TEXT["en"][s] for s in sections if TEXT["en"][s] != TEXT["nb"][s]}
    english |= {"Key numbers", "Caveats", "Figures", "probability of loss", "replications",
                "with the programme"}
    assert sorted(w for w in english if w in text) == []
    assert sorted(k for k in registry if k in text) == []  # labels, not fiscal_npv_kommune
    assert "Nøkkeltall" in text and "Forbehold" in text


def test_summary_filters_kpis_and_suggests_the_name_meant(noisy):
    from effekt.experiments.cli import main

    r = CliRunner().invoke(main, ["summary", str(noisy), "--lang", "en",
                                  "--kpi", "investor_loss,outcome_payments"])
    assert r.exit_code == 0, r.output
    rows = [line.split()[0] for line in r.output.strip().splitlines()[1:]]
    assert rows == ["outcome_payments", "investor_loss"]  # in the table's order
    r = CliRunner().invoke(main, ["summary", str(noisy), "--lang", "en", "--kpi", "investor_los"])
    assert r.exit_code == 2 and "did you mean investor_loss" in r.output and "Traceback" not in r.output
    nb = CliRunner().invoke(main, ["summary", str(noisy), "--lang", "nb", "--kpi", "investor_loss"])
    assert "Sannsynlighet for tap for investorene" in nb.output and "investor_loss" not in nb.output
    assert "snitt" in nb.output and "Budsjett" not in nb.output  # the table only


def test_the_compare_table_in_both_languages():
    import pandas as pd

    from effekt.experiments.analysis.compare import compare_runs, render

    # investor_loss in 2 of 3 replications: Wilson 95 % (0.2077, 0.9385) by hand; b loses in 1 of 3,
    # a paired difference of -1/3, in percentage points
    a = pd.DataFrame({"replication": [0, 1, 2], "investor_loss": [1.0, 1, 0],
                      "outcome_payments": [1e6, 2e6, 3e6]})
    b = a.assign(investor_loss=[0.0, 1, 0], outcome_payments=[1.1e6, 2e6, 3.2e6])
    table = compare_runs({"a": a, "b": b})
    nb, en = render(table, "nb"), render(table, "en")
    assert f"66,7{NB}% [20,8{NB}%; 93,9{NB}%]" in nb and f"66.7{NB}% [20.8{NB}%, 93.9{NB}%]" in en
    assert "Δ -33,3 [" in nb and f"]{NB}%-poeng" in nb and f"]{NB}pp" in en
    # payments: mean 2.0 and 2.1 million, a row in one scale
    assert f"2,0{NB}mill." in nb and f"2.1{NB}million" in en
    assert "Sannsynlighet for tap for investorene" in nb and "investor_loss" not in nb
    assert "investor_loss" in en


def test_a_borrowed_rounding_step_never_hides_a_sign_or_a_nonzero_amount():
    # review 13: the state's -41 065 beside amounts in millions read "0,0 mill.", an interval from
    # -40 000 to 1.2 mill. read "0,0 til 1,2 mill." (never negative)
    from effekt.experiments.formatting import money, money_interval

    assert money(-41065, "nb", like=1.2e6) == "-0,04\u00a0mill.\u00a0kr"
    assert money_interval(-40000, 1.2e6, "nb") == "-0,04 til 1,20\u00a0mill.\u00a0kr"
    assert money_interval(-1.2e6, 0.8e6, "nb") == "-1,2 til 0,8\u00a0mill.\u00a0kr"  # nothing lost: as before
    assert money(-400, "nb", like=50000) == "-400\u00a0kr"
    assert money(-40, "nb", like=1.2e6) == "0,0\u00a0mill.\u00a0kr"  # zero at its own step too: zero


def test_a_chance_never_reads_as_certain_or_impossible_when_it_is_not():
    from effekt.experiments.formatting import probability

    assert probability(1 / 500, "nb") == "under 1\u00a0%" and probability(499 / 500, "en") == "over 99\u00a0%"
    assert probability(0.0, "nb") == "0\u00a0%" and probability(1.0, "nb") == "100\u00a0%"
    assert probability(0.56, "nb") == "56\u00a0%"


def test_a_value_too_small_for_a_borrowed_scale_reads_at_its_own_step_not_in_ten_thousandths():
    # helper D (docs re-run): a state NPV of -400 beside a range in millions read "-0,0004 mill.",
    # and an interval from -400 to 1.4 million "-0,0004 til 1,4000 mill." (a precision no range in
    # millions has). One finer step at most; below that each value at its own step and unit.
    from effekt.experiments.formatting import money, money_interval

    assert money(-4000, "nb", like=1.2e6) == "-4\u00a0000\u00a0kr"
    assert money(-400, "en", like=1.2e6) == "NOK\u00a0-400"
    assert money_interval(-400, 1.4e6, "nb") == "-400\u00a0kr til 1,4\u00a0mill.\u00a0kr"
    assert money_interval(-4000, 1.4e6, "en", unit=False) == "-4\u202f000 to 1.4\u00a0million"
    assert money(-41065, "nb", like=1.2e6) == "-0,04\u00a0mill.\u00a0kr"  # one finer step: as before


def test_a_finer_step_is_not_taken_when_it_rounds_a_value_far_from_itself():
    # review 15: beside millions -4 999 read "-5 000 kr" but -5 001 "-0,01 mill. kr" (-10 000, twice
    # its value). A rounding more than a quarter off: the value at its own step.
    from effekt.experiments.formatting import money

    assert money(-5001, "nb", like=3.6e6) == "-5\u00a0000\u00a0kr"
    assert money(-4999, "nb", like=3.6e6) == "-5\u00a0000\u00a0kr"
    assert money(-15000, "nb", like=3.6e6) == "-15\u00a0000\u00a0kr"  # -0,02 mill. would be a third off
    assert money(-12000, "nb", like=3.6e6) == "-0,01\u00a0mill.\u00a0kr"  # a sixth off: the finer step
