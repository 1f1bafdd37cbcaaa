"""Issue 14, session 17: a run's start-up without pandas and pyarrow.compute, the default factories
pydantic reads cheaply, and the block's ledger and tables by cheaper routes with the same numbers.

The start-up is asserted on the modules a fresh interpreter has loaded (never on time); each
cheaper route is checked against the route it replaced, kept here as the reference (pandas'
``factorize`` and ``notna``, pyarrow.compute's ``fill_null`` and ``is_null``, a sort per measure,
a list comprehension per KPI column).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pydantic import BaseModel, Field, ValidationError

from effekt.contracts import fiscal as fis
from effekt.contracts import outcomes as oc
from effekt.contracts import terms
from effekt.contracts.records import person, persons_table, spell, spells_table
from effekt.experiments import runner
from effekt.sim import pathway

DEFAULT = Path(__file__).resolve().parents[1] / "experiments" / "scenarios" / "default.toml"
KOTO = DEFAULT.with_name("koto_sib.toml")


def _modules_after(code: str, names: tuple[str, ...]) -> set[str]:
    """Which of the modules ``names`` a fresh interpreter has imported after ``code``."""
    probe = (f"import sys, json\n{code}\n"
             f"print(json.dumps(sorted(m for m in {names!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _run(scenario: Path, runs: int, out: Path, *extra: str) -> str:
    args = ["run", str(scenario), "--runs", str(runs), "--workers", "1", "-q", "--out", str(out), *extra]
    return ("from effekt.experiments.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code")


NOT_NEEDED = ("pandas", "pyarrow.compute", "scipy")
"""What a run of the default does not import (it needs numpy, pyarrow and simpy)."""


@pytest.mark.parametrize(("scenario", "runs"), [(DEFAULT, 1), (DEFAULT, 6), (KOTO, 2)])
def test_a_run_loads_neither_pandas_nor_pyarrow_compute(tmp_path, scenario, runs):
    """``--runs 1`` (one task, nothing timed) and more (the chunk is timed on replications first,
    :func:`effekt.experiments.batch.choose_chunk`): stored, and without pandas."""
    code = _run(scenario, runs, tmp_path / "r")
    assert _modules_after(code, (*NOT_NEEDED, "numpy", "pyarrow", "simpy")) == {"numpy", "pyarrow", "simpy"}
    assert list((tmp_path / "r" / "runs").glob("point=0/*.parquet"))


def test_a_run_that_stores_record_tables_still_builds_them_with_pandas(tmp_path):
    code = _run(DEFAULT, 2, tmp_path / "r", "--tables", "spells")
    assert "pandas" in _modules_after(code, ("pandas",))
    assert list((tmp_path / "r" / "spells").glob("point=0/*.parquet"))


def test_pyarrow_converts_without_pandas_and_as_pandas_once_it_is_imported():
    """After :func:`effekt.lazy.arrow_without_pandas`, pyarrow converts lists and arrays without
    importing pandas; once pandas is imported (by anyone), a Series and a Categorical are
    converted as pandas objects, as pyarrow converts them when pandas was there from the start
    (the reference: the same conversions in a process that imported pandas first)."""
    convert = ("import numpy as np, pyarrow as pa\n"
               "a = pa.array([1.5, None]); b = pa.table({'x': np.arange(3)})\n"
               "assert a.null_count == 1 and b.num_rows == 3\n")
    as_pandas = ("import pandas as pd\n"
                 "s = pa.array(pd.Series([1.0, float('nan')]))\n"
                 "c = pa.array(pd.Categorical(['a', 'b', 'a']))\n"
                 "t = pa.Table.from_pandas(pd.DataFrame({'x': [1.0, float('nan')]}), preserve_index=False)\n"
                 "print(json.dumps([s.null_count, str(c.type), t.column('x').null_count,\n"
                 "                  type(pd.__loader__).__name__, b.to_pandas()['x'].tolist()]))\n")
    code = ("import sys, json\nfrom effekt import lazy\nlazy.arrow_without_pandas()\n" + convert
            + "assert 'pandas' not in sys.modules\n" + as_pandas)
    reference = "import sys, json\nimport pandas\n" + convert + as_pandas
    got = [subprocess.run([sys.executable, "-c", c], capture_output=True, text=True, check=True)
           .stdout.strip().splitlines()[-1] for c in (code, reference)]
    assert got[0] == got[1]
    nulls, categorical, frame_nulls = json.loads(got[0])[:3]
    assert nulls == 1 and categorical.startswith("dictionary<") and frame_nulls == 1


def test_pyarrow_is_not_held_off_pandas_when_pandas_is_already_imported():
    code = ("import pandas as pd, sys\nfrom effekt import lazy\nlazy.arrow_without_pandas()\n"
            "import pyarrow as pa\nassert pa.array(pd.Series([1.0, float('nan')])).null_count == 1\n"
            "assert not any(type(f).__name__ == '_TellArrowOfPandas' for f in sys.meta_path)\nprint('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


# -- the numpy routes pandas' functions were replaced by --------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_factorized_codes_are_pandas_factorize_codes(seed):
    rng = np.random.default_rng(seed)
    for n in (0, 1, 7, 300):
        keys = rng.integers(-4, 6, n) * rng.choice([1.0, 0.5, 1e9])
        codes, first = oc.factorized(keys)
        want, uniques = pd.factorize(keys)
        assert codes.dtype == want.dtype and np.array_equal(codes, want)
        assert np.array_equal(keys[first], uniques)
        names = np.array(["kommune", "state", "none", "fylke"], dtype=object)[rng.integers(0, 4, n)]
        codes, first = oc.factorized(names)
        want, uniques = pd.factorize(names, use_na_sentinel=False)
        assert np.array_equal(codes, want) and names[first].tolist() == uniques.tolist()


def test_present_is_pandas_notna_without_pandas(monkeypatch):
    values = np.array(["job_club", None, "", float("nan"), "x", None], dtype=object)
    want = pd.notna(values)
    monkeypatch.delitem(sys.modules, "pandas")  # the numpy route: as in a run, pandas not imported
    got = oc._present(values)
    monkeypatch.undo()
    assert got.dtype == bool and np.array_equal(got, want)
    assert np.array_equal(oc._present(values), want)  # with pandas imported: pandas itself
    assert np.array_equal(oc._present(np.array([1.0, np.nan])), [True, False])


def test_arrow_columns_with_nulls_read_as_pyarrow_compute_filled_them():
    strings = pa.table({"k": pa.chunked_array([["a", None], [None, "b", "a"]])})
    filled = pc.fill_null(strings.column("k"), "dflt").to_numpy(zero_copy_only=False).tolist()
    assert oc._read_strings(strings, "k", "dflt").tolist() == filled
    flags = pa.chunked_array([[True, None], [False, None, True]])
    assert np.array_equal(oc._arrow_bools(flags),
                          pc.fill_null(flags, False).to_numpy(zero_copy_only=False))
    assert oc._arrow_bools(flags).dtype == bool
    encoded = oc.dictionary_encoded(strings.column("k"))
    assert encoded.equals(strings.column("k").combine_chunks().dictionary_encode())


@pytest.mark.parametrize("values", [["a", None, "b", "a", None], ["x", "y"], [None, None], []])
def test_codes_of_an_arrow_column_are_those_of_the_same_pandas_column(values):
    """Arrow's route (dictionary encoding, the default for a null after the column's own values)
    against pyarrow.compute's (the old route) and, row by row, the pandas frame's route
    (pd.factorize of the strings with the default filled in)."""
    arrow = pa.table({"k": pa.array(values, type=pa.string())})
    frame = pd.DataFrame({"k": pd.Series(values, dtype=object)})
    got, want = fis._codes(arrow, "k", "none"), fis._codes(frame, "k", "none")
    assert [got[1][c] for c in got[0]] == [want[1][c] for c in want[0]]
    encoded = arrow.column("k").combine_chunks().dictionary_encode()
    names = encoded.dictionary.to_pylist()
    if encoded.indices.null_count and "none" not in names:
        names.append("none")
    nulls = encoded.indices.null_count
    old = pc.fill_null(encoded.indices, names.index("none")) if nulls else encoded.indices
    assert got[1] == names and np.issubdtype(got[0].dtype, np.integer)  # int32 since session 18
    assert np.array_equal(got[0], np.asarray(old.to_numpy(zero_copy_only=False), dtype=np.intp))


# -- pydantic's default factories --------------------------------------------------------------------

def _models(*modules) -> list[type[BaseModel]]:
    return [v for m in modules for v in vars(m).values()
            if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == m.__name__]


def test_no_model_of_a_run_has_the_builtin_list_as_default_factory():
    """The builtin ``list``'s signature is parsed from its text by pydantic at every field (its
    ``takes_validated_data_argument``); a Python function's is read at once. Every list field
    still defaults to a new empty list of its own."""
    from pydantic._internal._fields import takes_validated_data_argument

    models = _models(terms, fis, pathway)
    factories = [(m.__name__, n, f.default_factory) for m in models for n, f in m.model_fields.items()
                 if f.default_factory is not None]
    assert factories and not [x for x in factories if x[2] is list]
    assert not takes_validated_data_argument(terms._new_list)
    a = terms.JobStart(metric="job_start", window_weeks=52)
    b = terms.JobStart(metric="job_start", window_weeks=52)
    assert a.exclude_contracts == [] and a.exclude_contracts is not b.exclude_contracts


def test_a_list_field_of_the_new_factory_is_the_builtin_lists_field():
    """The same JSON schema, defaults and errors as a field of ``default_factory=list`` (the
    reference, built here)."""
    class Builtin(BaseModel):
        names: list[str] = Field(default_factory=list)

    class Function(BaseModel):
        names: list[str] = Field(default_factory=terms._new_list)

    assert Builtin.model_json_schema()["properties"] == Function.model_json_schema()["properties"]
    assert Builtin().names == Function().names == [] and Function().names is not Function().names
    for bad in ({"names": "a"}, {"names": [1]}, {"names": None}):
        with pytest.raises(ValidationError) as want:
            Builtin.model_validate(bad)
        with pytest.raises(ValidationError) as got:
            Function.model_validate(bad)
        assert got.value.errors() == want.value.errors()


# -- the block's tables ------------------------------------------------------------------------------

def _reference_runs_column(kpis: list[dict], name: str) -> np.ndarray:
    """The old route: one list comprehension per KPI column."""
    return np.array([k.get(name, math.nan) for k in kpis], dtype=float)


@pytest.mark.parametrize("kpis", [
    [{"a": 1.0, "b": 2, "c": np.float64(0.1)}, {"a": 0.5, "b": True, "c": -0.0}],
    [{"a": 1.0}, {"b": 3.5}, {}],  # KPIs a replication lacks are NaN
    [],
])
def test_the_runs_table_holds_each_kpi_as_the_per_column_route_did(kpis):
    names = ["a", "b", "c"]
    schema = pa.schema([pa.field("replication", pa.int32()), pa.field("p", pa.int64()),
                        *(pa.field(n, pa.float64()) for n in names)])
    reps = list(range(len(kpis)))
    table = runner._runs_table(schema, reps, kpis, {"p": 3})
    for n in names:
        got = table.column(n).to_numpy(zero_copy_only=False).astype(float)
        want = pa.array(_reference_runs_column(kpis, n), from_pandas=True)
        assert table.column(n).null_count == want.null_count
        assert np.array_equal(np.nan_to_num(got).view(np.int64),
                              np.nan_to_num(want.to_numpy(zero_copy_only=False)).view(np.int64))
    assert table.column("p").to_pylist() == [3] * len(kpis)
    one = runner._kpi_matrix(kpis, ["a"])
    assert one.shape == (len(kpis), 1)
    assert np.array_equal(one[:, 0], _reference_runs_column(kpis, "a"), equal_nan=True)


def _tables() -> oc.Tables:
    people = [person(i, arm=arm, entry_week=float(i % 5))
              for i in range(6) for arm in ("treatment", "control")]
    rng = np.random.default_rng(3)
    rows = []
    for p in people:
        for _ in range(int(rng.integers(0, 5))):
            start = float(rng.integers(0, 40))
            state = str(rng.choice(["employed", "education", "not_employed"]))
            rows.append(spell(p["person_id"], arm=p["arm"], state=state, start=start,
                              end=start + float(rng.integers(1, 30)), fte=float(rng.choice([0.5, 1.0])),
                              contract=str(rng.choice(["ordinary", "project"]))))
    rows.append(spell(99, arm="treatment", state="employed", start=1.0, end=2.0))  # no such person
    return oc.Tables.of(persons_table(people), spells_table(rows))


@pytest.mark.parametrize("options", [{}, {"min_fte": 0.75}, {"exclude_contracts": ["project"]},
                                     {"or_education": True}, {"ordinary_only": True}])
def test_the_counted_spells_are_in_the_order_a_sort_of_them_alone_gives(options):
    t = _tables()
    ok = t._employed & (t.s_fte >= options.get("min_fte", 0.0))
    if options.get("exclude_contracts"):
        ok &= ~np.isin(t.s_contract, options["exclude_contracts"])
    if options.get("ordinary_only"):
        ok &= ~t.s_own
    if options.get("or_education"):
        ok |= t._in_education
    ok &= t.s_person >= 0
    idx = np.nonzero(ok)[0]
    want = idx[np.lexsort((t.s_start[idx], t.s_person[idx]))]  # the old route: a sort per measure
    got = t.counted(**options)
    assert np.array_equal(got, want) and len(got) > 0
