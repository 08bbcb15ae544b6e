"""统一社会信用代码 (GB 32100-2015) checks: structure, check character, legacy numbers."""

from __future__ import annotations

import pytest
from django.utils import translation
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from customers.validators import USCC_ALPHABET, check_tax_id, uscc_check_character

# Written out from the standard rather than computed, so the implementation is checked
# against the standard and not against itself.
GB32100_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

# Published codes of well-known companies.
REAL_CODES = [
    "914403001922038216",  # 华为技术有限公司
    "9144030071526726XG",  # 腾讯科技（深圳）有限公司
    "91330100716105852F",  # 阿里巴巴（中国）有限公司
]


@pytest.fixture(autouse=True)
def english():
    # The messages are asserted in their English source form.
    with translation.override("en"):
        yield


def reference_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, GB32100_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


@pytest.mark.parametrize("code", REAL_CODES)
def test_it_accepts_real_codes(code):
    result = check_tax_id(code)

    assert result.valid
    assert result.normalized == code
    assert result.message == ""
    assert result.warning == ""


def test_it_normalizes_spaces_and_case():
    result = check_tax_id(" 9144030071526726xg ")

    assert result.valid
    assert result.normalized == "9144030071526726XG"


def test_it_accepts_an_empty_tax_id():
    assert check_tax_id("").valid
    assert check_tax_id("   ").normalized == ""


def test_it_accepts_a_non_numeric_registration_authority_that_stdnum_refuses():
    # N… = 农民专业合作社 (registered by the agriculture authority): genuine, yet stdnum
    # insists on eight leading digits.
    first17 = "N2110000MA0000000"
    code = first17 + reference_check_character(first17)

    assert check_tax_id(code).valid
    assert not stdnum_uscc.is_valid(code)


@pytest.mark.parametrize("code", REAL_CODES)
def test_it_rejects_a_wrong_check_character(code):
    wrong = "0" if code[-1] != "0" else "1"

    result = check_tax_id(code[:-1] + wrong)

    assert not result.valid
    assert "check character" in result.message
    assert f"expected {code[-1]}" in result.message


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_it_rejects_the_letters_the_standard_never_uses(letter):
    code = REAL_CODES[0][:10] + letter + REAL_CODES[0][11:]

    result = check_tax_id(code)

    assert not result.valid
    assert letter in result.message
    assert "not allowed" in result.message


@pytest.mark.parametrize("length", [1, 14, 16, 17, 19, 21])
def test_it_rejects_other_lengths(length):
    result = check_tax_id(("9144030071526726XG" * 2)[:length])

    assert not result.valid
    assert str(length) in result.message
    assert "18 characters" in result.message


@pytest.mark.parametrize("code", ["440301192203821", "44030119220382100001"])
def test_it_accepts_legacy_15_and_20_character_numbers_with_a_warning(code):
    result = check_tax_id(code)

    assert result.valid
    assert result.normalized == code
    assert "Legacy" in result.warning


def test_it_rejects_a_legacy_length_with_punctuation():
    result = check_tax_id("44030119220382-")

    assert not result.valid
    assert "digits and letters" in result.message


@given(first17=st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_it_makes_any_17_characters_valid_with_the_computed_check_character(first17):
    check = uscc_check_character(first17)

    assert check == reference_check_character(first17)
    assert check_tax_id(first17 + check).valid
    if first17[:8].isdigit():
        # Where stdnum applies, it agrees.
        assert stdnum_uscc.is_valid(first17 + check)


@given(
    first17=st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17),
    last=st.sampled_from(USCC_ALPHABET),
)
def test_it_rejects_every_other_last_character(first17, last):
    assume(last != uscc_check_character(first17))

    result = check_tax_id(first17 + last)

    assert not result.valid
    assert "check character" in result.message
