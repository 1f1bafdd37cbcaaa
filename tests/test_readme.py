"""The README's example of reading the results with pandas runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from effekt.experiments.cli import main

README = Path(__file__).parents[1] / "README.md"


def test_readme_pandas_example_runs_on_real_results(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["run", "--runs", "6", "--workers", "1", "-q"])
    assert r.exit_code == 0, r.output
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    exec(compile(code, str(README), "exec"), {})
    out = capsys.readouterr().out
    assert "P(investor loss):" in out
    assert "outcome_payment" in out and "kommune" in out


def test_readme_shows_the_two_commands():
    text = README.read_text()
    assert "make run" in text and "make test" in text


def test_readme_imports_exist_in_the_public_faces():
    """Every `from effekt… import …` line in the README's Python blocks works as written."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    lines = [ln.split("#")[0].strip() for b in blocks for ln in b.splitlines()]
    imports = [ln for ln in lines if ln.startswith("from effekt")]
    assert imports, "the README shows how to import effekt"
    for line in imports:
        exec(line, {})


def test_readme_says_how_to_run_every_marked_suite():
    import tomllib

    text = README.read_text()
    markers = tomllib.loads((README.parent / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"]["markers"]
    for m in markers:
        name = m.split(":")[0]
        assert f"pytest -m {name}" in text, f"README does not say how to run the '{name}' tests"
