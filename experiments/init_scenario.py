"""``effekt init``: a scenario file from a few answers, asked at the terminal or read from a
filled-in Excel input sheet (issue 13, item 6).

The answers are the ones a kommune adviser has: which of the built-in pathways, the target group
mix, how many people, which contract template, the price of each outcome, who pays (the kommune's
share; the state pays the rest), and how many replications. :func:`scenario_toml` turns them into a
scenario file that names the built-in pathway and contract as templates and sets only what was
answered, each number marked as the adviser's choice, so ``effekt validate`` and ``effekt run`` take
it as it is.

The Excel input sheet (:func:`write_template`) has one row per answer: the question in bokmål (or
English), the answer cell, what is allowed, and the scenario key; the answer cells carry Excel data
validation (lists of the built-in names, whole numbers, shares between 0 and 1), so Excel refuses
most bad input as it is typed. :func:`answers_from_xlsx` reads it back and names the sheet, the cell
and what is allowed for anything it cannot take.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from effekt.specfile import SpecError, keyed, said
from effekt.titles import title as titled

SHEET = "Scenario"
"""The input sheet's name (the same in both languages: it names a scenario file)."""

LISTS = "Lister"
"""The hidden sheet that holds the allowed values the data validation lists refer to."""

WORDS: dict[str, dict[str, str]] = {
    "nb": {
        "name": "Navn på scenarioet (små bokstaver, tall og _)", "title": "Tittel",
        "pathway": "Forløp (innebygd)", "contract": "Kontraktsmal (innebygd)",
        "size": "Antall deltakere i kullet", "group": "Andel fra målgruppe {g}: {title}",
        "outcome": "Resultat det settes pris på", "price": "Pris per resultat (kr)",
        "kommune_share": "Kommunens andel av betalingene (0-1; staten betaler resten)",
        "replications": "Antall replikasjoner", "horizon_weeks": "Tidshorisont i uker",
        "question": "Spørsmål", "answer": "Svar", "allowed": "Tillatt", "key": "Nøkkel",
        "intro": ("Fyll ut kolonne B og lagre. Deretter: effekt init --from-xlsx FIL --out scenario.toml"),
        "a_horizon": "et heltall fra 1, eller tomt: tre år, eller kontraktens løpetid om den er lengre",
        "a_list": "en av listen", "a_whole": "et heltall fra {low}", "a_share": "et tall fra 0 til 1",
        "a_name": "små bokstaver, tall og _ (begynner med en bokstav)", "a_text": "fritekst",
        "a_price": "et tall fra 0", "a_outcome": "et resultat i kontraktsmalen: {allowed}",
        "groups_sum": "andelene fra målgruppene summerer til {total}, ikke 1 (tillatt: andeler som "
                      "summerer til 1)",
        "bad": "{where}: '{value}' går ikke; tillatt: {allowed}",
        "missing": "{where}: mangler; tillatt: {allowed}",
        "no_sheet": "ingen ark '{sheet}' (arket effekt init --xlsx-template skriver)",
        "not_xlsx": "ikke en Excel-fil (.xlsx) effekt kan lese: {why}",
        "pathway_prompt": "Forløp", "contract_prompt": "Kontraktsmal",
        "groups_prompt": "Målgrupper og andeler, f.eks. A=0.5,R=0.5 ({known})",
        "price_prompt": "Pris per resultat '{outcome}' (kr)",
        "wrote": "skrev {path}",
        "valid": "{path}: gyldig ({n} personer, forløp {pathway}, kontrakt {contract})",
        "next": "Neste: effekt run {path}",
        "exists": "{path} finnes fra før (gi --force for å skrive over den)",
        "or_out": ", eller --out en annen fil",
        "invalid": "{path} ble skrevet, men er ikke gyldig; rett opp og kjør effekt validate {path}:",
    },
    "en": {
        "name": "Name of the scenario (lower-case letters, digits and _)", "title": "Title",
        "pathway": "Pathway (built-in)", "contract": "Contract template (built-in)",
        "size": "Number of participants in the cohort", "group": "Share from target group {g}: {title}",
        "outcome": "Outcome to set a price for", "price": "Price per outcome (NOK)",
        "kommune_share": "The kommune's share of the payments (0-1; the state pays the rest)",
        "replications": "Number of replications", "horizon_weeks": "Horizon in weeks",
        "question": "Question", "answer": "Answer", "allowed": "Allowed", "key": "Key",
        "intro": "Fill in column B and save. Then: effekt init --from-xlsx FILE --out scenario.toml",
        "a_horizon": "a whole number from 1, or empty: three years, or the contract's term if longer",
        "a_list": "one of the list",
        "a_whole": "a whole number from {low}", "a_share": "a number from 0 to 1",
        "a_name": "lower-case letters, digits and _ (starting with a letter)", "a_text": "free text",
        "a_price": "a number from 0", "a_outcome": "an outcome of the contract template: {allowed}",
        "groups_sum": "the target groups' shares sum to {total}, not 1 (allowed: shares summing to 1)",
        "bad": "{where}: '{value}' will not do; allowed: {allowed}",
        "missing": "{where}: missing; allowed: {allowed}",
        "no_sheet": "no sheet '{sheet}' (the sheet effekt init --xlsx-template writes)",
        "not_xlsx": "not an Excel file (.xlsx) effekt can read: {why}",
        "pathway_prompt": "Pathway", "contract_prompt": "Contract template",
        "groups_prompt": "Target groups and shares, e.g. A=0.5,R=0.5 ({known})",
        "price_prompt": "Price per outcome '{outcome}' (NOK)",
        "wrote": "wrote {path}",
        "valid": "{path}: valid ({n} people, pathway {pathway}, contract {contract})",
        "next": "Next: effekt run {path}",
        "exists": "{path} exists (give --force to overwrite it)", "or_out": ", or --out another file",
        "invalid": "{path} was written but does not validate; correct it and run effekt validate {path}:",
    },
}
"""The words of ``effekt init`` and its input sheet in bokmål and English."""

NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Answers:
    """What ``effekt init`` asks. ``groups``: target group -> share (summing to 1); ``prices``:
    outcome -> price per outcome (NOK) for the outcomes whose price is set (the others keep the
    template's); ``kommune_share``: the kommune's share of the outcome payments, the state's the
    rest."""

    name: str = "min_kommune"
    title: str = "Effektkontrakt for et kull"
    pathway: str = "kongsberg_kull"
    groups: dict[str, float] = field(default_factory=lambda: {"A": 0.2, "B": 0.3, "C": 0.3, "D": 0.2})
    size: int = 14
    contract: str = "kongsberg_outcomes"
    prices: dict[str, float] = field(default_factory=dict)
    kommune_share: float = 0.5
    replications: int = 300
    horizon_weeks: int | None = None  # None: three years, or the contract's term if longer
    seed: int = 20261201


@cache
def pathways(lang: str = "en") -> dict[str, str]:
    """The built-in pathways: name -> title in ``lang`` (:func:`effekt.titles.title`)."""
    from effekt.sim import builtin_dir, builtin_names

    return {n: titled(tomllib.loads((builtin_dir() / f"{n}.toml").read_text(encoding="utf-8"))
                      .get("pathway", {}), lang, n) for n in builtin_names()}


@cache
def contracts() -> dict[str, dict[str, Any]]:
    """The built-in contract templates in kroner (those a Norwegian scenario can use): name ->
    its title, its outcomes with their prices, and its commissioners."""
    from effekt.contracts import template_names, templates_dir

    out = {}
    for n in template_names():
        d = tomllib.loads((templates_dir() / f"{n}.toml").read_text(encoding="utf-8"))
        if d.get("contract", {}).get("currency", "NOK") != "NOK":
            continue
        out[n] = {"title": d.get("contract", {}).get("title", n),
                  "title_nb": titled(d.get("contract", {}), "nb", n), "prices": dict(d.get("prices", {})),
                  "commissioners": dict(d.get("commissioners", {})),
                  "term_months": d.get("contract", {}).get("term_months")}
    return out


@cache
def groups() -> dict[str, str]:
    """Norway's built-in target groups: name -> English title."""
    from effekt.sim import builtin_world_data

    return {g: str(t.get("title", g)) for g, t in builtin_world_data()["groups"].items()}


def group_title(g: str, lang: str) -> str:
    """Target group ``g``'s title in ``lang``."""
    from effekt.sim import builtin_world_data

    return titled(builtin_world_data()["groups"].get(g), lang, g)


def outcomes() -> list[str]:
    """Every outcome of the built-in kroner templates (the input sheet's list)."""
    return sorted({o for c in contracts().values() for o in c["prices"]})


def problems(a: Answers, lang: str = "nb") -> list[str]:
    """What is wrong with answers ``a`` (empty when nothing), each naming the answer and what is
    allowed."""
    w, out = WORDS[lang], []

    def bad(what: str, value: Any, allowed: str) -> None:
        out.append(w["bad"].format(where=w[what], value=value, allowed=allowed))

    if not NAME.match(a.name or ""):
        bad("name", a.name, w["a_name"])
    if a.pathway not in pathways():
        bad("pathway", a.pathway, ", ".join(pathways()))
    if a.contract not in contracts():
        bad("contract", a.contract, ", ".join(contracts()))
    known = groups()
    for g, share in a.groups.items():
        if g not in known:
            bad("group", g, ", ".join(known))
        elif not (0 <= share <= 1):
            out.append(w["bad"].format(where=w["group"].format(g=g, title=group_title(g, lang)), value=share,
                                       allowed=w["a_share"]))
    total = sum(a.groups.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        out.append(w["groups_sum"].format(total=_shown(total, lang)))
    if a.size < 1:
        bad("size", a.size, w["a_whole"].format(low=1))
    if a.contract in contracts():
        allowed = contracts()[a.contract]["prices"]
        for o, p in a.prices.items():
            if o not in allowed:
                bad("outcome", o, w["a_outcome"].format(allowed=", ".join(allowed)))
            elif not (p >= 0 and math.isfinite(p)):
                bad("price", p, w["a_price"])
    if not 0 <= a.kommune_share <= 1:
        bad("kommune_share", a.kommune_share, w["a_share"])
    if a.replications < 1:
        bad("replications", a.replications, w["a_whole"].format(low=1))
    if a.horizon_weeks is not None and a.horizon_weeks < 1:
        bad("horizon_weeks", a.horizon_weeks, w["a_whole"].format(low=1))
    return out


DEFAULT_HORIZON_WEEKS = 156
"""Three years: the horizon of a scenario whose contract runs no longer."""


def horizon_weeks(a: Answers) -> int:
    """The horizon of answers ``a``: as answered, else three years or, when the contract's term is
    longer, the weeks it needs (``term_months x 52 / 12``, rounded up), so no outcome inside the
    term falls after the horizon."""
    if a.horizon_weeks is not None:
        return int(a.horizon_weeks)
    term = contracts().get(a.contract, {}).get("term_months") or 0
    return max(DEFAULT_HORIZON_WEEKS, math.ceil(term * 52 / 12))


def _toml_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def scenario_toml(a: Answers, origin: str = "effekt init") -> str:
    """The scenario file of answers ``a``: the built-in pathway and contract as templates, and
    the answers laid over them, each number marked as the adviser's assumption (made by
    ``origin``). Raises :class:`SpecError` when :func:`problems` finds any."""
    found = problems(a, "en")
    if found:  # each in both languages: the English the code matches, the bokmål the reader sees
        raise SpecError(origin, [said(en, nb) for en, nb in zip(found, problems(a, "nb"), strict=True)])
    mark = f"# assumption: chosen in {origin}"
    mix = ", ".join(f"{g} = {_number(s)}" for g, s in a.groups.items())
    kommune, state = round(a.kommune_share, 6), round(1.0 - a.kommune_share, 6)
    lines = [
        f"# Written by {origin}. Every number below is the adviser's choice (an assumption); the",
        "# pathway and the contract are built-in templates whose own numbers carry their sources.",
        "# Check it with `effekt validate`, run it with `effekt run`.",
        "",
        "[scenario]",
        f"name = {_toml_string(a.name)}",
        f"title = {_toml_string(a.title)}",
        "currency = \"NOK\"",
        "",
        "[world]",
        f"horizon_weeks = {horizon_weeks(a)}    "
        + (mark if a.horizon_weeks is not None else "# assumption: three years, or the contract's term "
           "if longer"),
        'counterfactual = { mode = "parallel" }  # the same people under business as usual',
        "",
        "[[world.cohorts]]",
        'name = "kull 1"',
        "start_week = 0",
        f"size = {int(a.size)}    {mark}",
        f"groups = {{ {mix} }}    {mark}",
        "",
        "[pathway]",
        f"template = {_toml_string(a.pathway)}",
        "",
        "[contract]",
        f"template = {_toml_string(a.contract)}",
    ]
    lines += [f"prices.{o} = {_number(p)}    {mark}" for o, p in a.prices.items()]
    lines += [f"commissioners = {{ kommune = {_number(kommune)}, state = {_number(state)} }}    {mark}",
              "", "[design]", f"replications = {int(a.replications)}    {mark}", f"seed = {int(a.seed)}", ""]
    return "\n".join(lines)


# -- the Excel input sheet ----------------------------------------------------------------------

def _rows(lang: str) -> list[tuple[str, str, Any, str, str]]:
    """The input sheet's rows: (key, question, default answer, what is allowed, validation kind)."""
    w, d = WORDS[lang], Answers()
    rows = [("name", w["name"], d.name, w["a_name"], "text"),
            ("title", w["title"], d.title, w["a_text"], "text"),
            ("pathway", w["pathway"], d.pathway, w["a_list"], "pathway"),
            ("size", w["size"], d.size, w["a_whole"].format(low=1), "whole")]
    for g in groups():
        rows.append((f"groups.{g}", w["group"].format(g=g, title=group_title(g, lang)), d.groups.get(g, 0),
                     w["a_share"], "share"))
    rows += [("contract", w["contract"], d.contract, w["a_list"], "contract"),
             ("outcome", w["outcome"], "job_start", w["a_list"], "outcome"),
             ("price", w["price"], 45000, w["a_price"], "price"),
             ("kommune_share", w["kommune_share"], d.kommune_share, w["a_share"], "share"),
             ("replications", w["replications"], d.replications, w["a_whole"].format(low=1), "whole"),
             ("horizon_weeks", w["horizon_weeks"], None, w["a_horizon"], "whole")]
    return rows


FIRST_ROW = 3
"""The row of the first answer on the input sheet (row 1: how to fill it in; row 2: headers)."""


def write_template(path: str | Path, lang: str = "nb") -> Path:
    """Write the blank input sheet (the defaults filled in) to ``path``: sheet :data:`SHEET` with
    the questions in ``lang``, the answers in column B with data validation, what is allowed in C
    and the scenario key in D; the lists on the hidden sheet :data:`LISTS`."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    w = WORDS[lang]
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    lists = wb.create_sheet(LISTS)
    lists.sheet_state = "hidden"
    ranges = {}
    for col, (kind, values) in enumerate((("pathway", list(pathways())), ("contract", list(contracts())),
                                          ("outcome", outcomes())), start=1):
        letter = "ABC"[col - 1]
        lists.cell(row=1, column=col, value=kind)
        for i, v in enumerate(values, start=2):
            lists.cell(row=i, column=col, value=v)
        ranges[kind] = f"{LISTS}!${letter}$2:${letter}${len(values) + 1}"
    ws.cell(row=1, column=1, value=w["intro"]).font = Font(italic=True)
    for j, head in enumerate((w["question"], w["answer"], w["allowed"], w["key"]), start=1):
        ws.cell(row=2, column=j, value=head).font = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")

    def check(kind: str, key: str) -> DataValidation | None:
        """Excel's check of an answer cell of ``kind`` (one per cell, so each says its own rule)."""
        blank = key in ("horizon_weeks",) or key.startswith("groups.")
        if kind == "whole":
            return DataValidation(type="whole", operator="greaterThanOrEqual", formula1="1",
                                  allow_blank=blank)
        if kind == "share":
            return DataValidation(type="decimal", operator="between", formula1="0", formula2="1",
                                  allow_blank=blank)
        if kind == "price":
            return DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
        if kind in ranges:
            return DataValidation(type="list", formula1=f"={ranges[kind]}", allow_blank=False)
        return None

    for i, (key, question, default, allowed, kind) in enumerate(_rows(lang), start=FIRST_ROW):
        ws.cell(row=i, column=1, value=question)
        cell = ws.cell(row=i, column=2, value=default)
        cell.fill = fill
        ws.cell(row=i, column=3, value=allowed)
        ws.cell(row=i, column=4, value=key)
        dv = check(kind, key)
        if dv is not None:
            dv.showErrorMessage, dv.errorTitle, dv.error = True, w["answer"], allowed
            ws.add_data_validation(dv)
            dv.add(cell)
        if kind == "price":
            cell.number_format = "#,##0"
    for letter, width in zip("ABCD", (70, 28, 50, 16), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = f"A{FIRST_ROW}"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def answers_from_xlsx(path: str | Path, lang: str = "nb") -> Answers:
    """The answers of a filled-in input sheet (:func:`write_template`). A bad or missing answer is
    a :class:`SpecError` naming the file, ``Scenario!B<row>`` with its question, and what is
    allowed; all of them at once."""
    from openpyxl import load_workbook

    w, source = WORDS[lang], str(path)
    try:
        wb = load_workbook(path, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for a file that is not a workbook
        raise SpecError(source, [w["not_xlsx"].format(why=f"{type(err).__name__}: {err}")]) from None
    if SHEET not in wb.sheetnames:
        raise SpecError(source, [w["no_sheet"].format(sheet=SHEET)])
    ws = wb[SHEET]
    cells: dict[str, tuple[str, Any]] = {}
    for row in range(FIRST_ROW, ws.max_row + 1):
        key = ws.cell(row=row, column=4).value
        if isinstance(key, str) and key.strip():
            question = ws.cell(row=row, column=1).value or key
            cells[key.strip()] = (f"{SHEET}!B{row} ({question})", ws.cell(row=row, column=2).value)
    found: list[str] = []
    allowed = {k: a for k, _, _, a, _ in _rows(lang)}
    a = Answers(groups={}, prices={})

    def get(key: str, convert, allowed_text: str, required: bool = True):
        where, value = cells.get(key, (f"{SHEET}: {key}", None))
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                found.append(w["missing"].format(where=where, allowed=allowed_text))
            return None
        try:
            return convert(value)
        except (TypeError, ValueError):
            found.append(w["bad"].format(where=where, value=value, allowed=allowed_text))
            return None

    def text(v: Any) -> str:
        return str(v).strip()

    def whole(v: Any) -> int:
        x = _decimal(v)
        if not float(x).is_integer() or x < 1:
            raise ValueError(v)
        return int(x)

    def share(v: Any) -> float:
        x = _decimal(v)
        if not 0 <= x <= 1:
            raise ValueError(v)
        return x

    def price(v: Any) -> float:
        x = _decimal(v)
        if x < 0:
            raise ValueError(v)
        return x

    def one_of(options: list[str]):
        def check(v: Any) -> str:
            if str(v).strip() not in options:
                raise ValueError(v)
            return str(v).strip()
        return check

    name = get("name", text, allowed["name"])
    if name is not None and not NAME.match(name):
        found.append(w["bad"].format(where=cells["name"][0], value=name, allowed=w["a_name"]))
    a.name = name or a.name
    a.title = get("title", text, allowed["title"], required=False) or Answers().title
    a.pathway = get("pathway", one_of(list(pathways())), ", ".join(pathways())) or a.pathway
    a.size = get("size", whole, allowed["size"]) or a.size
    for g in groups():
        s = get(f"groups.{g}", share, allowed[f"groups.{g}"], required=False)
        if s:
            a.groups[g] = s
    contract = get("contract", one_of(list(contracts())), ", ".join(contracts()))
    a.contract = contract or a.contract
    outcome = None
    if contract is not None:  # the outcome is checked against the contract only when that is right
        options = list(contracts()[a.contract]["prices"])
        outcome = get("outcome", one_of(options), w["a_outcome"].format(allowed=", ".join(options)),
                      required=False)
    cost = get("price", price, allowed["price"], required=outcome is not None or contract is None)
    if outcome is not None and cost is not None:
        a.prices[outcome] = cost
    k = get("kommune_share", share, allowed["kommune_share"])
    a.kommune_share = a.kommune_share if k is None else k
    a.replications = get("replications", whole, allowed["replications"]) or a.replications
    a.horizon_weeks = get("horizon_weeks", whole, allowed["horizon_weeks"], required=False)
    total = sum(a.groups.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        where = [cells[f"groups.{g}"][0].split(" ")[0] for g in groups() if f"groups.{g}" in cells]
        span = f"{where[0]}-{where[-1].split('!')[1]}" if where else SHEET
        found.append(keyed(span, w["groups_sum"].format(total=_shown(total, lang))))  # worded in lang
    if found:
        raise SpecError(source, found)
    return a


def _shown(x: float, lang: str) -> str:
    """``x`` as a reader of ``lang`` writes it (``1,5`` in bokmål)."""
    text = f"{round(x, 6):g}"
    return text.replace(".", ",") if lang == "nb" else text


def _decimal(v: Any) -> float:
    """A number from a cell: a number, or text as a Norwegian types it (``0,5``, ``150 000``)."""
    if isinstance(v, bool):
        raise ValueError(v)
    if isinstance(v, int | float):
        x = float(v)
    else:
        x = float(str(v).strip().replace("\u00a0", "").replace(" ", "").replace(",", "."))
    if not math.isfinite(x):
        raise ValueError(v)
    return x


def parse_groups(text: str) -> dict[str, float]:
    """``A=0.5,R=0.5`` (or ``A=0,5;R=0,5``) as {group: share}; ValueError for anything else."""
    out = {}
    for part in re.split(r"[;\s]+|,(?=\s*[A-Za-z])", text.strip()):
        if not part:
            continue
        g, sep, s = part.partition("=")
        if not sep:
            raise ValueError(part)
        out[g.strip()] = _decimal(s)
    if not out:
        raise ValueError(text)
    return out
