"""Reading data files (TOML) into validated specs, with errors a person can act on.

Every data file in effekt (pathways, target groups, contract terms, scenarios) is read through
:func:`load_spec`, so a mistake is always reported the same way: the file, the dotted key, what
was wrong, what is allowed, and a suggestion when a key looks misspelt. Nothing here knows about
any particular file kind; the layers above reuse it.

    Strict                  the base of every spec: unknown keys refused, frozen once validated
    SpecError               a file (or table) that does not validate: its source and one line per
                            problem, each naming its dotted key
    read_toml               a TOML file as a table; a syntax error becomes a SpecError
    validate                a table as a model, or a SpecError naming the source (numbers given
                            as priors, effekt.priors, at their point values)
    load_spec               read_toml and validate in one step
    format_validation_error pydantic's errors as located, readable lines (with suggestions)
    problem_text            one problem line in the reader's language (SpecError.text(lang): the
                            framing and the common messages in bokmål, and a rule's own bokmål
                            wording when it was raised with :func:`said`)
    Said, said              a rule's message in English (the string itself, which code and tests
                            match on) that also carries its bokmål wording
    keyed                   "key: message" keeping the bokmål wording of the message
    error_message           one pydantic error's message, the validator's own Said when it raised one
    joined                  messages joined into one, keeping the bokmål wording of each
    nb_number               a number a rule computed, with a decimal comma for its bokmål message
                            (never e-notation; thousands grouped)
    en_number               the same in English (decimal point), e.g. for money in a message
"""

from __future__ import annotations

import difflib
import math
import re
import stat
import tomllib
import weakref
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from effekt.toml_text import NORWEGIAN_KEYS, decode, explain

M = TypeVar("M", bound=BaseModel)


NOT_A_BOOLEAN = "must be a valid number, not true or false"


class Said(str):
    """A rule's message: the English text (this string itself: ``str(err)``, ``err.problems``,
    the lines code and tests match on) that also carries the same message in bokmål (``.nb``).

    A validator words its own rule (``raise ValueError(said("must be positive", "må være
    positiv"))``); pydantic keeps the exception, :func:`format_validation_error` keeps the
    wording, and :meth:`SpecError.text` prints it in the reader's language. Why a ``str``
    subclass rather than a message id: every existing reader of a problem (``in``, ``==``,
    ``startswith``, joining lines) keeps working on the English, and nothing can lose the
    English by forgetting a lookup; a plain ``str`` (an untranslated rule) still reads in nb
    through the common patterns of :func:`problem_text`."""

    nb: str

    def __new__(cls, en: str, nb: str) -> Said:
        obj = super().__new__(cls, en)
        obj.nb = nb
        return obj

    def __reduce__(self) -> tuple[Any, ...]:  # pickled across worker processes with both texts
        return (Said, (str(self), self.nb))


def said(en: str, nb: str) -> Said:
    """A message in English and bokmål (see :class:`Said`)."""
    return Said(en, nb)


NB_GROUP = "\u00a0"
"""The thousands separator of bokmål numbers (the no-break space, CLDR nb's and
experiments/formatting.py's ``NBSP``)."""
EN_GROUP = "\u202f"
"""The thousands separator of English numbers (the narrow no-break space of SI and ISO 80000-1,
experiments/formatting.py's ``THIN``)."""


def _plain_number(x: float, digits: int, point: str, group: str) -> str:
    """``x`` written out in full (never in e-notation): a whole number exactly, any other to
    ``digits`` significant digits, trailing zeros dropped, the integer part grouped in thousands
    by ``group`` and ``point`` as the decimal mark. Plain Python, so that specfile (imported by
    every layer) needs neither Babel nor experiments/."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "\u221e" if x > 0 else "-\u221e"
    if x.is_integer() and abs(x) < 1e15:  # a whole number (weeks, kroner) exactly, not rounded
        text = f"{int(x):,}"
    else:
        text = f"{Decimal(f'{x:.{digits}g}'):,f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    if text in ("-0", "0"):
        return "0"
    return text.translate(str.maketrans({",": group, ".": point}))


def nb_number(x: float, digits: int = 6) -> str:
    """A number a rule computed (a sum of shares, a length in weeks, an amount) as bokmål writes
    it in its message: never in e-notation, a decimal comma, a no-break space between thousands,
    a whole number exactly and any other to ``digits`` significant digits (0.9 -> "0,9",
    134.3333 -> "134,333", 1.5e6 -> "1 500 000")."""
    return _plain_number(x, digits, ",", NB_GROUP)


def en_number(x: float, digits: int = 6, *, grouped: bool = True) -> str:
    """:func:`nb_number` in English: a decimal point and a narrow no-break space between thousands
    (1.5e6 -> "1 500 000", 0.9 -> "0.9"), for a number whose ``:g`` would be e-notation (money).
    ``grouped=False`` writes no separator, so the text is ``f"{x:g}"``'s wherever that has no
    exponent (52000.5, 100) and the number in full where it has one (1e7 -> "10000000")."""
    return _plain_number(x, digits, ".", EN_GROUP if grouped else "")


def keyed(key: str, message: str, sep: str = ": ") -> str:
    """``f"{key}{sep}{message}"``, keeping the bokmål wording when ``message`` is a :class:`Said`
    (an f-string would drop it)."""
    if isinstance(message, Said):
        return Said(f"{key}{sep}{message}", f"{key}{sep}{message.nb}")
    return f"{key}{sep}{message}"


def joined(sep: str, messages: list[str] | tuple[str, ...]) -> str:
    """``sep.join(messages)``, keeping the bokmål wording of the messages that are a :class:`Said`
    (a plain message reads the same in both); a plain ``str`` when none is."""
    messages = list(messages)
    if not any(isinstance(m, Said) for m in messages):
        return sep.join(messages)
    return Said(sep.join(messages), sep.join(m.nb if isinstance(m, Said) else m for m in messages))


def _lines(message: str) -> list[str]:
    """A (possibly multi-line) message as its non-empty lines, each a :class:`Said` when the
    message is one and both languages have the same lines."""
    en = [line for line in message.splitlines() if line.strip()]
    if isinstance(message, Said):
        nb = [line for line in message.nb.splitlines() if line.strip()]
        if len(nb) == len(en):
            return [Said(e, n) for e, n in zip(en, nb, strict=True)]
    return en


def _numeric(annotation: Any) -> bool:
    """Whether a field's type takes numbers only (int, float, optionally None)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _numeric(get_args(annotation)[0])
    if origin in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return bool(args) and all(_numeric(a) for a in args)
    return annotation in (int, float)


def _is_bool(value: Any) -> bool:
    """The test of a field that takes one number: is the value a boolean?"""
    return isinstance(value, bool)


def _bool_check(annotation: Any) -> Callable[[Any], bool] | None:
    """The test of whether a value puts a boolean where ``annotation`` wants a number (also inside
    a list or a table of numbers), or None where no value can (a model, a text, a choice of
    several types). Made once per field (:meth:`Strict._number_checks`): reading the annotation
    anew for every value was a third of validating a scenario (issue 14)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _bool_check(get_args(annotation)[0])
    if origin in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _bool_check(args[0]) if len(args) == 1 else None
    if origin is dict and len(get_args(annotation)) == 2:
        value_check = _bool_check(get_args(annotation)[1])
        if value_check is None:
            return None
        return lambda value: isinstance(value, dict) and any(value_check(x) for x in value.values())
    if origin in (list, tuple) and get_args(annotation):
        item_check = _bool_check(get_args(annotation)[0])
        if item_check is None:
            return None
        return lambda value: isinstance(value, list | tuple) and any(item_check(x) for x in value)
    return _is_bool if _numeric(annotation) else None


_CHECKED: dict[int, tuple[weakref.ref, frozenset[Any]]] = {}
"""The specs :func:`mark_checked` has seen, by ``id``: a weak reference (the entry goes when the spec
is freed, so a reused ``id`` is never taken for it) and the keys they were checked with."""


def checked_before(spec: Any, key: Any = None) -> bool:
    """Whether a model's ``after`` check already passed on this very object with ``key`` (what
    the check depends on besides the spec itself: a validation context's benefit kinds, say).

    pydantic runs a model's ``after`` checks again whenever a validated instance is given for a
    field: a world made of a validated pathway checked the pathway's whole stage graph again, and
    a sweep's design point builds its world some fifteen times (issue 14). A spec is frozen, so
    what was checked has not changed; a copy made without validation (``model_copy``,
    unpickling) is a new object and is checked as any input. A check that is costly and is met
    again on instances calls this first and :func:`mark_checked` when it passes."""
    entry = _CHECKED.get(id(spec))
    return entry is not None and entry[0]() is spec and key in entry[1]


def mark_checked(spec: Any, key: Any = None) -> None:
    """Remember that a check passed on ``spec`` with ``key`` (:func:`checked_before`)."""
    ident = id(spec)
    entry = _CHECKED.get(ident)
    if entry is not None and entry[0]() is spec:
        _CHECKED[ident] = (entry[0], entry[1] | {key})
        return
    _CHECKED[ident] = (weakref.ref(spec, lambda _ref: _CHECKED.pop(ident, None)), frozenset((key,)))


_NUMBER_CHECKS: dict[type, tuple[dict[str, Any], list[tuple[str, Callable[[Any], bool]]]]] = {}
"""Each :class:`Strict` model's (fields, [(key, boolean test)]), made on its first validation and
made again if its fields change (``model_rebuild``)."""


class Strict(BaseModel):
    """The base of every spec read from a data file: unknown keys are refused (so a typo is an
    error naming the key, never silently ignored), and a spec is frozen once validated (so a
    pathway or contract cannot change under a running batch). A field with an alias (a key that
    is a Python keyword, such as ``from``) is read by its alias only, so a file cannot use a
    second, undocumented spelling."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_as_numbers(cls, data: Any) -> Any:
        """A number is never ``true`` or ``false``: pydantic would read ``size = true`` as 1 and
        ``discount_rate = true`` as 100 %. (NaN and infinities are refused by ``allow_inf_nan``.)"""
        if isinstance(data, dict):
            for key, is_bool in cls._number_checks():
                if key in data and is_bool(data[key]):
                    raise ValueError(keyed(key, NOT_A_BOOLEAN))
        return data

    @classmethod
    def _number_checks(cls) -> list[tuple[str, Callable[[Any], bool]]]:
        """(key, boolean test) of each field that takes numbers, in field order, leaving out
        fields whose own validator says what they allow instead."""
        fields = cls.__pydantic_fields__  # model_fields, without its property's cost (called per value)
        made = _NUMBER_CHECKS.get(cls)
        if made is None or made[0] is not fields:
            own = {f for d in cls.__pydantic_decorators__.field_validators.values()
                   if d.info.mode in ("before", "wrap", "plain") for f in d.info.fields}
            checks = [(field.alias or name, check) for name, field in fields.items()
                      if name not in own and (check := _bool_check(field.annotation)) is not None]
            made = (fields, checks)
            _NUMBER_CHECKS[cls] = made
        return made[1]


# The framing of a SpecError and its most common messages in Norwegian bokmål: (pattern, bokmål),
# applied in order to each English problem line by SpecError.text("nb"). The English lines stay
# the error's own text (str(err), err.problems): code and tests match on them. A message not
# listed here (most of the rules a validator states in its own words) stays English inside the
# Norwegian framing, with the key it names.
_NB: list[tuple[re.Pattern[str], str]] = [(re.compile(p), nb) for p, nb in (
    (r": unknown key\b", ": ukjent nøkkel"),
    (r"\(did you mean ('[^']*')\?\)", r"(mente du \1?)"),
    (r"\bdid you mean ('[^']*')\?", r"mente du \1?"),
    (r"; allowed here: ", "; tillatt her: "),
    (r"\ballowed: ", "tillatt: "),
    (r": Field required$", ": mangler (må oppgis)"),
    (r"Input should be a valid number, unable to parse string as a number",
     "skal være et tall (teksten kan ikke leses som et tall)"),
    (r"Input should be a valid integer, got a number with a fractional part",
     "skal være et heltall (tallet har desimaler)"),
    (r"Input should be a valid integer, unable to parse string as an integer",
     "skal være et heltall (teksten kan ikke leses som et tall)"),
    (r"Input should be a valid number", "skal være et tall"),
    (r"Input should be a valid integer", "skal være et heltall"),
    (r"Input should be a valid string", "skal være en tekst (i anførselstegn)"),
    (r"Input should be a valid boolean", "skal være true eller false"),
    (r"Input should be a valid dictionary(?: or instance of \w+)?", "skal være en tabell"),
    (r"Input should be a valid list", "skal være en liste"),
    (r"Input should be a finite number", "skal være et endelig tall"),
    (r"Input should be greater than or equal to ", "skal være større enn eller lik "),
    (r"Input should be greater than ", "skal være større enn "),
    (r"Input should be less than or equal to ", "skal være mindre enn eller lik "),
    (r"Input should be less than ", "skal være mindre enn "),
    (r"Input should be (('[^']*'(, )?)+) or ('[^']*')", r"skal være \1 eller \4"),
    (r"Input should be ", "skal være "),
    (r"List should have at least (\d+) items? after validation, not (\d+)",
     r"listen skal ha minst \1 element, ikke \2"),
    (NOT_A_BOOLEAN, "må være et tall, ikke true eller false"),
    (r"^file not found$", "filen finnes ikke"),
)]


def problem_text(problem: str, lang: str = "en") -> str:
    """One problem line of a :class:`SpecError` in ``lang``: the English line itself, or in ``nb``
    with its framing and most common messages (unknown key and did-you-mean, missing key, wrong
    type, out of range) in bokmål; a rule a validator words itself (a :class:`Said`) in its own
    bokmål wording."""
    if lang != "nb":
        return problem
    if isinstance(problem, Said):
        return problem.nb
    for pattern, nb in _NB:
        problem = pattern.sub(nb, problem)
    return problem


class SpecError(ValueError):
    """A data file (or a dict standing in for one) does not describe a valid spec."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: invalid\n{lines}")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its source and problems (each :class:`Said` with its bokmål), so an error
        raised in a worker process reaches the command line whole."""
        return (type(self), (self.source, list(self.problems)))

    def text(self, lang: str = "en") -> str:
        """The error as the command line prints it in ``lang`` (``en``: ``str(self)``; ``nb``: the
        framing "ugyldig" and the common messages in bokmål, :func:`problem_text`)."""
        if lang != "nb":
            return str(self)
        lines = "\n".join(f"  - {problem_text(p, lang)}" for p in self.problems)
        return f"{self.source}: ugyldig\n{lines}"


def _dotted(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            # pydantic puts the discriminator value into the location of tagged unions
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names that are allowed at ``loc`` (best effort, for spelling suggestions)."""
    current: Any = model
    for item in loc[:-1]:
        fields = getattr(current, "model_fields", None)
        if fields is None:
            return []
        if item in fields:
            ann = fields[item].annotation
            current = _inner_model(ann)
        else:
            # a dict[str, Model] value: keep the model of the values
            continue
        if current is None:
            return []
    fields = getattr(current, "model_fields", None) or {}
    return [f.alias or name for name, f in fields.items()]


def _members(annotation: Any) -> list[Any]:
    """The alternatives of a (possibly Annotated / Optional) union annotation, else [annotation]."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        return [m for a in get_args(annotation) for m in _members(a)]
    return [annotation]


def _walk(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any]:
    """Follow ``loc`` through the model's annotations. Returns the location to show, without the
    tags pydantic inserts for tagged unions (``duration.triangular.mode`` is shown as
    ``duration.mode``), and the model that holds the last key (None if unknown)."""
    shown: list[Any] = []
    current: Any = model
    for i, item in enumerate(loc):
        options = _members(current)
        models = [m for m in options if isinstance(m, type) and issubclass(m, BaseModel)]
        tagged = [m for m in models if len(options) > 1 and any(
            get_origin(f.annotation) is Literal and item in get_args(f.annotation)
            for f in m.model_fields.values())]
        if tagged and i < len(loc) - 1:  # the tag of a tagged union: pick that member, hide it
            current = tagged[0]
            continue
        shown.append(item)
        if i == len(loc) - 1:
            break
        if len(models) == 1 and item in models[0].model_fields:
            current = models[0].model_fields[item].annotation
        else:
            containers = [o for o in options if get_origin(o) in (dict, list)]
            current = get_args(containers[0])[-1] if containers else None
    holders = [m for m in _members(current) if isinstance(m, type) and issubclass(m, BaseModel)]
    return tuple(shown), holders[0] if len(holders) == 1 else None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def error_message(error: Any) -> str:
    """The message of one pydantic error: a validator's own :class:`Said` when it raised one (pydantic
    keeps the exception in ``ctx``), else pydantic's English text without its "Value error, "."""
    raised = (error.get("ctx") or {}).get("error")
    if isinstance(raised, SpecError):  # a file the validator read (a country's rules) was refused
        return Said(error["msg"].removeprefix("Value error, "), raised.text("nb"))
    said_ = raised.args[0] if isinstance(raised, Exception) and raised.args else None
    if isinstance(said_, Said):
        return said_
    return error["msg"].removeprefix("Value error, ")


def format_validation_error(model: type[BaseModel], err: ValidationError) -> list[str]:
    """Turn a pydantic error into one readable line per problem."""
    problems = []
    for e in err.errors():
        loc, holder = _walk(model, tuple(e["loc"]))
        key = _dotted(loc)
        if e["type"] == "extra_forbidden":
            allowed = ([f.alias or n for n, f in holder.model_fields.items()] if holder is not None
                       else _allowed_keys(model, loc))
            english = NORWEGIAN_KEYS.get(str(loc[-1]).lower())  # kontrakt -> contract
            hint = ([english] if english in allowed else
                    difflib.get_close_matches(str(loc[-1]), allowed, n=1))
            msg = f"{key}: unknown key"
            if hint:
                msg += f" (did you mean '{hint[0]}'?)"
            if allowed:
                msg += f"; allowed here: {', '.join(sorted(allowed))}"
            problems.append(msg)
        else:
            text = error_message(e)
            if not loc:  # a whole-file check: one problem per line, each naming its own key
                problems.extend(_lines(text))
                continue
            name, _, rest = text.partition(": ")
            if rest == NOT_A_BOOLEAN:  # raised for the whole model, about one of its keys
                problems.append(f"{key}.{name}: {rest}")
                continue
            problems.append(keyed(key, text))
    return problems


def validate(model: type[M], data: dict[str, Any], source: str, priors_drawn: bool = True) -> M:
    """Validate ``data`` as ``model``; raise :class:`SpecError` naming ``source`` on failure.

    A number given as a prior (a distribution table, :mod:`effekt.priors`) is validated at its
    point value, which the spec then holds; the model must also accept the prior's 0.1 % and
    99.9 % quantiles (one at a time, the others at their point values), or the prior is refused
    naming its key. ``priors_drawn = False``: the file is not part of a scenario's tree (a
    business-as-usual pathway, the fiscal rules), so its priors would never be drawn and silently
    stay at their point values: they are refused instead."""
    from effekt.priors import find_priors, point_values, tail_problems, with_values

    folder = Path(source).parent if source and Path(source).is_file() else None  # calibrated = beside it
    priors, _, problems = find_priors(data, folder=folder)
    if problems:
        raise SpecError(source, problems)
    if priors and not priors_drawn:
        raise SpecError(source, [said(
            f"{key}: a prior here would never be drawn (--draws draws the numbers of a scenario's own "
            "tree: its pathway, contract, target groups, benefits and labour market, not this file); "
            "give a plain number",
            f"{key}: en fordeling her ville aldri bli trukket (--draws trekker tallene i scenarioets eget "
            "tre: forløpet, kontrakten, målgruppene, ytelsene og arbeidsmarkedet, ikke denne filen); "
            "oppgi et vanlig tall") for key in priors])
    at_point = with_values(data, point_values(priors)) if priors else data
    try:
        spec = model.model_validate(at_point)
    except ValidationError as err:
        raise SpecError(source, format_validation_error(model, err)) from None
    if priors:
        def refused(key: str, number: Any) -> list[str]:
            try:
                model.model_validate(with_values(at_point, {key: number}))
            except ValidationError as err:
                return format_validation_error(model, err)
            return []

        tails = tail_problems(priors, refused)
        if tails:
            raise SpecError(source, tails)
    return spec


MAX_FILE_BYTES = 4 * 1024 * 1024
"""The largest data file read (4 MiB): scenario, pathway and contract files are a few kB; a
larger one is not one of them (a log, an image, /dev/zero behind a symlink)."""


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file; a syntax error becomes a :class:`SpecError` naming the file and line.

    Only a regular file is opened (a directory, a FIFO, which would block for ever, or a device is
    refused by what it is), at most :data:`MAX_FILE_BYTES`, and it must be UTF-8 as TOML requires
    (a byte-order mark is read; Latin-1 and binary files are refused by name, and a decimal comma, a
    thousands space or a Norwegian key gets what to write instead: :mod:`effekt.toml_text`).
    No message quotes the file's contents beyond the position of the problem."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SpecError(str(path), [said("file not found", "filen finnes ikke")]) from None
    except OSError as err:
        raise SpecError(str(path), [_unreadable(err)]) from None
    if not stat.S_ISREG(st.st_mode):
        what = ("a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO (named pipe)"
                if stat.S_ISFIFO(st.st_mode) else "a device or socket")
        what_nb = ("en mappe" if stat.S_ISDIR(st.st_mode) else "en FIFO (navngitt rør)"
                   if stat.S_ISFIFO(st.st_mode) else "en enhet eller socket")
        raise SpecError(str(path), [said(f"is {what}, not a TOML file", f"er {what_nb}, ikke en TOML-fil")])
    if st.st_size > MAX_FILE_BYTES:
        size = st.st_size / 2**20
        raise SpecError(str(path), [said(f"is {size:.1f} MiB, too large for a data file "
                                         f"(at most {MAX_FILE_BYTES // 2**20} MiB)",
                                         f"er {size:.1f} MiB, for stor for en datafil ".replace(".", ",")
                                         + f"(høyst {MAX_FILE_BYTES // 2**20} MiB)")])
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise SpecError(str(path), [_unreadable(err)]) from None
    text, problem = decode(raw)
    if problem:
        raise SpecError(str(path), [problem])
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(str(path), [explain(text, err)]) from None
    except RecursionError:
        raise SpecError(str(path), [said("is nested too deeply to be a data file",
                                         "er nøstet for dypt til å være en datafil")]) from None


def _unreadable(err: OSError) -> str:
    """A file the system cannot read, with the system's reason (its own words, as the OS gives them)."""
    return said(f"cannot be read ({err.strerror or err})", f"kan ikke leses ({err.strerror or err})")


def load_spec(model: type[M], path: str | Path, priors_drawn: bool = True) -> M:
    """Read and validate one TOML data file (``priors_drawn``: see :func:`validate`)."""
    return validate(model, read_toml(path), str(path), priors_drawn)


__all__ = ["Said", "SpecError", "Strict", "error_message", "format_validation_error", "joined", "keyed",
           "load_spec", "en_number", "nb_number", "problem_text", "read_toml", "said", "validate"]
