"""The text of a data file as a Norwegian Windows user saves and types it.

TOML files are UTF-8 with ``.`` as the decimal point and plain ASCII bare keys. A kommune adviser's
editor may add a byte-order mark, save as Windows-1252 (Latin-1), or the adviser may write ``0,04``,
``150 000`` or a key in Norwegian (``størrelse``). tomllib reports each as parser jargon ("Invalid
statement", "Expected newline"); this module turns the bytes into text and the jargon into a line
that says what to write instead. :func:`effekt.specfile.read_toml` uses both.

    decode          a file's bytes as text (a UTF-8 byte-order mark is dropped; Latin-1, binary and
                    other encodings are refused with the encoding named)
    explain         a TOML syntax error as what to write instead, when the line shows a known habit
    plain_number    ``150 000`` / ``0,04`` as the number they mean, so ``--set`` can say what to write
"""

from __future__ import annotations

import re
import tomllib

BOM = "\ufeff"

NORWEGIAN_KEYS = {
    "størrelse": "size", "storrelse": "size", "antall": "size", "navn": "name", "tittel": "title",
    "pris": "prices", "priser": "prices", "varighet": "duration", "kull": "cohorts",
    "grupper": "groups", "gruppe": "groups", "startuke": "start_week", "start_uke": "start_week",
    "horisont": "horizon_weeks", "rente": "discount_rate", "diskonteringsrente": "discount_rate",
    "kontrakt": "contract", "forløp": "pathway", "forlop": "pathway", "mal": "template",
    "replikasjoner": "replications", "frø": "seed", "utfall": "outcomes", "tak": "caps",
    "oppdragsgiver": "commissioners", "oppdragsgivere": "commissioners", "investorer": "investors",
    "leverandør": "provider", "leverandor": "provider", "kapasitet": "capacity", "plasser": "places",
}
"""Norwegian words an adviser may write for effekt's (English) keys, for the did-you-mean."""

_SPACED = re.compile(r"[+-]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?")
_COMMA = re.compile(r"[+-]?\d+,\d+")
_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def decode(raw: bytes) -> tuple[str, str | None]:
    """``(text, None)``, or ``("", problem)`` saying what the bytes are and how to save them.

    A UTF-8 byte-order mark (Notepad's "UTF-8 with BOM") is read as if absent: the text is the
    same. A file with NUL bytes is binary; bytes that are not UTF-8 but read as Windows-1252 are
    named as that encoding with the first offending character and its line, since "save as
    UTF-8" is the one fix and the user must find the character. The problem is worded in English
    and bokmål (:func:`effekt.specfile.said`)."""
    from effekt.specfile import said  # specfile reads its files through this module

    if b"\x00" in raw[:8192]:
        return "", said("is a binary file, not a TOML text file", "er en binærfil, ikke en TOML-tekstfil")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        byte = raw[err.start]
        try:
            char = bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:
            char = ""
        if char and char.isprintable():
            return "", said(f"is not UTF-8 text (byte 0x{byte:02x} at line {line}): it looks saved as "
                            f"Windows-1252 (Latin-1), where that byte is '{char}'. TOML files are UTF-8: "
                            "save it again with the encoding UTF-8 (in Notepad: File > Save as > Encoding: "
                            "UTF-8)",
                            f"er ikke UTF-8-tekst (byte 0x{byte:02x} på linje {line}): den ser ut til å være "
                            f"lagret som Windows-1252 (Latin-1), der den byten er '{char}'. TOML-filer er "
                            "UTF-8: lagre den på nytt med kodingen UTF-8 (i Notisblokk: Fil > Lagre som > "
                            "Koding: UTF-8)")
        return "", said(f"is not UTF-8 text (byte 0x{byte:02x} at line {line}); TOML files are UTF-8: save "
                        "it as UTF-8",
                        f"er ikke UTF-8-tekst (byte 0x{byte:02x} på linje {line}); TOML-filer er UTF-8: "
                        "lagre den som UTF-8")
    return text.removeprefix(BOM), None


def plain_number(text: str) -> int | float | None:
    """The number a person meant by ``150 000``, ``1 234,5`` or ``0,04`` (None if it is not one)."""
    text = text.strip()
    if _SPACED.fullmatch(text) or _COMMA.fullmatch(text):
        digits = re.sub(r"[ \u00a0\u202f]", "", text).replace(",", ".")
        return float(digits) if "." in digits else int(digits)
    return None


def _toml_number(value: int | float) -> str:
    return str(value) if isinstance(value, int) else repr(value)


def explain(text: str, err: tomllib.TOMLDecodeError) -> str:
    """tomllib's message, or what to write instead where the offending line shows a known habit:
    a decimal comma, a thousands space, or a key with æ, ø or å (in English and bokmål,
    :func:`effekt.specfile.said`; tomllib's own message stays as it is)."""
    from effekt.specfile import said  # specfile reads its files through this module

    found = _AT.search(str(err))
    if not found:
        return said(f"not valid TOML: {err}", f"ikke gyldig TOML: {err}")
    lineno = int(found.group(1))
    lines = text.splitlines()
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    code = line.split("#", 1)[0]
    where = f"line {lineno}"
    where_nb = f"linje {lineno}"
    if "=" in code:
        key, value = (part.strip() for part in code.split("=", 1))
        number = plain_number(value)
        if number is not None:
            comma = "," in value
            how = ("a decimal number is written with a point" if comma
                   else "a number is written without spaces (an underscore may group the digits)")
            how_nb = ("et desimaltall skrives med punktum" if comma
                      else "et tall skrives uten mellomrom (understrek kan gruppere sifrene)")
            return said(f"{where}: {how}: write {key} = {_toml_number(number)}, not {value}",
                        f"{where_nb}: {how_nb}: skriv {key} = {_toml_number(number)}, ikke {value}")
        bare = key.strip("[] ")
        if bare and not bare.isascii() and not (bare.startswith('"') or bare.startswith("'")):
            english = NORWEGIAN_KEYS.get(bare.lower())
            hint = f" (effekt's key for it is '{english}')" if english else ""
            hint_nb = f" (effekts nøkkel for det er '{english}')" if english else ""
            return said(f"{where}: '{bare}' is not a key effekt knows{hint}; keys are written in English "
                        "with the letters a-z, digits, _ and - (the files' keys are listed in docs/)",
                        f"{where_nb}: '{bare}' er ikke en nøkkel effekt kjenner{hint_nb}; nøkler skrives på "
                        "engelsk med bokstavene a-z, sifre, _ og - (filenes nøkler står i docs/)")
    return said(f"not valid TOML: {err}", f"ikke gyldig TOML: {err}")


__all__ = ["BOM", "NORWEGIAN_KEYS", "decode", "explain", "plain_number"]
