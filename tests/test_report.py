"""The HTML report: content, self-containedness, rebuilding the scenario, and a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from effekt.experiments.analysis.common import scenario_from_results
from effekt.experiments.batch import run_batch
from effekt.experiments.cli import main
from effekt.experiments.report import gather, render_html, write_report
from effekt.experiments.scenario import default_scenario_path, load_experiment, load_scenario

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A small results directory of the default scenario, with a tornado table beside it."""
    out = tmp_path_factory.mktemp("report") / "res"
    run_batch(load_scenario(None, ["design.replications=12"]), out, progress=False)
    (out / "analysis").mkdir()
    pd.DataFrame({"parameter": ["contract.prices.job_sustained", "contract.provider.per_week"],
                  "low": [60000, 640], "high": [120000, 960], "y_low": [-2e5, 1e4],
                  "y_high": [2e5, -5e4], "y_base": [0.0, 0.0], "output": "investor_npv"}
                 ).to_csv(out / "analysis" / "sensitivity_oat.csv", index=False)
    pd.DataFrame({"parameter": ["a", "b"], "S1": [0.6, 0.1], "S1_conf": [0.1, 0.05],
                  "ST": [0.8, 0.2], "ST_conf": [0.1, 0.05], "output": "investor_npv"}
                 ).to_csv(out / "analysis" / "sensitivity_sobol.csv", index=False)
    return out


def test_gather_resimulates_the_stored_replications(results):
    data = gather(results)
    assert data.scenario is not None and not data.notes
    assert set(data.in_work["arm"]) == {"treatment", "control"}
    assert data.in_work["replication"].nunique() == 12
    # at entry everybody in the programme arm is in the first stage, nobody in work
    first = data.in_work[(data.in_work["month"] == 0) & (data.in_work["arm"] == "treatment")]
    assert (first["share"] == 0).all()
    # every referred person reaches the entry stage, in every replication
    entry = data.scenario.world.pathway.pathway.entry
    reach = data.reach[data.reach["stage"] == entry]
    assert (reach["people"] == data.scenario.world.size).all()


def test_a_changed_model_is_flagged(results, tmp_path):
    # tamper with the stored KPIs: the re-simulation no longer reproduces them
    copy = tmp_path / "res"
    shutil.copytree(results, copy)
    runs = pd.read_parquet(copy / "runs")
    for f in (copy / "runs").rglob("*.parquet"):
        f.unlink()
    runs["in_work_12m_treatment"] = 1.0
    (copy / "runs" / "point=0").mkdir(parents=True, exist_ok=True)
    runs.drop(columns=["point"]).to_parquet(copy / "runs" / "point=0" / "x.parquet")
    assert "model has changed" in render_html(gather(copy, ts_runs=3), "en")
    assert "model has changed" not in render_html(gather(results, ts_runs=3), "en")


def test_html_is_self_contained_with_all_figures(results):
    html = render_html(gather(results), "nb", str(results))
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing to fetch
    assert "<script" not in html
    # funnel, in work, payments, IRR, cashflows, public budgets, tornado, Sobol, budgets per year
    assert html.count('src="data:image/png;base64,') == 9
    assert "Global sensitivitet (Sobol)" in html
    for word in ("Sammendrag", "Forbehold", "Andel i arbeid", "kommune", "investor", "utbetalinger"):
        assert word.lower() in html.lower(), word
    # what was simulated, in words, with the numbers of this scenario
    assert "14 personer henvist til løpet «Kongsberg-kull" in html  # the pathway's title_nb
    assert "12 replikasjoner" in html
    assert "Summary" not in html


def test_english_report_and_cli(results, tmp_path):
    out = tmp_path / "r.html"
    r = CliRunner().invoke(main, ["report", str(results), "--lang", "en", "--out", str(out),
                                  "--timeseries-runs", "5"])
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert "Summary" in text and "Share in work by month since entry" in text
    assert "probability of loss" in text


def test_scenario_is_rebuilt_when_its_file_is_gone(tmp_path):
    src = tmp_path / "mine.toml"
    shutil.copy(default_scenario_path(), src)
    sc = load_scenario(src, ["design.replications=3"])
    run_batch(sc, tmp_path / "res", progress=False)
    src.unlink()
    rebuilt = scenario_from_results(tmp_path / "res")
    assert rebuilt.world == sc.world
    assert rebuilt.terms == sc.terms
    assert rebuilt.design.seed == sc.design.seed


def test_sweep_point_is_rebuilt_with_its_values(tmp_path):
    # a two-point sweep: the report of point 1 must re-simulate point 1 (its price and places),
    # so its re-simulated in-work shares equal the stored KPIs of that point
    src = tmp_path / "sweep.toml"
    src.write_text(default_scenario_path().read_text() + '\n[design.levers]\n'
                   '"pathway.capacity.placements.slots" = [3, 12]\n')
    run_batch(load_experiment(src, ["design.replications=3"]), tmp_path / "res", progress=False)
    sc = scenario_from_results(tmp_path / "res", point=1)
    assert sc.world.pathway.capacity["placements"].slots == 12
    assert scenario_from_results(tmp_path / "res", 0).world.pathway.capacity["placements"].slots == 3
    data = gather(tmp_path / "res", point=1)
    at12 = data.in_work[data.in_work["month"] == 12].pivot(index="replication", columns="arm",
                                                            values="share")
    runs = data.runs.set_index("replication")
    assert at12["treatment"].to_numpy() == pytest.approx(runs["in_work_12m_treatment"].to_numpy())
    assert at12["control"].to_numpy() == pytest.approx(runs["in_work_12m_control"].to_numpy())


def test_report_with_investor_tranches_still_draws_payments_and_cashflows(tmp_path):
    # the tranche template names its investors investor.senior / investor.junior
    run_batch(load_scenario(None, ["design.replications=3", 'contract.template="sticking_together"',
                                   "world.horizon_weeks=208"]),
              tmp_path / "res", progress=False)
    html = render_html(gather(tmp_path / "res", ts_runs=3), "en")
    assert "Outcome payments over time" in html and "Cumulative cashflow by party" in html


def test_report_without_a_counterfactual_says_so(tmp_path):
    run_batch(load_scenario(None, ["design.replications=3", 'world.counterfactual.mode="none"']),
              tmp_path / "res", progress=False)
    html = render_html(gather(tmp_path / "res"), "en")
    assert "no counterfactual arm to compare with" in html
    assert "n/a percentage points" not in html
    assert "Public budgets" not in html  # nothing to compare public budgets with


def test_report_of_a_directory_without_results_is_a_clear_error(tmp_path):
    r = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert r.exit_code == 2
    assert "runs" in r.output and "Traceback" not in r.output


def _chromium(page: Path, shot: Path, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--window-size=1100,2400", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)")
def test_report_opens_in_headless_chromium_without_console_errors(results, tmp_path):
    page = write_report(results, tmp_path / "report.html", lang="nb", ts_runs=6)
    shot = tmp_path / "shot.png"
    run = _chromium(page, shot, tmp_path / "profile")
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    # the screenshot shows the page: a real PNG, not blank
    from PIL import Image

    img = Image.open(shot).convert("L")
    assert img.size == (1100, 2400)
    lo, hi = img.getextrema()
    assert hi - lo > 100
    # and the check above can fail: a page with a console error is caught the same way
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>console.error('boom')</script></body></html>")
    run = _chromium(bad, tmp_path / "bad.png", tmp_path / "profile2")
    assert any(":CONSOLE" in line and "boom" in line for line in run.stderr.splitlines())


SCREENSHOTS = Path(__file__).parent / "screenshots"
"""Where the browser test keeps its screenshots of the nb report, page by page (looked at by a
person after a change to the report; the test checks only that each page shows something)."""


def _pages(page: Path, name: str, profile: Path, height: int = 1800) -> list[Path]:
    """Screenshots of ``page`` in headless Chromium, cut into pages of ``height`` pixels, kept in
    :data:`SCREENSHOTS` as ``<name>_<k>.png`` (earlier pages of that name removed first)."""
    from PIL import Image

    shot = profile.parent / f"{name}_full.png"
    run = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={profile}", "--window-size=1100,16000",
         f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    img = Image.open(shot).convert("RGB")
    grey = img.convert("L")
    inked = [y for y in range(0, grey.height, 4)
             if grey.crop((0, y, grey.width, y + 4)).getextrema()[0] < 250]
    bottom = min(grey.height, (inked[-1] if inked else 0) + 40)
    SCREENSHOTS.mkdir(exist_ok=True)
    for old in SCREENSHOTS.glob(f"{name}_*.png"):
        old.unlink()
    kept = []
    for k, top in enumerate(range(0, bottom, height), start=1):
        path = SCREENSHOTS / f"{name}_{k}.png"
        img.crop((0, top, img.width, min(top + height, bottom))).save(path, optimize=True)
        kept.append(path)
    print(f"screenshots of {page.name}: {', '.join(str(p) for p in kept)}")
    return kept


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)")
def test_screenshots_of_the_nb_report_and_of_a_sweep_are_kept(results, tmp_path):
    from PIL import Image

    page = write_report(results, tmp_path / "report.html", lang="nb", ts_runs=6)
    kept = _pages(page, "report_nb", tmp_path / "profile")
    sweep_out = tmp_path / "sweep"
    path = Path(__file__).parents[1] / "experiments" / "scenarios" / "kongsberg_sweep.toml"
    run_batch(load_experiment(path, ["design.replications=2"], sweep=True), sweep_out, progress=False)
    sweep_page = write_report(sweep_out, tmp_path / "sweep.html", lang="nb", point=5, ts_runs=2)
    html = sweep_page.read_text(encoding="utf-8")
    assert "Denne rapporten viser designpunkt 5 av 48" in html and "På tvers av designpunktene" in html
    kept += _pages(sweep_page, "sweep_nb", tmp_path / "profile2")
    assert len(kept) >= 6
    for shot in kept:  # every page shows something: text or a figure, not a blank strip
        lo, hi = Image.open(shot).convert("L").getextrema()
        assert hi - lo > 100, shot
