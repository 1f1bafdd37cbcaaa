"""``effekt export DIR --xlsx FILE``: a results directory as an Excel workbook for a KS adviser.

Four sheets, named and headed in bokmål by default (``lang="en"`` for English):

* **Sammendrag / Summary**: the scenario, when it was run and exported, and the key numbers
  (people in work with and without the programme, outcome payments, the investors' money
  multiple, probability of loss and IRR where defined, each public budget's NPV) with the 95 %
  interval of the mean and the 5th-95th percentile across replications;
* **Budsjett per år / Budgets by year**: every party's budget by year and item (treatment,
  counterfactual, difference with its 5th-95th percentile across replications, nominal, and the
  difference discounted, whose sum over a party's years is its NPV);
* **KPI-er / KPIs**: every KPI of ``runs/`` with its mean and intervals;
* **Forutsetninger / Assumptions**: every number the scenario used, with the source or the word
  assumption its files give beside it (:mod:`effekt.experiments.assumptions`).

Numbers are written as numbers, never as text, with Excel number formats: the codes are stored in
Excel's invariant form (``#,##0``, ``0.0%``), and Excel shows them in the reader's locale, so a
Norwegian Excel displays ``1 234 567`` and ``41,5 %``. NaN (an undefined IRR) is an empty cell,
not an error value; the workbook holds no formulas. Each sheet's header row is bold and frozen,
and the columns are sized to their contents.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from effekt.specfile import said
from effekt.titles import title as titled

SHEETS: dict[str, dict[str, str]] = {
    "nb": {"summary": "Sammendrag", "budgets": "Budsjett per år", "kpis": "KPI-er",
           "assumptions": "Forutsetninger"},
    "en": {"summary": "Summary", "budgets": "Budgets by year", "kpis": "KPIs", "assumptions": "Assumptions"},
}
"""The sheet names by language (Excel allows 31 characters, no ``[]:*?/\\``)."""

WORDS: dict[str, dict[str, str]] = {
    "nb": {"heading": "Simulert effektkontrakt", "scenario": "Scenario", "title": "Tittel",
           "pathway": "Løp", "contract": "Kontrakt",
           "results": "Resultatmappe", "run": "Kjørt", "exported": "Eksportert", "reps": "Replikasjoner",
           "point": "Designpunkt", "version": "effekt-versjon", "key": "Nøkkeltall", "kpi": "KPI",
           "label": "beskrivelse", "n": "antall", "mean": "gjennomsnitt", "ci_low": "95 % KI, nedre",
           "ci_high": "95 % KI, øvre", "p5": "5 %-persentil", "p50": "median", "p95": "95 %-persentil",
           "discounted": "forskjell, diskontert (summen over år er nåverdien)",
           "note": ("KI: konfidensintervall for gjennomsnittet. Persentilene er spredningen over "
                    "replikasjonene. Beløp i kroner i prisåret; inn i budsjettet positivt, ut negativt. "
                    "Internrenten er med bare der den er definert (antall sier hvor mange).")},
    "en": {"heading": "Simulated outcome contract", "scenario": "Scenario", "title": "Title",
           "pathway": "Pathway", "contract": "Contract",
           "results": "Results directory", "run": "Run", "exported": "Exported", "reps": "Replications",
           "point": "Design point", "version": "effekt version", "key": "Key numbers", "kpi": "KPI",
           "label": "description", "n": "count", "mean": "mean", "ci_low": "95 % CI, low",
           "ci_high": "95 % CI, high", "p5": "5th percentile", "p50": "median", "p95": "95th percentile",
           "discounted": "difference, discounted (its sum over years is the NPV)",
           "note": ("CI: confidence interval of the mean. The percentiles are the spread across "
                    "replications. Amounts in NOK at the price year; into a budget positive, out "
                    "negative. The IRR counts only where it is defined (count says how many).")},
}
"""The words of the workbook in bokmål and English."""

FORMATS = {"money": "#,##0", "share": "0.0%", "indicator": "0.0%", "rate": "0.0%", "ratio": "0.00",
           "count": "#,##0.0", "n": "0", "year": "0", "plain": "General"}
"""Excel number format codes by KPI kind (stored invariant; Excel localises the separators)."""

KEY_KPIS = ("in_work_24m_treatment", "in_work_24m_control", "outcome_payments", "commissioner_paid_kommune",
            "commissioner_paid_state", "investor_multiple", "investor_loss", "investor_irr",
            "fiscal_npv_kommune", "fiscal_npv_state", "fiscal_npv_fylke", "fiscal_npv_other_kommuner",
            "fiscal_npv_total")
"""The KPIs of the summary sheet, in its order (those the results have)."""

STAT_COLUMNS = ("n", "mean", "ci_low", "ci_high", "p5", "p50", "p95")


def _cell_value(v: Any) -> Any:
    """A value Excel can hold: NaN and infinities as empty, numpy scalars as Python numbers."""
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, float) and abs(v) < 1e-9:
        return 0.0  # what rounding leaves of a zero
    return v


def kpi_stats(out: Path, point: int, lang: str) -> tuple[pd.DataFrame, Any]:
    """Every KPI of design ``point``: kpi, label (in ``lang``), kind and :data:`STAT_COLUMNS`, and
    the KPI registry."""
    from effekt.contracts import in_currency_text
    from effekt.experiments.summary import kpi_table, load_runs, parameters

    runs = load_runs(out)
    reg = runs.attrs.get("kpis")
    mine = runs[runs["point"] == point].reset_index(drop=True)
    mine.attrs = runs.attrs
    params = parameters(out)
    table = kpi_table(mine.drop(columns=[p for p in params if p in mine]), registry=reg, lang=lang)
    table = table.reset_index()
    table["kind"] = [reg[k].kind if reg is not None and k in reg else "plain" for k in table["kpi"]]
    currency = getattr(reg, "currency", "NOK")  # the labels in the scenario's money (EUR for Koto-SIB)
    table["label"] = [in_currency_text(str(x), currency, lang) for x in table["label"]]
    return table, (mine, reg)


def budget_sheet(out: Path, runs: pd.DataFrame, reg: Any, point: int, lang: str) -> pd.DataFrame | None:
    """The rows of the budgets sheet: party, year, item (labelled in ``lang``), treatment,
    control, difference, its 5th and 95th percentile (nominal) and the difference discounted;
    without the all-years rows (the sheet sums in Excel). None without ``budgets/``."""
    from effekt.experiments.budgets import ALL_YEARS, budget_detail, item_label, load_budgets, party_label

    try:
        stored = load_budgets(out, point)
    except FileNotFoundError:
        return None
    nominal = budget_detail(stored, runs, registry=reg)
    discounted = budget_detail(stored, runs, "discounted", registry=reg)
    keys = ["party", "year", "item"]
    both = nominal.merge(discounted[[*keys, "difference"]].rename(columns={"difference": "discounted"}),
                         on=keys, how="left")
    both = both[both["year"] != ALL_YEARS].copy()
    both["year"] = both["year"].astype(int)
    both["party"] = both["party"].map(lambda p: party_label(str(p), lang))
    both["item"] = both["item"].map(lambda i: item_label(str(i), lang))
    return both[["party", "year", "item", "treatment", "control", "difference", "low", "high",
                 "discounted"]].reset_index(drop=True)


def _headers(lang: str) -> dict[str, str]:
    from effekt.experiments.budgets import DETAIL_WORDS

    w, d = WORDS[lang], DETAIL_WORDS[lang]
    return {"party": d["party"], "year": d["year"], "item": d["item"], "treatment": d["treatment"],
            "control": d["control"], "difference": d["difference"], "low": d["low"], "high": d["high"],
            "discounted": w["discounted"], "kpi": w["kpi"], "label": w["label"],
            **{c: w[c] for c in STAT_COLUMNS}}


def _write_table(ws, top: int, frame: pd.DataFrame, headers: dict[str, str],
                 formats: dict[str, str] | None = None, row_formats: list[str] | None = None,
                 wrap: tuple[str, ...] = ()) -> int:
    """``frame`` on sheet ``ws`` from row ``top`` (its header there, bold): each column's number
    format from ``formats`` (by column), or, for the statistics columns, the row's from
    ``row_formats``. Returns the last row written."""
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    for j, col in enumerate(frame.columns, start=1):
        cell = ws.cell(row=top, column=j, value=headers.get(col, col))
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        for j, (col, v) in enumerate(zip(frame.columns, row, strict=True), start=1):
            cell = ws.cell(row=top + i, column=j, value=_cell_value(v))
            fmt = (formats or {}).get(col)
            if fmt is None and row_formats is not None and col in STAT_COLUMNS[1:]:
                fmt = row_formats[i - 1]
            if fmt is not None and isinstance(cell.value, int | float):
                cell.number_format = fmt
            if col in wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    return top + len(frame)


def _widths(ws, wide: dict[int, int] | None = None) -> None:
    """Each column as wide as its longest entry (numbers as Excel shows them, about), between 8
    and 60 characters; ``wide``: fixed widths by column number (wrapped text)."""
    from openpyxl.utils import get_column_letter

    best: dict[int, int] = {}
    for row in ws.iter_rows():
        for cell in row:
            v = cell.value
            if v is None:
                continue
            n = len(f"{v:,.1f}") if isinstance(v, float) else len(str(v))
            best[cell.column] = max(best.get(cell.column, 0), n)
    for col, n in best.items():
        ws.column_dimensions[get_column_letter(col)].width = (wide or {}).get(col, min(60, max(8, n + 2)))


def write_workbook(out_dir: str | Path, path: str | Path, lang: str = "nb", point: int = 0) -> Path:
    """Write the workbook of results directory ``out_dir`` (design ``point``) to ``path`` in
    ``lang`` (``nb`` or ``en``); returns the path. Errors: FileNotFoundError for a directory
    without ``runs/`` or ``manifest.json``, ValueError for an unknown language or point."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from effekt.experiments.assumptions import WORDS as ASSUMPTION_WORDS
    from effekt.experiments.assumptions import labelled, read_assumptions

    if lang not in SHEETS:
        raise ValueError(f"language '{lang}'; allowed: {', '.join(SHEETS)}")
    out = Path(out_dir)
    manifest_path = out / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(said(f"{out}: no manifest.json here (is it an effekt results directory?)",
                                     f"{out}: ingen manifest.json her (er det en resultatmappe fra effekt?)"))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    points = manifest.get("points") or [{}]
    if not 0 <= point < len(points):
        raise ValueError(said(f"design point {point}: the results have points 0 to {len(points) - 1}",
                              f"designpunkt {point}: resultatene har punktene 0 til {len(points) - 1}"))
    w, names, heads = WORDS[lang], SHEETS[lang], _headers(lang)
    stats, (runs, reg) = kpi_stats(out, point, lang)
    row_formats = [FORMATS.get(k, "General") for k in stats["kind"]]

    wb = Workbook()
    ws = wb.active
    ws.title = names["summary"]
    info = manifest.get("scenario", {}).get("scenario", {})
    title = (info.get("title_nb") or info.get("title", "")) if lang == "nb" else info.get("title", "")
    ws.cell(row=1, column=1, value=f"{w['heading']}: {title}" if title else w["heading"]).font = Font(
        bold=True, size=14)
    finished = manifest.get("finished") or manifest.get("started")
    run_at = datetime.fromisoformat(finished).replace(tzinfo=None) if finished else None
    resolved = manifest.get("scenario", {})
    pathway = resolved.get("pathway", {}).get("pathway", {})
    contract = resolved.get("contract", {}).get("contract", {})
    facts = [(w["scenario"], info.get("name", "")), (w["title"], title),
             (w["pathway"], titled(pathway, lang, pathway.get("name", ""))),
             (w["contract"], titled(contract, lang, contract.get("name", ""))), (w["results"], str(out)),
             (w["run"], run_at), (w["exported"], datetime.now(UTC).replace(tzinfo=None, microsecond=0)),
             (w["reps"], len(runs)), (w["version"], manifest.get("effekt_version", ""))]
    if len(points) > 1:
        values = ", ".join(f"{k} = {v}" for k, v in (points[point] or {}).items())
        facts.append((w["point"], f"{point}" + (f": {values}" if values else "")))
    for i, (k, v) in enumerate(facts, start=2):
        ws.cell(row=i, column=1, value=k).font = Font(bold=True)
        cell = ws.cell(row=i, column=2, value=v)
        if isinstance(v, datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
    top = len(facts) + 3
    ws.cell(row=top - 1, column=1, value=w["key"]).font = Font(bold=True, size=12)
    key = stats.set_index("kpi").reindex([k for k in KEY_KPIS if k in set(stats["kpi"])]).reset_index()
    key_formats = [FORMATS.get(k, "General") for k in key["kind"]]
    shown = key[["label", *STAT_COLUMNS]].rename(columns={"label": "kpi"})
    end = _write_table(ws, top, shown, {**heads, "kpi": w["key"]}, {"n": FORMATS["n"]}, key_formats)
    ws.cell(row=end + 2, column=1, value=w["note"])
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    _widths(ws, {1: 48})

    budgets = budget_sheet(out, runs, reg, point, lang)
    ws = wb.create_sheet(names["budgets"])
    if budgets is not None:
        money = {c: FORMATS["money"] for c in ("treatment", "control", "difference", "low", "high",
                                               "discounted")}
        _write_table(ws, 1, budgets, heads, {**money, "year": FORMATS["year"]})
        ws.auto_filter.ref = ws.dimensions
    ws.freeze_panes = "A2"
    _widths(ws)

    ws = wb.create_sheet(names["kpis"])
    _write_table(ws, 1, stats[["kpi", "label", *STAT_COLUMNS]], heads, {"n": FORMATS["n"]}, row_formats)
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = ws.dimensions
    _widths(ws, {2: 60})

    ws = wb.create_sheet(names["assumptions"])
    table = labelled(read_assumptions(out, point), lang)
    aw = ASSUMPTION_WORDS[lang]
    _write_table(ws, 1, table, {}, wrap=(aw["source"],))
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = ws.dimensions
    _widths(ws, {4: 90})

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


CSV_FILES: dict[str, dict[str, str]] = {
    "nb": {"summary": "sammendrag.csv", "budgets": "budsjett_per_aar.csv", "kpis": "kpi.csv",
           "assumptions": "forutsetninger.csv"},
    "en": {"summary": "summary.csv", "budgets": "budgets_by_year.csv", "kpis": "kpis.csv",
           "assumptions": "assumptions.csv"},
}
"""The files of ``effekt export --csv DIR`` by language."""


def write_csv_files(out_dir: str | Path, folder: str | Path, lang: str = "nb", point: int = 0) -> list[Path]:
    """The workbook's tables as CSV files in ``folder`` (:data:`CSV_FILES`), in ``lang``'s dialect
    (:mod:`effekt.experiments.excel_csv`: ``;`` and decimal commas with a BOM in ``nb``)."""
    from effekt.experiments.assumptions import labelled, read_assumptions
    from effekt.experiments.excel_csv import write_csv

    if lang not in SHEETS:
        raise ValueError(f"language '{lang}'; allowed: {', '.join(SHEETS)}")
    out, folder = Path(out_dir), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    heads, files = _headers(lang), CSV_FILES[lang]
    stats, (runs, reg) = kpi_stats(out, point, lang)
    written = []
    key = stats.set_index("kpi").reindex([k for k in KEY_KPIS if k in set(stats["kpi"])]).reset_index()
    written.append(write_csv(key[["kpi", "label", *STAT_COLUMNS]].rename(columns=heads),
                             folder / files["summary"], lang))
    written.append(write_csv(stats[["kpi", "label", *STAT_COLUMNS]].rename(columns=heads),
                             folder / files["kpis"], lang))
    budgets = budget_sheet(out, runs, reg, point, lang)
    if budgets is not None:
        written.append(write_csv(budgets.rename(columns=heads), folder / files["budgets"], lang,
                                 significant=15))
    numbers = labelled(read_assumptions(out, point), lang)
    written.append(write_csv(numbers, folder / files["assumptions"], lang, significant=15))
    return written
