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
