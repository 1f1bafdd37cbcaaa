"""A rule's own message in both languages (effekt.specfile.Said): raised inside a validator, kept
through pydantic, printed in the reader's language by SpecError.text, and still the English string
that code and tests match on."""

from __future__ import annotations

import pickle

import pytest
from pydantic import field_validator, model_validator

from effekt.specfile import Said, SpecError, Strict, keyed, problem_text, said, validate


class _Rate(Strict):
    rate: float
    low: float = 0.0
    high: float = 1.0

    @field_validator("rate")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError(said("must be positive", "må være positiv"))
        return v

    @model_validator(mode="after")
    def _ordered(self) -> _Rate:
        if self.low > self.high:
            raise ValueError(said("low: must not exceed high\nhigh: must not be below low",
                                  "low: kan ikke være større enn high\nhigh: kan ikke være mindre enn low"))
        return self


def _error(data: dict) -> SpecError:
    with pytest.raises(SpecError) as info:
        validate(_Rate, data, "rate.toml")
    return info.value


def test_a_field_rule_reads_in_english_and_in_bokmaal():
    err = _error({"rate": -1})
    assert err.problems == ["rate: must be positive"]
    assert err.text("en") == "rate.toml: invalid\n  - rate: must be positive"
    assert err.text("nb") == "rate.toml: ugyldig\n  - rate: må være positiv"


def test_a_whole_model_rule_keeps_one_line_per_key_in_both_languages():
    err = _error({"rate": 0.5, "low": 2, "high": 1})
    assert err.problems == ["low: must not exceed high", "high: must not be below low"]
    assert [problem_text(p, "nb") for p in err.problems] == [
        "low: kan ikke være større enn high", "high: kan ikke være mindre enn low"]


def test_an_untranslated_rule_still_gets_the_common_patterns():
    assert problem_text("x: Input should be greater than 0", "nb") == "x: skal være større enn 0"
    assert problem_text("x: a rule in its own words", "nb") == "x: a rule in its own words"


def test_keyed_keeps_the_bokmaal_and_a_plain_string_stays_plain():
    m = keyed("contract.price", said("must be positive", "må være positiv"))
    assert m == "contract.price: must be positive" and isinstance(m, Said)
    assert m.nb == "contract.price: må være positiv"
    plain = keyed("k", "text")
    assert plain == "k: text" and not isinstance(plain, Said)


def test_a_said_message_survives_pickling_to_a_worker_process():
    m = pickle.loads(pickle.dumps(said("en text", "norsk tekst")))
    assert m == "en text" and m.nb == "norsk tekst"


def test_a_spec_error_from_a_worker_process_keeps_its_source_and_both_languages():
    err = pickle.loads(pickle.dumps(SpecError("f.toml", [said("x: must be positive", "x: må være positiv")])))
    assert isinstance(err, SpecError) and err.source == "f.toml"
    assert err.text("en") == "f.toml: invalid\n  - x: must be positive"
    assert err.text("nb") == "f.toml: ugyldig\n  - x: må være positiv"
