"""Direct identifiers a pattern can recognise: e-mail addresses, phone numbers,
Norwegian national identity numbers (checksum validated) and web addresses.

Shared by ``qcode pseudonymise scan`` (proposals for the key) and the ``check`` rule
``identifier-residue`` (proof that none is left), so both see exactly the same things.
Names are not found here: they come from the key file (``qcode.format.pseudonyms``)
and from the scan's capitalised-word heuristic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

PATTERN_KINDS = ("email", "phone", "national-id", "url")

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_URL = re.compile(r"(?<![\w@])(?:https?://|www\.)[^\s<>\"'«»()\[\]]+[^\s<>\"'«»()\[\].,;:!?]",
                  re.IGNORECASE)
# Eleven digits, run together or as «ddmmyy nnnnn».
# A comma or full stop may follow (end of a clause), but not one followed by a digit.
_NATIONAL_ID = re.compile(r"(?<![\d.,:/-])(\d{6})[ ]?(\d{5})(?![\d]|[.,:/-]\d|[ ]\d)")
# Norwegian numbers have eight digits and do not start with 0 or 1; written together,
# in pairs («22 33 44 55») or as 3-2-3 («922 33 444»), with or without +47 / 0047.
# International numbers: a + and 8 to 15 digits in groups.
_PHONE = re.compile(
    r"(?<![\w+.,:/-])(?:"
    r"(?:(?:\+|00)47[ -]?)?[2-9]\d(?:[ -]?\d{2}){3}"
    r"|(?:(?:\+|00)47[ -]?)?[2-9]\d{2}[ -]\d{2}[ -]\d{3}"
    r"|\+(?!47)\d{1,3}(?:[ -]?\(?\d{1,4}\)?){2,5}"
    r")(?![\w.,:/-]\d|\w)"
)

_YEARS = re.compile(r"(?:19|20)\d\d[ -](?:19|20)\d\d")  # «2019-2020» is a school year
_ISO_DATE = re.compile(r"(?:19|20)\d\d-[01]\d-[0-3]\d")  # «2019-02-26» is a date

_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


@dataclass(frozen=True)
class Identifier:
    """One pattern match: ``text`` is ``source[start:end]``."""

    start: int
    end: int
    kind: str
    text: str


def valid_national_id(digits: str) -> bool:
    """True for eleven digits whose two mod-11 check digits are right and whose first six
    are a date (D-numbers add 4 to the day's first digit, H-numbers 4 to the month's)."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    numbers = [int(d) for d in digits]
    for weights, check in ((_WEIGHTS_1, 9), (_WEIGHTS_2, 10)):
        rest = sum(w * n for w, n in zip(weights, numbers, strict=False)) % 11
        expected = 0 if rest == 0 else 11 - rest
        if expected == 10 or expected != numbers[check]:
            return False
    day, month = int(digits[0:2]), int(digits[2:4])
    if day > 40:
        day -= 40
    if month > 40:
        month -= 40
    return 1 <= day <= 31 and 1 <= month <= 12


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def find_identifiers(text: str) -> Iterator[Identifier]:
    """Every e-mail address, phone number, valid national identity number and web
    address in ``text``, in order of position; a span is reported once, as its most
    specific kind (an e-mail address is not also a web address, an identity number not a
    phone number)."""
    found: list[Identifier] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    def keep(start: int, end: int, kind: str) -> None:
        found.append(Identifier(start, end, kind, text[start:end]))
        taken.append((start, end))

    if "@" in text:
        for m in _EMAIL.finditer(text):
            keep(m.start(), m.end(), "email")
    if "www." in text or "://" in text:
        for m in _URL.finditer(text):
            if free(m.start(), m.end()):
                keep(m.start(), m.end(), "url")
    if any(ch.isdigit() for ch in text):
        for m in _NATIONAL_ID.finditer(text):
            if free(m.start(), m.end()) and valid_national_id(m.group(1) + m.group(2)):
                keep(m.start(), m.end(), "national-id")
        for m in _PHONE.finditer(text):
            digits = _digit_count(m.group())
            if _YEARS.fullmatch(m.group()) or _ISO_DATE.fullmatch(m.group()):
                continue
            if free(m.start(), m.end()) and (digits == 8 or 10 <= digits <= 15
                                             or m.group().startswith(("+", "00"))):
                keep(m.start(), m.end(), "phone")
    found.sort(key=lambda item: (item.start, item.end))
    return iter(found)
