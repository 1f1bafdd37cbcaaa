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
import math
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from effekt.contracts import DESIGNS, EvaluationDesign, template_names, terms_data
from effekt.experiments.messages import said_of
from effekt.experiments.scenario import Experiment, default_scenario_path, load_experiment, read_tree
from effekt.sim import builtin_names
from effekt.specfile import SpecError, keyed, problem_text, read_toml
from effekt.titles import title as titled

FIELDS: dict[str, str] = {
    "pathway": "pathway.template",
    "contract": "contract.template",
    "cohort_size": "world.cohorts[0].size",
    "groups": "world.cohorts[0]",
    "horizon_weeks": "world.horizon_weeks",
    "long_run_years": "world.long_run_years",
    "evaluation_design": "evaluation",
    "counterfactual_mode": "world.counterfactual",
    "treatment_share": "world.counterfactual.treatment_share",
    "term_months": "contract.contract.term_months",
    "commissioners": "contract.commissioners",
    "replications": "design.replications",
    "seed": "design.seed",
}
"""Each fixed field of the page and the dotted key of the scenario it sets (prices and caps add
``prices.<name>`` -> ``contract.prices.<name>`` and ``caps.<name>`` -> ``contract.caps.<name>``; the
cohorts after the first add ``cohorts.<i>`` -> ``world.cohorts[<i>]``)."""

FIELD_KEYS: dict[str, str] = {"groups": "world.cohorts[0].groups", "prices": "contract.prices",
                              "caps": "contract.caps", "commissioners": "contract.commissioners"}
"""The page's fields that are tables (name = number) and their dotted keys."""

COUNTERFACTUAL_MODES: dict[str, tuple[str, str]] = {
    "parallel": ("de samme personene med og uten tiltaket (parallelt)",
                 "the same people with and without the programme (parallel)"),
    "rct": ("loddtrekning: en andel inn i tiltaket, resten kontrollgruppe (RCT)",
            "a lottery: a share into the programme, the rest control (RCT)"),
    "none": ("ingen kontrollgruppe", "no control arm"),
}
"""``world.counterfactual.mode`` as the page offers it, named in (nb, en) (sim's World docs)."""

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
    titles: dict[str, str] = field(default_factory=dict)
    """The variant's title by language (the base scenario's, with the page's changes named)."""
    confirm: bool = False
    """Refused only because it might not fit in memory: the page may ask and run it anyway."""

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


def _plain(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _numbers(table: Mapping[str, Any]) -> dict[str, Any]:
    """The plain numbers of a contract table (a price given as a table of its own, or as a prior,
    stays as the file has it: the page does not offer it, :func:`_fixed` shows it)."""
    return {k: v for k, v in table.items() if _plain(v)}


def _inline(v: Any) -> str:
    """A value as inline TOML (``{ default = 45000, by_group = { A = 50000 } }``)."""
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {_inline(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_inline(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v, ensure_ascii=False) if isinstance(v, str) else f"{v}"


def _fixed(table: Mapping[str, Any]) -> dict[str, str]:
    """The entries of a contract table the page cannot edit (a price by group, with a ladder, or
    drawn from a prior), each as inline TOML: shown read-only with a note, so the user sees they
    are there and run as the file has them, not silently kept."""
    return {str(k): _inline(v) for k, v in table.items() if not _plain(v)}


def designs(evaluation: Mapping[str, Any]) -> list[str]:
    """The evaluation designs the page offers for a scenario whose ``[evaluation]`` is
    ``evaluation``: every design but ``historical`` unless the file gives its baseline and source
    (the page does not edit those shares; the scenario rules then say what else a design cannot
    evaluate, beside the field)."""
    has_baseline = bool(evaluation.get("baseline")) and bool(str(evaluation.get("source", "")).strip())
    return [d for d in DESIGNS if d != "historical" or has_baseline]


def design_label(design: str, lang: str) -> str:
    """An evaluation design's name in ``lang`` (the contracts' own words); the key for another."""
    return EvaluationDesign.model_construct(design=design).label(lang) if design in DESIGNS else str(design)


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
    evaluation = d.get("evaluation", {}) or {}
    info = d.get("scenario", {})
    more = [{"name": str(c.get("name", f"kull {i + 1}")), "size": c.get("size"),
             "start_week": c.get("start_week", 0), "groups": dict(c.get("groups", {}))}
            for i, c in enumerate(d["world"]["cohorts"]) if i > 0]
    return {
        "base": str(base or "default"),
        "pathway": pathway or str(_anchor(raw.get("pathway", {}).get("template", ""), folder)),
        "contract": contract or str(_anchor(raw.get("contract", {}).get("template", ""), folder)),
        "cohort_size": cohort.get("size"),
        "groups": dict(cohort.get("groups", {})),
        "group_names": sorted(d["world"].get("groups", {})),
        "horizon_weeks": d["world"].get("horizon_weeks"),
        "long_run_years": d["world"].get("long_run_years"),
        "evaluation_design": evaluation.get("design", "randomised"),
        "counterfactual_mode": (d["world"].get("counterfactual") or {}).get("mode", "parallel"),
        "treatment_share": (d["world"].get("counterfactual") or {}).get("treatment_share"),
        "more_cohorts": more,
        "fixed": {"prices": _fixed(c.get("prices", {})), "caps": _fixed(c.get("caps", {}))},
        "titles": {lang: titled(info, lang, fallback=str(info.get("name", ""))) for lang in ("nb", "en")},
        "term_months": c.get("contract", {}).get("term_months"),
        "prices": _numbers(c.get("prices", {})),
        "caps": _numbers(c.get("caps", {})),
        "commissioners": dict(c.get("commissioners", {})),
        "replications": d["design"].get("replications", 100),
        "seed": d["design"].get("seed", 0),
        "cohorts": len(d["world"]["cohorts"]),
        "choices": {"pathways": builtin_names(), "contracts": template_names(),
                    "scenarios": builtin_scenarios(), "designs": designs(evaluation),
                    "counterfactual_modes": {k: list(v) for k, v in COUNTERFACTUAL_MODES.items()},
                    "design_labels": {k: {lang: design_label(k, lang) for lang in ("nb", "en")}
                                      for k in DESIGNS}},
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
    for i, c in enumerate(form.get("more_cohorts") or [], start=1):
        if not isinstance(c, Mapping) or i >= len(cohorts):
            continue
        for key in ("size", "start_week"):
            if str(c.get(key, "")).strip() != "":
                cohorts[i][key] = _number(c[key])
        if isinstance(c.get("groups"), Mapping) and c["groups"]:
            cohorts[i]["groups"] = {str(g): _number(v) for g, v in c["groups"].items()
                                    if str(v).strip() not in ("", "0")}
    if "horizon_weeks" in form:
        world["horizon_weeks"] = _number(form["horizon_weeks"])
    if "long_run_years" in form:  # empty: no long run
        if str(form["long_run_years"] or "").strip() == "":
            world.pop("long_run_years", None)
        else:
            world["long_run_years"] = _number(form["long_run_years"])
    if form.get("counterfactual_mode"):  # who the programme is compared with: parallel, rct, none
        cf = world.setdefault("counterfactual", {})
        cf["mode"] = form["counterfactual_mode"]
        if form["counterfactual_mode"] == "rct" and str(form.get("treatment_share") or "").strip() != "":
            cf["treatment_share"] = _number(form["treatment_share"])
    if form.get("evaluation_design"):
        evaluation = raw.setdefault("evaluation", {})
        evaluation["design"] = form["evaluation_design"]
        if form["evaluation_design"] != "historical":  # a baseline belongs to that design alone
            evaluation.pop("baseline", None)
            evaluation.pop("source", None)
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
    titles = form.get("titles")
    if isinstance(titles, Mapping) and titles.get("en"):
        info = raw.setdefault("scenario", {})
        info["title"], info["title_nb"] = str(titles["en"]), str(titles.get("nb") or titles["en"])
    return raw


def _same(a: Any, b: Any) -> bool:
    """The page's text and the file's number the same value (``"14"`` and 14, ``"0.20"`` and 0.2)."""
    a, b = _number(a), _number(b)
    if _plain(a) and _plain(b):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
    return str(a if a is not None else "").strip() == str(b if b is not None else "").strip()


def changes(form: Mapping[str, Any], base: Mapping[str, Any], lang: str) -> list[str]:
    """What the page changed against ``base`` (:func:`defaults` of the same base file), each
    named in ``lang`` (``antall deltakere 20``, ``job_start 60000``): the variant's title says them,
    so two variants of one scenario never show the same heading."""
    from effekt.experiments.app.labels import CHANGE_WORDS

    words = CHANGE_WORDS[lang]
    out = []
    for key in ("pathway", "contract"):
        if form.get(key) and not _same(form[key], base.get(key)):
            out.append(f"{words[key]} {str(form[key]).split('/')[-1].removesuffix('.toml')}")
    for key in ("cohort_size", "horizon_weeks", "long_run_years", "treatment_share", "term_months",
                "replications", "seed"):
        mode = form.get("counterfactual_mode", base.get("counterfactual_mode"))
        if key == "treatment_share" and mode != "rct":
            continue  # a lottery's share, named only under a lottery
        if key in form and not _same(form.get(key), base.get(key)):
            value = str(form.get(key) or "").strip() or words["none"]
            out.append(f"{words[key]} {value}")
    mode = form.get("counterfactual_mode")
    if mode and mode != base.get("counterfactual_mode"):
        out.append(COUNTERFACTUAL_MODES[mode][0 if lang == "nb" else 1].split(" (")[-1].rstrip(")")
                   if mode in COUNTERFACTUAL_MODES else str(mode))
    if form.get("evaluation_design") and form["evaluation_design"] != base.get("evaluation_design"):
        out.append(design_label(str(form["evaluation_design"]), lang))
    for part in ("groups", "prices", "caps", "commissioners"):
        given = form.get(part) if isinstance(form.get(part), Mapping) else {}
        old = base.get(part) or {}
        for name, value in given.items():
            if str(value).strip() in ("", "0") and name not in old:
                continue
            if not _same(value, old.get(name)):
                out.append(f"{name} {str(value).strip()}")
    for i, c in enumerate(form.get("more_cohorts") or [], start=1):
        olds = base.get("more_cohorts") or []
        if isinstance(c, Mapping) and i <= len(olds):
            for key in ("size", "start_week"):
                if key in c and not _same(c[key], olds[i - 1].get(key)):
                    out.append(f"{olds[i - 1]['name']}: {words['cohort_' + key]} {str(c[key]).strip()}")
    return out


def variant_titles(form: Mapping[str, Any]) -> dict[str, str]:
    """The variant's title in nb and en: the base scenario's title (of the base file, whatever
    pathway or contract the page chose), then the changes in parentheses."""
    try:
        base = defaults(form.get("base"))
    except (SpecError, OSError, ValueError, TypeError, KeyError, IndexError):
        return {}
    out = {}
    for lang in ("nb", "en"):
        named = changes(form, base, lang)
        out[lang] = base["titles"][lang] + (f" ({', '.join(named)})" if named else "")
    return out


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
    for i in range(1, len((form or {}).get("more_cohorts") or []) + 1):
        keys[f"cohorts.{i}"] = f"world.cohorts[{i}]"
    for part in ("prices", "caps"):
        for name in (form or {}).get(part) or {}:
            keys[f"{part}.{name}"] = f"contract.{part}.{name}"
    best, length = GENERAL, 0
    for name, dotted in keys.items():
        if (key == dotted or key.startswith(dotted + ".") or key.startswith(dotted + "[")) \
                and len(dotted) > length:
            best, length = name, len(dotted)
    return best


def check(form: Mapping[str, Any], folder: str | Path | None = None, lang: str = "en") -> Checked:
    """Build the scenario of ``form`` and validate it with the scenario rules; the text is written to
    ``folder/scenario.toml`` (a temporary folder when None) and loaded from there, as
    ``effekt run`` would load it. Never raises for bad input: every problem is in ``errors``, in
    ``lang`` as ``effekt validate`` words it (:func:`effekt.specfile.problem_text`: in nb the
    framing and the common messages in bokmål, a rule's own wording as written). The scenario's
    title becomes the variant's (:func:`variant_titles`)."""
    checked = _check(form, folder)
    if lang != "en":
        checked.errors = {k: [problem_text(p, lang) for p in v] for k, v in checked.errors.items()}
    return checked


def _check(form: Mapping[str, Any], folder: str | Path | None = None) -> Checked:
    tables = {part: [f"{FIELD_KEYS[part]}: a table of name = number, not {type(form[part]).__name__}"]
              for part in FIELD_KEYS if form.get(part) is not None and not isinstance(form[part], Mapping)}
    if tables:
        return Checked("", errors=tables)
    titles = variant_titles(form) if isinstance(form.get("more_cohorts", []), list) else {}
    form = {**form, "titles": titles}
    try:
        text = scenario_text(form)
    except SpecError as err:  # the base file itself
        return Checked("", errors={GENERAL: [keyed(err.source, p) for p in err.problems]})
    except (TypeError, ValueError, OSError) as err:  # something TOML cannot hold, a file not there
        return Checked("", errors={GENERAL: [keyed(type(err).__name__, said_of(err))]})
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
            return Checked(text, errors={GENERAL: [keyed(type(err).__name__, said_of(err))]})
    return Checked(text, experiment=exp, titles=titles)


__all__ = ["COUNTERFACTUAL_MODES", "FIELDS", "GENERAL", "Checked", "base_path", "builtin_scenarios",
           "changes", "check", "defaults", "designs", "field_of", "scenario_data",
           "scenario_text", "variant_titles"]
