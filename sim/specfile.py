"""Reading data files (TOML) into validated specs, with errors a person can act on.

Every data file in effekt (pathways, target groups, contract terms, scenarios) is read through
:func:`load_spec`, so a mistake is always reported the same way: the file, the dotted key, what
was wrong, what is allowed, and a suggestion when a key looks misspelt. Nothing here knows about
any particular file kind; the layers above reuse it.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class SpecError(ValueError):
    """A data file (or a dict standing in for one) does not describe a valid spec."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: invalid\n{lines}")


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


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def format_validation_error(model: type[BaseModel], err: ValidationError) -> list[str]:
    """Turn a pydantic error into one readable line per problem."""
    problems = []
    for e in err.errors():
        loc = tuple(e["loc"])
        key = _dotted(loc)
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc)
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            msg = f"{key}: unknown key"
            if hint:
                msg += f" (did you mean '{hint[0]}'?)"
            if allowed:
                msg += f"; allowed here: {', '.join(sorted(allowed))}"
            problems.append(msg)
        else:
            text = e["msg"].removeprefix("Value error, ")
            if not loc:  # a whole-file check: one problem per line, each naming its own key
                problems.extend(line for line in text.splitlines() if line.strip())
                continue
            problems.append(f"{key}: {text}")
    return problems


def validate(model: type[M], data: dict[str, Any], source: str) -> M:
    """Validate ``data`` as ``model``; raise :class:`SpecError` naming ``source`` on failure."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise SpecError(source, format_validation_error(model, err)) from None


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file; a syntax error becomes a :class:`SpecError` naming the file and line."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SpecError(str(path), ["file not found"]) from None
    except tomllib.TOMLDecodeError as err:
        raise SpecError(str(path), [f"not valid TOML: {err}"]) from None


def load_spec(model: type[M], path: str | Path) -> M:
    """Read and validate one TOML data file."""
    return validate(model, read_toml(path), str(path))
