"""Bad contract files fail with a message naming the file, the key and what is allowed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from effekt.contracts import load_terms, terms_data
from effekt.contracts.terms import templates_dir
from effekt.specfile import SpecError


def write_variant(tmp_path: Path, edit) -> Path:
    data = tomllib.loads((templates_dir() / "kongsberg_outcomes.toml").read_text())
    edit(data)
    path = tmp_path / "bad_contract.toml"
    path.write_text(_dump(data))
    return path


def _dump(data: dict, prefix: str = "") -> str:
    """A tiny TOML writer for the test's nested dicts (tables, scalars, lists of scalars/tables)."""
    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + "}"
        return repr(v)

    lines, tables = [], []
    for k, v in data.items():
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            lines.append(f"{k} = {val(v)}")
    out = "\n".join(lines) + "\n"
    for k, v in tables:
        name = f"{prefix}{k}"
        out += f"\n[{name}]\n" + _dump(v, name + ".")
    return out


@pytest.mark.parametrize(("edit", "key", "words"), [
    (lambda d: d["commissioners"].update(kommune=0.6), "commissioners", "sum to 1.1"),
    (lambda d: d["prices"].update(job_start=-5), "prices.job_start", "negative"),
    (lambda d: d["prices"].update(job_strat=5), "prices", "job_strat"),
    (lambda d: d["caps"].update(per_person=50_000), "caps.per_person", "below a single price"),
    (lambda d: d.update(investors={"tranches": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.3}]}),
     "tranches", "sum to 0.8"),
    (lambda d: d.update(triggers=[{"outcome": "jobb", "scope": "pooled", "compare": "absolute",
                                   "threshold": 0.1}]), "triggers[0].outcome", "unknown outcome 'jobb'"),
    (lambda d: d["outcomes"]["job_start"].update(metric="job_begin"), "outcomes.job_start", "job_begin"),
    (lambda d: d["outcomes"]["job_start"].update(windw_weeks=5), "windw_weeks",
     "did you mean 'window_weeks'"),
    (lambda d: d.update(funding={"investor_months": 12, "takeover_by": "fylke"}), "takeover_by",
     "not a commissioner"),
    (lambda d: d["contract"].update(primary_outcome="jobs"), "contract.primary_outcome", "unknown outcome"),
    (lambda d: d.update(commissioners={"investor": 1.0}), "commissioners", "other parties"),
])
def test_bad_terms_name_file_and_key(tmp_path, edit, key, words):
    path = write_variant(tmp_path, edit)
    with pytest.raises(SpecError) as err:
        load_terms(path)
    msg = str(err.value)
    assert str(path) in msg
    assert key in msg
    assert words in msg


def test_junior_tranche_behind_an_uncapped_senior_is_refused(tmp_path):
    path = write_variant(tmp_path, lambda d: d.update(investors={"tranches": [
        {"name": "senior", "share": 0.5, "seniority": 1}, {"name": "junior", "share": 0.5, "seniority": 2}]}))
    with pytest.raises(SpecError, match="max_return"):
        load_terms(path)


def test_the_writer_round_trips_a_good_file(tmp_path):
    path = write_variant(tmp_path, lambda d: None)
    assert load_terms(path) == load_terms("kongsberg_outcomes")


def test_a_misspelt_commissioner_is_refused_with_a_suggestion_not_taken_as_a_new_party(tmp_path):
    # the bug: 'kommnue' was a new party, paid the outcomes, and fiscal_npv_kommune flipped sign
    text = open(terms_data("kongsberg_outcomes")[1], encoding="utf-8").read()
    path = tmp_path / "c.toml"
    path.write_text(text.replace("\nkommune = 0.5", "\nkommnue = 0.5"), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_terms(path)
    msg = str(err.value)
    assert str(path) in msg and "commissioners.kommnue" in msg
    assert "did you mean 'kommune'?" in msg and "allowed: kommune, fylke, state" in msg
