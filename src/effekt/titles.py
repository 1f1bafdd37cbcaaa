"""Titles in the reader's language: one rule for every titled thing in a data file.

Every titled table of a shipped data file (a pathway, its stages and capacities, a business-as-usual
pathway, a target group, a benefit kind, a wage subsidy, a contract and its outcomes, a scenario)
carries ``title`` (English) and ``title_nb`` (Norwegian bokmål). A user's own file may leave
``title_nb`` out; the English title is then shown, and where there is no title at all the key
itself, so a reader always sees something that names the thing. Every layer may import this module
(it lives in the base :mod:`effekt` package), so the report, the command line and the exports all
pick the same words.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGS = ("nb", "en")
"""The languages a title comes in."""

TITLE_NB = ("the title in Norwegian bokmål, shown in nb; title is the English one, shown where this is "
            "empty (effekt.titles.title)")
"""The description of every schema's ``title_nb`` field."""


def title(obj: object, lang: str = "en", fallback: str = "") -> str:
    """The title of ``obj`` (a model or a mapping with ``title`` and maybe ``title_nb``) in ``lang``:
    ``title_nb`` in ``"nb"`` when it is given, else ``title``, else ``fallback`` (e.g. the key).

    >>> title({"title": "Ordinary job", "title_nb": "Ordinær jobb"}, "nb")
    'Ordinær jobb'
    >>> title({"title": "Ordinary job"}, "nb")
    'Ordinary job'
    >>> title({}, "en", fallback="ordinary_job")
    'ordinary_job'
    >>> title({"title": {"nb": "Ordinær jobb", "en": "Ordinary job"}}, "nb")
    'Ordinær jobb'
    """
    if obj is None:
        return fallback
    get = obj.get if isinstance(obj, Mapping) else lambda key, default="": getattr(obj, key, default)
    english = get("title", "") or ""
    if isinstance(english, Mapping):  # a title written as { nb = "...", en = "..." } (calibration files)
        return str(english.get(lang) or english.get("en") or english.get("nb") or fallback)
    if lang == "nb":
        norwegian = get("title_nb", "") or ""
        if norwegian:
            return str(norwegian)
    return str(english) or fallback


def description(obj: object, lang: str = "en") -> str:
    """The free-text description of ``obj`` (e.g. a pathway's ``[pathway]`` table) in ``lang``:
    ``description_nb`` in ``"nb"`` when it is given, else ``description`` (English), else "".

    >>> description({"description": "A class.", "description_nb": "En klasse."}, "nb")
    'En klasse.'
    >>> description({"description": "A class."}, "nb")
    'A class.'
    """
    if obj is None:
        return ""
    get = obj.get if isinstance(obj, Mapping) else lambda key, default="": getattr(obj, key, default)
    if lang == "nb" and (get("description_nb", "") or "").strip():
        return str(get("description_nb", ""))
    return str(get("description", "") or "")
