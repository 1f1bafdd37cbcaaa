"""Helpers for the rules' own messages in English and bokmål (:func:`effekt.specfile.said`).

A rule's message is a :class:`~effekt.specfile.Said`: the English string that code and tests
match on, carrying its bokmål wording (``.nb``). These helpers keep that wording where a message
is joined, prefixed or taken from a pydantic error, which a plain f-string would drop (the reader
in nb would then get the English inside the Norwegian framing).

    unprefixed    a message without a prefix, keeping its bokmål wording
    nb_hint       :func:`effekt.dotted.suggest`'s `` (did you mean 'x'?)`` in bokmål
    said_of       an exception's message as raised (its ``Said`` when it has one)
    error_text    an exception's message in the reader's language (its ``Said``'s bokmål in nb)
"""

from __future__ import annotations

from effekt.specfile import Said, said


def nb_hint(hint: str) -> str:
    """`` (did you mean 'x'?)`` (:func:`effekt.dotted.suggest`) as `` (mente du 'x'?)``."""
    return hint.replace("did you mean", "mente du")


def unprefixed(message: str, prefix: str) -> str:
    """``message.removeprefix(prefix)``, keeping the bokmål wording (which starts with the same
    prefix: a key) when ``message`` is a :class:`Said`."""
    if isinstance(message, Said):
        return said(message.removeprefix(prefix), message.nb.removeprefix(prefix))
    return message.removeprefix(prefix)


def said_of(err: BaseException) -> str:
    """An exception's message as raised: its :class:`Said` (both languages) when it was raised with
    one, else ``str(err)`` (for ``keyed(where, said_of(err))`` in place of ``f"{where}: {err}"``)."""
    first = err.args[0] if len(err.args) == 1 else None
    return first if isinstance(first, Said) else str(err)


def error_text(err: BaseException | str, lang: str = "en") -> str:
    """``str(err)``, or in ``nb`` the bokmål of its message when it was raised with :func:`said`
    (``raise ValueError(said(...))``; a message itself may be given): what a command prints for
    an error that is no SpecError."""
    if isinstance(err, str):
        return err.nb if lang == "nb" and isinstance(err, Said) else str(err)
    first = err.args[0] if len(err.args) == 1 else None
    if lang == "nb" and isinstance(first, Said):
        return first.nb
    return str(err)


__all__ = ["error_text", "nb_hint", "said_of", "unprefixed"]
