"""The one reading of a whole number a client sends as text: a query parameter (``?rows=``,
``?version=``, ``?import=``), a form field (a budget's thresholds), a header (a timestamp, a
length), a path segment that may be an id.

Python's own checks are too lenient for this: ``"³".isdigit()`` is true while ``int("³")``
fails (a 500 where the check was trusted), ``int("٣")`` is 3, ``int(" 1_0 ")`` is 10, and
``int("9" * 20)`` is a number no database column holds. Here a whole number is ASCII digits
only (a sign only where the caller allows negatives), at most ``MAX_CHARS`` characters, within
``minimum``…``maximum`` (by default what a PostgreSQL ``integer`` column, every id here, holds).
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import BadRequest, ValidationError
from django.utils.translation import gettext as _

PG_INTEGER_MAX = 2**31 - 1
MAX_CHARS = 40
UNBOUNDED = 10**MAX_CHARS  # any number of MAX_CHARS digits: the range is the caller's

_UNSIGNED = re.compile(r"[0-9]+", re.ASCII)
_SIGNED = re.compile(r"[+-]?[0-9]+", re.ASCII)


class NotWholeNumber(ValueError):
    """The text is not a whole number in range; the message says why, for the user."""


class BadParameter(BadRequest):
    """A request parameter that is not what the page or operation takes: 400 naming it
    (Django's BadRequest, so a page answers 400 by itself; the API's handler answers it in
    the contract's error shape)."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def _shown(text: str) -> str:
    return text if len(text) <= 24 else text[:21] + "…"


def whole_number(text: str, *, minimum: int = 0, maximum: int = PG_INTEGER_MAX, signs: bool = False) -> int:
    """``text`` (surrounding spaces ignored) as an int; ``NotWholeNumber`` otherwise.

    ``signs`` allows a leading ``+``/``-`` (a negative still needs ``minimum`` below 0)."""
    text = str(text).strip()
    if len(text) > MAX_CHARS:
        raise NotWholeNumber(_("A number of more than %(n)d characters.") % {"n": MAX_CHARS})
    pattern = _SIGNED if signs or minimum < 0 else _UNSIGNED
    if not pattern.fullmatch(text):
        raise NotWholeNumber(_("Not a whole number: %(value)s.") % {"value": _shown(text)})
    number = int(text)
    if not minimum <= number <= maximum:
        raise NotWholeNumber(
            _("Out of range: %(value)s (%(min)s…%(max)s).") % {"value": _shown(text), "min": minimum, "max": maximum}
        )
    return number


def int_param(
    raw: str | None,
    *,
    name: str,
    default: int | None = None,
    minimum: int = 0,
    maximum: int = PG_INTEGER_MAX,
) -> int | None:
    """A request parameter ``name`` as an int: absent or empty → ``default``; anything but a
    whole number within ``minimum``…``maximum`` → ``BadParameter`` (400 naming ``name``)."""
    if raw is None or str(raw).strip() == "":
        return default
    try:
        return whole_number(raw, minimum=minimum, maximum=maximum)
    except NotWholeNumber as exc:
        raise BadParameter(name, str(exc)) from None


def whole_number_or_none(text: str, *, minimum: int = 0, maximum: int = PG_INTEGER_MAX) -> int | None:
    """``whole_number``, or None for text that is not one (a header checked, not reported)."""
    try:
        return whole_number(text, minimum=minimum, maximum=maximum)
    except NotWholeNumber:
        return None


def id_or_none(text: str) -> int | None:
    """``text`` as a row id when it is one (a bill's URL takes its number or a draft's id),
    else None."""
    return whole_number_or_none(text, minimum=1)


class WholeNumberFormField(forms.IntegerField):
    """Django's IntegerField read by ``whole_number``: ``٣``, ``1_0`` and ``+3`` are not
    numbers here (``int()`` takes them)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:  # a sign is read; a negative then meets min_value's own message
            return whole_number(str(value), minimum=-UNBOUNDED, maximum=UNBOUNDED)
        except NotWholeNumber:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
