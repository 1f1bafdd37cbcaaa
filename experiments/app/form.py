"""The page's choices as a scenario: a form (plain JSON from the browser) becomes scenario TOML
text on top of a base scenario file, and is validated by the same rules as ``effekt run``
(:func:`effekt.experiments.scenario.load_experiment`), each problem placed beside the field whose
dotted key it names.

Why TOML text and not a scenario object: the page then writes exactly the file the user can
download and run with ``effekt run FILE``, and the run stores that file's path in its manifest,
so the command line, the report and the Parquet tools see the page's run as any other.
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from effekt.contracts import template_names, terms_data
from effekt.experiments.scenario import Experiment, default_scenario_path, load_experiment, read_tree
from effekt.sim import builtin_names
from effekt.specfile import SpecError, read_toml

FIELDS: dict[str, str] = {
    "pathway": "pathway.template",
    "contract": "contract.template",
    "cohort_size": "world.cohorts[0].size",
    "groups": "world.cohorts[0]",
    "horizon_weeks": "world.horizon_weeks",
    "term_months": "contract.contract.term_months",
    "commissioners": "contract.commissioners",
    "replications": "design.replications",
    "seed": "design.seed",
}
"""Each fixed field of the page and the dotted key of the scenario it sets (prices and caps add
``prices.<name>`` -> ``contract.prices.<name>`` and ``caps.<name>`` -> ``contract.caps.<name>``)."""

FIELD_KEYS: dict[str, str] = {"groups": "world.cohorts[0].groups", "prices": "contract.prices",
                              "caps": "contract.caps", "commissioners": "contract.commissioners"}
"""The page's fields that are tables (name = number) and their dotted keys."""

GENERAL = "_general"
"""Where a problem goes that names no field of the page (shown above the run button)."""

_KEY = re.compile(r"^([A-Za-z_][\w.]*(?:\[\d+\][\w.]*)*)")


@dataclass
class Checked:
    """A form checked: the scenario text, the experiment when it is valid, and the problems by field
    (the scenario rules' own messages, each under the field its dotted key names)."""

    toml: str
    experiment: Experiment | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.experiment is not None and not self.errors


def base_path(name_or_path: str | Path | None) -> Path:
    """The base scenario: a built-in scenario's name (``default``, ``koto_sib``: the files in
    experiments/scenarios), a file path, or None for the built-in default."""
    if name_or_path is None or str(name_or_path) in ("", "default"):
        return default_scenario_path()
    builtin = default_scenario_path().parent / f"{name_or_path}.toml"
    if builtin.exists() and not str(name_or_path).endswith(".toml"):
        return builtin
    return Path(name_or_path)


def builtin_scenarios() -> list[str]:
    """The built-in scenarios the page offers as a start (experiments/scenarios/*.toml)."""
    return sorted(p.stem for p in default_scenario_path().parent.glob("*.toml"))


def _number(text: Any) -> Any:
    """A number the page sent as text (``"14"``, ``"45000"``, ``"0.5"``) as int or float; anything else
    as it came, so the scenario rules name what is wrong with it."""
    if not isinstance(text, str):
        return text
    t = text.strip()
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t


def _anchor(ref: Any, folder: Path) -> Any:
    """A template reference of the base file that is a relative path made absolute (the scenario
    text is written elsewhere); a built-in name as it is."""
    if isinstance(ref, str) and ref.endswith(".toml") and not Path(ref).is_absolute():
        return str((folder / ref).resolve())
    return ref


def _numbers(table: Mapping[str, Any]) -> dict[str, Any]:
    """The plain numbers of a contract table (a price given as a table of its own, or as a prior,
    stays as the file has it: the page does not offer it)."""
    return {k: v for k, v in table.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def defaults(base: str | Path | None = None, pathway: str | None = None,
             contract: str | None = None) -> dict[str, Any]:
    """The form as the base scenario fills it (with ``pathway`` / ``contract`` chosen instead of the
    file's templates: then that template's own prices, caps, term and shares), and the choices
    the page offers. Raises :class:`SpecError` for a base file that does not read."""
    path = base_path(base)
    raw = read_toml(path)
    sets = []
    if pathway:  # a JSON string is a TOML basic string
        sets.append(f"pathway.template={json.dumps(pathway)}")
    if contract:
        sets.append(f"contract.template={json.dumps(contract)}")
    tree = read_tree(path, sets)
    d = tree.data
    if contract and contract != raw.get("contract", {}).get("template"):
        c = terms_data(contract)[0]
    else:
        c = d["contract"]
    cohort = d["world"]["cohorts"][0]
    folder = path.resolve().parent
    return {
        "base": str(base or "default"),
        "pathway": pathway or str(_anchor(raw.get("pathway", {}).get("template", ""), folder)),
        "contract": contract or str(_anchor(raw.get("contract", {}).get("template", ""), folder)),
        "cohort_size": cohort.get("size"),
        "groups": dict(cohort.get("groups", {})),
        "group_names": sorted(d["world"].get("groups", {})),
        "horizon_weeks": d["world"].get("horizon_weeks"),
        "term_months": c.get("contract", {}).get("term_months"),
        "prices": _numbers(c.get("prices", {})),
        "caps": _numbers(c.get("caps", {})),
        "commissioners": dict(c.get("commissioners", {})),
        "replications": d["design"].get("replications", 100),
        "seed": d["design"].get("seed", 0),
        "cohorts": len(d["world"]["cohorts"]),
        "choices": {"pathways": builtin_names(), "contracts": template_names(),
                    "scenarios": builtin_scenarios()},
    }


def scenario_data(form: Mapping[str, Any]) -> dict[str, Any]:
    """The base scenario file's data with the form's choices written in (plain TOML data)."""
    path = base_path(form.get("base"))
    raw = copy.deepcopy(read_toml(path))
    folder = path.resolve().parent
    pathway = raw.setdefault("pathway", {})
    contract = raw.setdefault("contract", {})
    for section in (pathway, contract):
        if "template" in section:
            section["template"] = _anchor(section["template"], folder)
    country = raw.get("scenario", {}).get("country")
    if isinstance(country, str) and (folder / country).is_dir():
        raw["scenario"]["country"] = str((folder / country).resolve())
    if form.get("pathway") and _anchor(form["pathway"], folder) != pathway.get("template"):
        raw["pathway"] = pathway = {"template": form["pathway"]}  # another pathway: not the old one's edits
    if form.get("contract") and _anchor(form["contract"], folder) != contract.get("template"):
        raw["contract"] = contract = {"template": form["contract"]}
    world = raw.setdefault("world", {})
    cohorts = world.setdefault("cohorts", [{"name": "kull 1", "start_week": 0}])
    if "cohort_size" in form:
        cohorts[0]["size"] = _number(form["cohort_size"])
    if form.get("groups"):
        cohorts[0]["groups"] = {str(g): _number(v) for g, v in form["groups"].items()
                                if str(v).strip() not in ("", "0")}
    if "horizon_weeks" in form:
        world["horizon_weeks"] = _number(form["horizon_weeks"])
    if form.get("term_months") not in (None, ""):
        contract.setdefault("contract", {})["term_months"] = _number(form["term_months"])
    for part in ("prices", "caps", "commissioners"):
        values = {str(k): _number(v) for k, v in (form.get(part) or {}).items() if str(v).strip() != ""}
        if values:
            contract[part] = {**contract.get(part, {}), **values}
    design = raw.setdefault("design", {})
    for key in ("replications", "seed"):
        if form.get(key) not in (None, ""):
            design[key] = _number(form[key])
    return raw


def scenario_text(form: Mapping[str, Any]) -> str:
    """The form as the scenario file the page runs and offers for download."""
    head = ("# Written by effekt app: run it with `effekt run THIS_FILE` (the same numbers as the page)\n"
            f"# base scenario: {base_path(form.get('base'))}\n\n")
    return head + tomli_w.dumps(scenario_data(form))


def field_of(problem: str, form: Mapping[str, Any] | None = None) -> str:
    """The page's field a scenario problem belongs to: the one whose dotted key is the longest
    prefix of the key the message starts with (``world.cohorts[0].size: ...`` -> ``cohort_size``);
    :data:`GENERAL` when none is."""
    m = _KEY.match(problem.strip())
    if not m:
        return GENERAL
    key = m.group(1)
    keys = dict(FIELDS)
    for part in ("prices", "caps"):
        for name in (form or {}).get(part) or {}:
            keys[f"{part}.{name}"] = f"contract.{part}.{name}"
    best, length = GENERAL, 0
    for name, dotted in keys.items():
        if (key == dotted or key.startswith(dotted + ".") or key.startswith(dotted + "[")) \
                and len(dotted) > length:
            best, length = name, len(dotted)
    return best


def check(form: Mapping[str, Any], folder: str | Path | None = None) -> Checked:
    """Build the scenario of ``form`` and validate it with the scenario rules; the text is written to
    ``folder/scenario.toml`` (a temporary folder when None) and loaded from there, as
    ``effekt run`` would load it. Never raises for bad input: every problem is in ``errors``."""
    tables = {part: [f"{FIELD_KEYS[part]}: a table of name = number, not {type(form[part]).__name__}"]
              for part in FIELD_KEYS if form.get(part) is not None and not isinstance(form[part], Mapping)}
    if tables:
        return Checked("", errors=tables)
    try:
        text = scenario_text(form)
    except SpecError as err:  # the base file itself
        return Checked("", errors={GENERAL: [f"{err.source}: {p}" for p in err.problems]})
    except (TypeError, ValueError, OSError) as err:  # something TOML cannot hold, a file not there
        return Checked("", errors={GENERAL: [f"{type(err).__name__}: {err}"]})
    with tempfile.TemporaryDirectory(prefix="effekt-app-") as tmp:
        where = Path(folder) if folder is not None else Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        path = where / "scenario.toml"
        path.write_text(text, encoding="utf-8")
        try:
            exp = load_experiment(path, sweep=False)
        except SpecError as err:
            errors: dict[str, list[str]] = {}
            for p in err.problems:
                errors.setdefault(field_of(p, form), []).append(p)
            return Checked(text, errors=errors)
        except Exception as err:  # noqa: BLE001 - the page shows it; the server stays up
            return Checked(text, errors={GENERAL: [f"{type(err).__name__}: {err}"]})
    return Checked(text, experiment=exp)


__all__ = ["FIELDS", "GENERAL", "Checked", "base_path", "builtin_scenarios", "check", "defaults",
           "field_of", "scenario_data", "scenario_text"]
