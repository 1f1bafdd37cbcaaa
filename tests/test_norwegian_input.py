"""Input as a Norwegian Windows user saves and types it (issue 13, item 8): a byte-order mark is
read, Latin-1 and binary files are refused with the encoding named, and a decimal comma, a
thousands space or a Norwegian key gets what to write instead - in a file and in ``--set``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from effekt.experiments.cli import main
from effekt.experiments.scenario import default_scenario_path, load_scenario
from effekt.specfile import SpecError, read_toml
from effekt.toml_text import plain_number

DEFAULT = default_scenario_path().read_text(encoding="utf-8")


def written(tmp_path, data: bytes) -> str:
    path = tmp_path / "s.toml"
    path.write_bytes(data)
    return str(path)


def problem(path: str) -> str:
    with pytest.raises(SpecError) as err:
        read_toml(path)
    assert path in str(err.value)  # the file is named
    return str(err.value)


def test_a_byte_order_mark_is_read_as_the_same_scenario(tmp_path):
    path = written(tmp_path, b"\xef\xbb\xbf" + DEFAULT.encode("utf-8"))
    assert read_toml(path) == read_toml(default_scenario_path())
    assert load_scenario(path).world == load_scenario(None).world


def test_a_latin1_file_is_refused_naming_the_encoding_and_the_character(tmp_path):
    text = DEFAULT.replace('name = "kull 1"', 'name = "kull på Ål"')
    path = written(tmp_path, text.encode("latin-1"))
    at = next(i for i, c in enumerate(text) if not c.isascii())  # the first letter UTF-8 would not read
    line, char = text[:at].count("\n") + 1, text[at]
    says = problem(path)
    assert f"byte 0x{ord(char):02x} at line {line}" in says and "Windows-1252 (Latin-1)" in says
    assert f"where that byte is '{char}'" in says
    assert "save it again with the encoding UTF-8" in says


def test_a_binary_file_is_refused_as_binary(tmp_path):
    assert "is a binary file" in problem(written(tmp_path, b"\x7fELF\x02\x01\x01\x00" + bytes(range(256))))


@pytest.mark.parametrize("old, new, says", [
    ("discount_rate = 0.04 ", "discount_rate = 0,04 ",
     "a decimal number is written with a point: write discount_rate = 0.04, not 0,04"),
    ("size = 14 ", "size = 150 000 ",
     "a number is written without spaces (an underscore may group the digits): write size = 150000, "
     "not 150 000"),
    ("size = 14 ", "size = 1\u00a0500 ", "write size = 1500, not 1\u00a0500"),
    ("size = 14 ", "størrelse = 14 ",
     "'størrelse' is not a key effekt knows (effekt's key for it is 'size')"),
    ("size = 14 ", "læringsmål = 14 ", "'læringsmål' is not a key effekt knows; keys are written in English"),
])
def test_norwegian_habits_in_a_file_get_what_to_write_instead(tmp_path, old, new, says):
    assert old in DEFAULT
    text = DEFAULT.replace(old, new)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith(new.strip().split(" ")[0]))
    message = problem(written(tmp_path, text.encode("utf-8")))
    assert f"line {line}: " in message and says in message
    assert "Expected" not in message and "Invalid statement" not in message  # no parser jargon


def test_an_ordinary_syntax_error_keeps_the_parsers_position(tmp_path):
    message = problem(written(tmp_path, DEFAULT.replace("size = 14 ", "size = = 14 ").encode()))
    assert "not valid TOML" in message and "(at line" in message


@pytest.mark.parametrize("value, says", [
    ("150 000", "'150 000': a number is written with no spaces (an underscore may group the digits): 150000"),
    ("0,04", "'0,04': a number is written with a decimal point: 0.04"),
    ("1 234,5", "1234.5"),
])
def test_set_with_a_norwegian_number_says_how_to_write_it(value, says):
    result = CliRunner().invoke(main, ["validate", str(default_scenario_path()),
                                       "--set", f"world.cohorts[0].size={value}", "--lang", "en"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--set world.cohorts[0].size: " in result.output and says in result.output


def test_plain_number_reads_what_people_mean_and_nothing_else():
    assert plain_number("150 000") == 150000 and plain_number("-1 234,5") == -1234.5
    assert plain_number("0,04") == 0.04 and plain_number("12\u202f000") == 12000
    for text in ("gloppen", "1,2,3", "15 00", "1 2", "150000", "a 000"):
        assert plain_number(text) is None, text


def test_a_norwegian_key_that_is_valid_toml_gets_the_english_key():
    with pytest.raises(SpecError) as err:
        load_scenario(None, ["world.cohorts[0].antall=14"])
    assert "world.cohorts[0].antall: unknown key (did you mean 'size'?)" in str(err.value)
