"""``effekt app`` in a real browser: Debian's chromium driven headless by chromium-driver through
Selenium. The page loads without console errors; a user changes the cohort size and a price, runs
and sees the numbers change; the downloaded scenario file run by ``effekt run`` gives the page's
numbers; bad input gets the scenario rules' message beside its field and the server stays up; two
tabs running at once each get their own results. Screenshots are kept in the test's folder (and
copied to ``$EFFEKT_SCREENSHOTS`` when set)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists() or not Path(DRIVER).exists(),
                       reason="needs Debian's chromium and chromium-driver (apt-get install "
                              "chromium-driver)"),
]
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install 'effekt[test]')")
pytest.importorskip("uvicorn", reason="needs the app extra (pip install 'effekt[app]')")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from effekt.experiments.app.server import serving  # noqa: E402
from effekt.experiments.summary import load_runs  # noqa: E402

REPS = 40  # replications per run in these tests: enough for numbers that move, quick on 2 cores


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("app_runs"), workers=2) as (url, app):
        yield url, app


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1800", f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.downloads = downloads
    driver.shots = tmp_path
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver, name: str) -> Path:
    path = driver.shots / f"{name}.png"
    driver.save_screenshot(str(path))
    keep = os.environ.get("EFFEKT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)
    return path


def _open(driver, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.body.dataset.ready") == "1")
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "f-cohort_size").get_attribute("value"))
    auto = driver.find_element(By.ID, "auto")
    if auto.is_selected():  # the tests press run themselves
        auto.click()


def _set(driver, element_id: str, value: str) -> None:
    box = driver.find_element(By.ID, element_id)
    box.clear()
    box.send_keys(value)


def _run(driver, timeout: float = 180) -> str:
    """Press run and wait for the results; returns the run's id."""
    old = driver.find_element(By.ID, "results").get_attribute("data-run")
    driver.find_element(By.ID, "run").click()
    WebDriverWait(driver, timeout).until(
        lambda d: (d.find_element(By.ID, "results").get_attribute("data-run") or old) != old
        and d.find_element(By.ID, "status").text.startswith(("Ferdig", "Done")))
    return driver.find_element(By.ID, "results").get_attribute("data-run")


def _numbers(driver) -> dict[str, float]:
    rows = driver.find_elements(By.CSS_SELECTOR, "#r-numbers tbody tr")
    return {r.get_attribute("data-kpi"): float(r.get_attribute("data-mean")) for r in rows
            if r.get_attribute("data-mean") not in (None, "null")}


def _severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _state(url: str, rid: str) -> dict:
    with urllib.request.urlopen(f"{url}/api/run/{rid}") as r:
        return json.load(r)


def test_change_run_download_and_the_cli_agrees(server, browser, tmp_path):
    url, _ = server
    _open(browser, f"{url}/?lang=nb")
    assert _severe(browser) == []
    assert "Antall deltakere i kullet" in browser.page_source  # nb by default
    _shot(browser, "app_loaded")
    _set(browser, "f-replications", str(REPS))
    first = _run(browser)
    before = _numbers(browser)
    assert {"in_work_12m_treatment", "outcome_payments", "investor_loss"} <= set(before)
    _set(browser, "f-cohort_size", "30")
    _set(browser, "f-prices.job_start", "60000")
    second = _run(browser)
    assert second != first
    after = _numbers(browser)
    assert after["outcome_payments"] != before["outcome_payments"]
    assert browser.find_elements(By.CSS_SELECTOR, "#plot-inwork svg polyline")  # the plot is drawn
    assert browser.find_elements(By.CSS_SELECTOR, "#plot-budgets svg rect")
    _shot(browser, "app_results")
    assert _severe(browser) == []

    browser.find_element(By.ID, "d-toml").click()
    deadline = time.monotonic() + 30
    while not list(browser.downloads.glob("*.toml")) and time.monotonic() < deadline:
        time.sleep(0.2)
    files = list(browser.downloads.glob("*.toml"))
    assert len(files) == 1, "the scenario file was not downloaded"
    text = files[0].read_text(encoding="utf-8")
    assert "size = 30" in text and "job_start = 60000" in text

    out = tmp_path / "cli_results"
    cli = subprocess.run([str(Path(sys.executable).parent / "effekt"), "run", str(files[0]), "--out",
                          str(out), "-q"], capture_output=True, text=True, timeout=600)
    assert cli.returncode == 0, cli.stderr
    runs = load_runs(out)
    assert len(runs) == REPS
    for kpi, value in after.items():  # the same KPIs as the page, to the last digit
        assert runs[kpi].astype(float).mean() == pytest.approx(value, rel=1e-12, abs=1e-12), kpi


def test_bad_input_gets_its_message_beside_the_field(server, browser):
    url, _ = server
    _open(browser, f"{url}/?lang=en")
    _set(browser, "f-cohort_size", "0")
    browser.find_element(By.ID, "run").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "err-cohort_size").text)
    assert "world.cohorts[0].size" in browser.find_element(By.ID, "err-cohort_size").text
    assert "bad" in browser.find_element(By.ID, "f-cohort_size").get_attribute("class")
    _set(browser, "f-cohort_size", "14")
    _set(browser, "f-commissioners.kommune", "0.7")
    browser.find_element(By.ID, "run").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "err-commissioners").text)
    assert "shares sum to 1.2" in browser.find_element(By.ID, "err-commissioners").text
    _set(browser, "f-commissioners.kommune", "0.5")
    _set(browser, "f-horizon_weeks", "tjue")
    browser.find_element(By.ID, "run").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "err-horizon_weeks").text)
    _shot(browser, "app_bad_input")
    with urllib.request.urlopen(f"{url}/api/labels?lang=en") as r:  # the server is still up
        assert json.load(r)["run"] == "Run"
    assert _severe(browser) == []


def test_two_tabs_running_at_once_do_not_mix(server, browser):
    url, app = server
    _open(browser, f"{url}/?lang=nb")
    first = browser.current_window_handle
    _set(browser, "f-replications", str(REPS))
    _set(browser, "f-cohort_size", "25")
    browser.switch_to.new_window("tab")
    second = browser.current_window_handle
    _open(browser, f"{url}/?lang=nb")
    _set(browser, "f-replications", str(REPS))
    _set(browser, "f-cohort_size", "8")
    browser.find_element(By.ID, "run").click()  # tab 2 starts, then tab 1 while it runs
    browser.switch_to.window(first)
    browser.find_element(By.ID, "run").click()
    seen = {}
    for handle, size in ((first, 25), (second, 8)):
        browser.switch_to.window(handle)
        WebDriverWait(browser, 300).until(
            lambda d: d.find_element(By.ID, "results").get_attribute("data-run")
            and d.find_element(By.ID, "status").text.startswith("Ferdig"))
        rid = browser.find_element(By.ID, "results").get_attribute("data-run")
        state = _state(url, rid)
        manifest = json.loads((Path(state["out"]) / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["scenario"]["world"]["cohorts"][0]["size"] == size
        runs = load_runs(state["out"])
        shown = _numbers(browser)
        assert runs["outcome_payments"].mean() == pytest.approx(shown["outcome_payments"], rel=1e-12)
        seen[size] = (rid, shown["outcome_payments"])
        _shot(browser, f"app_tab_{size}")
    assert seen[25][0] != seen[8][0] and seen[25][1] != seen[8][1]


def test_variants_side_by_side_under_common_random_numbers(server, browser):
    url, _ = server
    _open(browser, f"{url}/?lang=nb")
    _set(browser, "f-replications", str(REPS))
    _run(browser)
    browser.find_element(By.ID, "keep").click()
    _set(browser, "f-prices.job_start", "30000")
    _run(browser)
    browser.find_element(By.ID, "keep").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#v-table tr[data-kpi]"))
    assert "felles tilfeldige tall" in browser.find_element(By.ID, "v-crn").text
    row = browser.find_element(By.CSS_SELECTOR, '#v-table tr[data-kpi="in_work_12m_treatment"]')
    cells = row.find_elements(By.TAG_NAME, "td")
    assert len(cells) == 3
    # a price changes no one's path: under common random numbers the difference is exactly nil
    assert "(0,0 %; 0,0 % – 0,0 %)" in cells[2].text
    paid = browser.find_element(By.CSS_SELECTOR, '#v-table tr[data-kpi="outcome_payments"]')
    assert "(0;" not in paid.find_elements(By.TAG_NAME, "td")[2].text  # the price moved the payments
    assert "forskjell fra variant 1" in browser.find_element(By.ID, "v-crn").text
    browser.execute_script("document.getElementById('variants').scrollIntoView()")
    _shot(browser, "app_variants")
    assert _severe(browser) == []


def test_results_come_in_provisional_with_the_variant_s_title(server, browser):
    url, _ = server
    _open(browser, f"{url}/?lang=nb")
    browser.execute_script("""
        window._seen = [];
        const box = document.getElementById('r-provisional');
        new MutationObserver(() => window._seen.push(box.textContent))
          .observe(box, {childList: true, characterData: true, subtree: true});
    """)
    _set(browser, "f-replications", "300")
    _set(browser, "f-cohort_size", "30")
    rid = _run(browser, timeout=600)
    seen = browser.execute_script("return window._seen")
    provisional = [t for t in seen if t.startswith("Foreløpig")]
    assert provisional, f"no provisional numbers were shown: {seen}"
    k_of_n = provisional[0].removeprefix("Foreløpig: ").split(" replikasjoner")[0]
    k, n = (int(x) for x in k_of_n.split(" av "))
    assert 0 < k < n == 300
    assert browser.find_element(By.ID, "r-provisional").text == "Endelig: 300 replikasjoner"
    title = browser.find_element(By.ID, "r-title").text
    assert title.startswith("Ett Kongsberg-kull på 14") and title.endswith("(antall 30)")
    assert _state(url, rid)["result"]["provisional"] is False
    _shot(browser, "app_final_titled")
    assert _severe(browser) == []


def test_design_long_run_and_nb_messages_beside_the_fields(server, browser):
    url, _ = server
    _open(browser, f"{url}/?lang=nb")
    from selenium.webdriver.support.ui import Select

    design = Select(browser.find_element(By.ID, "f-evaluation_design"))
    assert [o.get_attribute("value") for o in design.options] == ["randomised", "matched", "gross"]
    assert design.first_selected_option.text == "randomisert kontrollgruppe"
    mode = Select(browser.find_element(By.ID, "f-counterfactual_mode"))
    assert [o.get_attribute("value") for o in mode.options] == ["parallel", "rct", "none"]
    assert not browser.find_element(By.ID, "f-treatment_share").is_displayed()
    mode.select_by_value("rct")
    assert browser.find_element(By.ID, "f-treatment_share").is_displayed()
    _set(browser, "f-treatment_share", "1.5")
    browser.find_element(By.ID, "run").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "err-treatment_share").text)
    assert "skal være mindre enn 1" in browser.find_element(By.ID, "err-treatment_share").text
    mode.select_by_value("parallel")
    design.select_by_value("matched")
    _set(browser, "f-long_run_years", "10")
    browser.find_element(By.ID, "run").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "err-long_run_years").text)
    assert "evaluation.design = 'matched'" in browser.find_element(By.ID, "err-long_run_years").text
    _set(browser, "f-long_run_years", "")
    _set(browser, "f-cohort_size", "0")
    browser.find_element(By.ID, "run").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "err-cohort_size").text)
    assert browser.find_element(By.ID, "err-cohort_size").text == \
        "world.cohorts[0].size: skal være større enn eller lik 1"
    _shot(browser, "app_nb_messages")
    assert _severe(browser) == []


def test_old_runs_are_deleted_only_after_the_user_agrees(server, browser):
    url, app = server
    _open(browser, f"{url}/?lang=nb")
    _set(browser, "f-replications", "4")
    rid = _run(browser)
    folder = Path(_state(url, rid)["out"]).parent
    mine = f'#h-table tr[data-run="{rid}"]'
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, mine))
    row = browser.find_element(By.CSS_SELECTOR, mine)
    assert "Antall 14, Replikasjoner 4" in row.text and "(replikasjoner 4)" in row.text
    browser.execute_script("document.getElementById('history').scrollIntoView()")
    _shot(browser, "app_old_runs")
    row.find_element(By.CSS_SELECTOR, "button.delete").click()
    alert = WebDriverWait(browser, 10).until(lambda d: d.switch_to.alert)
    assert rid in alert.text and str(folder) in alert.text
    alert.dismiss()  # the user says no: nothing is deleted
    time.sleep(0.5)
    assert folder.is_dir()
    browser.find_element(By.CSS_SELECTOR, f'#h-table tr[data-run="{rid}"] button.delete').click()
    WebDriverWait(browser, 10).until(lambda d: d.switch_to.alert).accept()
    WebDriverWait(browser, 30).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, f'#h-table tr[data-run="{rid}"]'))
    assert not folder.exists() and folder.parent == app.state.effekt.root
    assert _severe(browser) == []
