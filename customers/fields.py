"""Text that is printed on a 发票 or a bill (names, addresses, phones, bank details).

A tax authority's platform refuses, and paper shows as garbage, what the eye cannot see:
control characters (``\\x01``, a tab pasted from a spreadsheet, U+202E right-to-left
override, zero-width joiners) and the same character written two ways (NFC vs NFD, so
"é" may be one code point or two). Such text is normalised to NFC and trimmed when the
model is cleaned — in every path: services, the admin, the API, the portal — and refused
with a message naming the field when it still holds a control or format character.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Unicode categories Cc (controls), Cf (format: bidi overrides, zero-width), Cs, Co, Cn.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def printable(value: str) -> str:
    """``value`` in NFC with surrounding white space removed."""
    return unicodedata.normalize("NFC", value).strip()


@deconstructible
class PrintableValidator:
    message = _("Remove the invisible control character (%(character)s) at position %(position)s.")
    code = "control_character"

    def __call__(self, value: str) -> None:
        for position, character in enumerate(value, start=1):
            if unicodedata.category(character) in _REFUSED_CATEGORIES:
                raise ValidationError(
                    self.message,
                    code=self.code,
                    params={"character": f"U+{ord(character):04X}", "position": position},
                )

    def __eq__(self, other) -> bool:
        return isinstance(other, PrintableValidator)


class PrintedCharField(models.CharField):
    """A CharField for text printed on documents: NFC, trimmed, no control characters."""

    default_validators = [PrintableValidator()]

    def to_python(self, value):
        value = super().to_python(value)
        return printable(value) if isinstance(value, str) else value
