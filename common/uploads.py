"""Reading what a user uploads, bounded: every upload path reads its numbers, text fields,
encodings and JSON here, so that no file can make a server process work for minutes.

- Numbers: :func:`parse_decimal` reads at most MAX_NUMBER_CHARS characters, MAX_DIGITS
  significant digits and an exponent within ±MAX_EXPONENT (``1e1000000`` and a 5,000-digit
  number are refused before any arithmetic); :func:`parse_int` reads integers only
  (``1e30``, ``1.0`` and ``12.5`` are refused for a token count).
- Text: :func:`text_field` refuses NUL and other control characters and bounds the length.
- Encodings: :func:`open_text` streams a file as text: UTF-8 with or without a BOM, else
  GB18030 (a superset of GBK, what Excel in China saves as "CSV"), else refused with how to
  save it as UTF-8.
- JSON: :func:`read_json` refuses nesting deeper than MAX_JSON_DEPTH (100,000 ``[`` was a
  RecursionError) and keeps an oversized number as :class:`OversizedNumber` for the field
  reader to refuse, naming the field, instead of converting it.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.integers import UNBOUNDED, NotWholeNumber, whole_number

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_NUMBER_CHARS = 40
MAX_DIGITS = 30
MAX_EXPONENT = 30
MAX_JSON_DEPTH = 32
READ_CHUNK = 1024 * 1024

_DECIMAL_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?", re.ASCII)


class UploadError(ValueError):
    """A value or a whole file refused; the message says why (for the user)."""


class TooDeep(UploadError):
    """JSON nested deeper than the reader's limit."""


class OversizedNumber(str):
    """A JSON number too long to read (its first characters): a field reader refuses it."""


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 24 else text[:20] + "…"


def parse_decimal(value: Any, *, max_digits: int = MAX_DIGITS, max_exponent: int = MAX_EXPONENT) -> Decimal:
    """A finite decimal within the bounds, from a string, an int or a Decimal (JSON)."""
    if isinstance(value, OversizedNumber):
        raise UploadError(_("A number of more than %(n)d characters.") % {"n": MAX_NUMBER_CHARS})
    if isinstance(value, bool) or value is None:
        raise UploadError(_("Not a number: %(value)s.") % {"value": _shown(value)})
    if isinstance(value, Decimal):
        number = value
    else:
        text = str(value).strip()
        if len(text) > MAX_NUMBER_CHARS:
            raise UploadError(_("A number of more than %(n)d characters.") % {"n": MAX_NUMBER_CHARS})
        if not _DECIMAL_RE.fullmatch(text):
            raise UploadError(_("Not a number: %(value)s.") % {"value": _shown(text)})
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise UploadError(_("Not a number: %(value)s.") % {"value": _shown(text)}) from None
    if not number.is_finite():
        raise UploadError(_("Not a number: %(value)s.") % {"value": _shown(value)})
    if number and abs(number.adjusted()) > max_exponent:
        raise UploadError(_("Out of range: %(value)s.") % {"value": _shown(value)})
    if len(number.as_tuple().digits) > max_digits:
        raise UploadError(_("More than %(n)d significant digits.") % {"n": max_digits})
    return number


def parse_int(value: Any, *, minimum: int = 0, maximum: int = 10**15) -> int:
    """An integer (never ``1e3``, ``1.0`` or ``12.5``) within ``minimum``…``maximum``."""
    if isinstance(value, OversizedNumber):
        raise UploadError(_("A number of more than %(n)d characters.") % {"n": MAX_NUMBER_CHARS})
    if isinstance(value, bool) or value is None or isinstance(value, (float, Decimal)):
        raise UploadError(_("Not a whole number: %(value)s.") % {"value": _shown(value)})
    if isinstance(value, int):
        number = value
    else:
        try:  # the one reading of a whole number (common.integers), any size here: the range is checked below
            number = whole_number(str(value), minimum=-UNBOUNDED, maximum=UNBOUNDED, signs=True)
        except NotWholeNumber as exc:
            raise UploadError(str(exc)) from None
    if not minimum <= number <= maximum:
        raise UploadError(
            _("Out of range: %(value)s (%(min)s…%(max)s).") % {"value": _shown(number), "min": minimum, "max": maximum}
        )
    return number


def text_field(value: Any, *, max_length: int) -> str:
    """A one-line text (a model name, a currency): no NUL or other control character, at
    most ``max_length`` characters."""
    if value is None:
        return ""
    text = str(value).strip()
    if len(text) > max_length:
        raise UploadError(_("At most %(n)d characters.") % {"n": max_length})
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise UploadError(_("Contains a control character (such as NUL)."))
    return text


# --- Encodings --------------------------------------------------------------------------

ENCODING_HELP = gettext_lazy(
    "The file is neither UTF-8 nor GB18030/GBK text. In Excel choose “Save as” → “CSV UTF-8 "
    "(comma delimited) (*.csv)”, or export the file again from the provider's console."
)


def _decodes(stream: IO[bytes], encoding: str, limit: int) -> bool:
    """Whether the whole stream is text in ``encoding`` (read in chunks, nothing kept)."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    total = 0
    try:
        while chunk := stream.read(READ_CHUNK):
            total += len(chunk)
            if total > limit:
                raise UploadError(_("The file is larger than %(n)d MB.") % {"n": limit // (1024 * 1024)})
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def open_text(content: bytes | IO[bytes], *, limit: int = MAX_UPLOAD_BYTES) -> IO[str]:
    """The upload as a text stream (universal newlines left to the csv module): UTF-8 with
    or without a BOM, else GB18030; refused otherwise, saying how to save it as UTF-8."""
    # An uploaded file (Django's File) is read through the file object it wraps.
    stream = io.BytesIO(content) if isinstance(content, (bytes, bytearray)) else getattr(content, "file", content)
    for encoding in ("utf-8-sig", "gb18030"):
        if _decodes(stream, encoding, limit):
            stream.seek(0)
            return io.TextIOWrapper(stream, encoding=encoding, newline="")
    raise UploadError(str(ENCODING_HELP))


# --- JSON -------------------------------------------------------------------------------


# What JSON parses to besides objects and arrays.
JSON_SCALARS = frozenset({str, int, float, bool, type(None), Decimal})


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether JSON ``value`` has containers more than ``limit`` levels deep (without
    recursing: the value may be as deep as the parser allows).

    A flat object (the usual usage record) is recognised with one C-level pass over the
    types of its values and never stacked: stacking every record cost about 1 µs a record
    and its 2,000 tuples a batch fed the cyclic garbage collector (issue 20, "Speed")."""
    if type(value) is not dict and type(value) is not list:
        return False
    stack = [(value, 1)]
    scalars = JSON_SCALARS.issuperset
    while stack:
        item, depth = stack.pop()
        children = item.values() if type(item) is dict else item
        for child in children:
            kind = type(child)
            if kind is dict or kind is list:
                if depth + 1 > limit:
                    return True
                if kind is dict and scalars(map(type, child.values())):
                    continue
                stack.append((child, depth + 1))
    return False


def _number_hook(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def hook(text: str) -> Any:
        return OversizedNumber(text[:20]) if len(text) > MAX_NUMBER_CHARS else convert(text)

    return hook


def read_json(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH, decimals: bool = True, strict: bool = True) -> Any:
    """The JSON document, its numbers bounded (ints as int, others as Decimal — or float
    with ``decimals=False`` — a longer one as OversizedNumber); NaN and ±Infinity as
    non-finite numbers of the same kind, which no field reader accepts. Raises UploadError for invalid JSON or nesting deeper than ``max_depth``."""
    too_deep = _("Nested more than %(n)d levels deep.") % {"n": max_depth}
    try:
        document = json.loads(
            text,
            strict=strict,
            parse_int=_number_hook(int),
            parse_float=_number_hook(Decimal if decimals else float),
            parse_constant=Decimal if decimals else float,
        )
    except RecursionError:
        raise TooDeep(too_deep) from None
    except json.JSONDecodeError as exc:
        raise UploadError(_("Not valid JSON (line %(line)s).") % {"line": exc.lineno}) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UploadError(_("Not valid JSON: %(error)s") % {"error": exc}) from None
    if nested_deeper_than(document, max_depth):
        raise TooDeep(too_deep)
    return document
