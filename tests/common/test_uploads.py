"""The one bounded reader of uploads (common/uploads.py, issue 21 findings 4 and 15):
numbers with bounded digits and exponents, integers only for integer fields, text without
control characters, UTF-8 or GB18030, JSON depth."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.uploads import (
    OversizedNumber,
    TooDeep,
    UploadError,
    open_text,
    parse_decimal,
    parse_int,
    read_json,
    text_field,
)


@pytest.mark.parametrize(
    "text", ["1e1000000", "-1e-1000000", "9" * 5000, "1" + "0" * 45, "NaN", "Infinity", "sNaN", "0x10", "١٢", "³", ""]
)
def test_an_unbounded_or_unreadable_number_is_refused_at_once(text):
    started = time.monotonic()
    with pytest.raises(UploadError):
        parse_decimal(text)
    assert time.monotonic() - started < 0.1


@pytest.mark.parametrize("text", ["1e30", "1.0", "12.5", "1e3", "-1", "9" * 5000, "1_000", " ", "True"])
def test_an_integer_field_accepts_integers_only(text):
    with pytest.raises(UploadError):
        parse_int(text)


def test_integers_within_range_are_read():
    assert parse_int("0") == 0
    assert parse_int(" 1234567 ") == 1234567
    assert parse_int(10**12, maximum=10**12) == 10**12
    with pytest.raises(UploadError):
        parse_int(10**12 + 1, maximum=10**12)
    with pytest.raises(UploadError):
        parse_int(True)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=8, min_value=-(10**12), max_value=10**12))
def test_every_ordinary_amount_reads_back_exactly(amount):
    assert parse_decimal(str(amount)) == amount


def test_the_exponent_bound_can_be_narrowed_for_amounts():
    assert parse_decimal("1e12", max_exponent=12) == Decimal("1e12")
    with pytest.raises(UploadError):
        parse_decimal("1e13", max_exponent=12)


def test_json_numbers_are_bounded_and_oversized_ones_kept_for_the_field_to_refuse():
    document = read_json('{"a": 1.5, "b": ' + "9" * 5000 + ', "c": 1e1000000, "d": 12}')

    assert document["a"] == Decimal("1.5") and document["d"] == 12
    assert isinstance(document["b"], OversizedNumber)
    with pytest.raises(UploadError):
        parse_int(document["b"])
    assert parse_decimal(document["a"]) == Decimal("1.5")
    with pytest.raises(UploadError):
        parse_decimal(document["c"])


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_json_nested_too_deep_is_refused(depth):
    with pytest.raises(TooDeep):
        read_json("[" * depth + "]" * depth)


def test_text_fields_refuse_control_characters_and_overlong_values():
    assert text_field("  gpt-4o ", max_length=100) == "gpt-4o"
    for bad in ("gpt\x004o", "a\x1bb", "m" * 101):
        with pytest.raises(UploadError):
            text_field(bad, max_length=100)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_utf8_and_gb18030_are_read(encoding):
    text = "model,说明\ngpt-4o,深度求索 €\n" if encoding != "gbk" else "model,说明\ngpt-4o,深度求索\n"
    assert open_text(text.encode(encoding)).read() == text


def test_other_encodings_are_refused_with_how_to_save_as_utf8():
    with pytest.raises(UploadError, match="UTF-8"):
        open_text("model\n深度求索\n".encode("utf-16"))


def test_a_stream_over_the_limit_is_refused_while_reading():
    with pytest.raises(UploadError, match="MB"):
        open_text(b"a" * 2048, limit=1024)
