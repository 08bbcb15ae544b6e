"""billing.pricing.money: the rounding, 人民币大写 as printed on invoices, and the amount in figures.

The expected strings below are written out by hand from the PBOC rules for 大写金额 and
the invoice conventions in fapiao.md (圆, kept 壹拾, 零 rules, (负数), 整 iff no 分).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from billing.pricing.money import quantize_money, rmb_figures, rmb_upper

UPPER_CASES = [
    # Under one yuan: no 零圆.
    ("0.01", "壹分"),
    ("0.05", "伍分"),
    ("0.10", "壹角整"),
    ("0.5", "伍角整"),
    ("0.15", "壹角伍分"),
    ("0.00", "零圆整"),
    # Whole yuan: 整 after 圆; the leading 壹拾 is kept.
    ("1", "壹圆整"),
    ("10", "壹拾圆整"),
    ("11", "壹拾壹圆整"),
    ("19.00", "壹拾玖圆整"),
    ("100", "壹佰圆整"),
    ("101", "壹佰零壹圆整"),
    ("110", "壹佰壹拾圆整"),
    ("1004", "壹仟零肆圆整"),
    ("1010", "壹仟零壹拾圆整"),
    ("10000", "壹万圆整"),
    ("10010", "壹万零壹拾圆整"),
    ("100000", "壹拾万圆整"),
    ("105000", "壹拾万伍仟圆整"),
    ("1000000", "壹佰万圆整"),
    ("20000000.00", "贰仟万圆整"),
    ("30001000", "叁仟万壹仟圆整"),
    ("100000000", "壹亿圆整"),
    ("1000000000", "壹拾亿圆整"),
    ("120000000", "壹亿贰仟万圆整"),
    ("100010000", "壹亿零壹万圆整"),
    ("10000000000000", "壹拾万亿圆整"),
    ("1000000010000", "壹万亿零壹万圆整"),
    ("1000100000000", "壹万零壹亿圆整"),
    ("1200000000000", "壹万贰仟亿圆整"),
    ("100000010000", "壹仟亿零壹万圆整"),
    ("1000020000000", "壹万亿零贰仟万圆整"),
    ("200003000", "贰亿零叁仟圆整"),
    ("300070000", "叁亿零柒万圆整"),
    ("400000300", "肆亿零叁佰圆整"),
    # 圆 followed by 零 when 角 is zero and 分 is not; no 零 before 角.
    ("1000.01", "壹仟圆零壹分"),
    ("16409.02", "壹万陆仟肆佰零玖圆零贰分"),
    ("100000001.01", "壹亿零壹圆零壹分"),
    # A whole 万 section of zeros between 亿 and the units: its 零 (cn2an 0.5 writes
    # 肆拾贰亿壹仟…, which reads as 肆拾贰亿壹仟万…; compared over 50,000 amounts, that was
    # its only difference besides 元 for 圆 and no 整 after 角, so cn2an was dropped).
    ("4200001637.41", "肆拾贰亿零壹仟陆佰叁拾柒圆肆角壹分"),
    ("1010101.01", "壹佰零壹万零壹佰零壹圆零壹分"),
    ("1680.32", "壹仟陆佰捌拾圆叁角贰分"),
    ("107000.53", "壹拾万柒仟圆伍角叁分"),
    # 整 after 角 when 分 is zero (our convention; fapiao.md: optional there).
    ("6000.5", "陆仟圆伍角整"),
    ("325.10", "叁佰贰拾伍圆壹角整"),
    # The worked example of fapiao.md and other full amounts.
    ("12345.67", "壹万贰仟叁佰肆拾伍圆陆角柒分"),
    ("698.81", "陆佰玖拾捌圆捌角壹分"),
    ("11646.86", "壹万壹仟陆佰肆拾陆圆捌角陆分"),
    ("9999999999999999.99", "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖圆玖角玖分"),
    # Negative (red-letter) amounts.
    ("-141", "(负数)壹佰肆拾壹圆整"),
    ("-141.00", "(负数)壹佰肆拾壹圆整"),
    ("-0.01", "(负数)壹分"),
    ("-12345.67", "(负数)壹万贰仟叁佰肆拾伍圆陆角柒分"),
    # Quantized half up first.
    ("0.005", "壹分"),
    ("0.004", "零圆整"),
    ("2.675", "贰圆陆角捌分"),
    ("9.995", "壹拾圆整"),
    ("-0.001", "零圆整"),  # -0.00 is zero, not a red amount
]


@pytest.mark.parametrize(("amount", "expected"), UPPER_CASES)
def test_rmb_upper_writes_the_invoice_uppercase(amount, expected):
    assert rmb_upper(Decimal(amount)) == expected


def test_rmb_upper_takes_integers():
    assert rmb_upper(10) == "壹拾圆整"


@pytest.mark.parametrize(
    "amount", [Decimal("1e16"), Decimal("-1e16"), Decimal("9999999999999999.995"), Decimal("1e40")]
)
def test_rmb_upper_refuses_amounts_past_wan_yi(amount):
    with pytest.raises(ValueError):
        rmb_upper(amount)


@pytest.mark.parametrize("amount", [1.5, "1.50", None, True])
def test_money_helpers_refuse_floats_and_strings(amount):
    with pytest.raises(TypeError):
        rmb_upper(amount)
    with pytest.raises(TypeError):
        rmb_figures(amount)


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity")])
def test_money_helpers_refuse_non_finite_decimals(amount):
    with pytest.raises(ValueError):
        rmb_upper(amount)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("12345.67", "¥12,345.67"),
        ("-141", "-¥141.00"),
        ("0", "¥0.00"),
        ("-0.001", "¥0.00"),
        ("0.005", "¥0.01"),
        ("1E+3", "¥1,000.00"),
        ("10000000000000", "¥10,000,000,000,000.00"),
    ],
)
def test_rmb_figures(amount, expected):
    assert rmb_figures(Decimal(amount)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.0049999", "0.00"),
        ("2.675", "2.68"),
        ("-0.005", "-0.01"),
        ("-2.665", "-2.67"),
        ("7", "7.00"),
    ],
)
def test_quantize_money_rounds_half_up_to_the_fen(value, expected):
    result = quantize_money(Decimal(value))
    assert result == Decimal(expected)
    assert str(result) == expected


# --- Properties ---------------------------------------------------------------------

UPPER_DIGITS = {ch: n for n, ch in enumerate("零壹贰叁肆伍陆柒捌玖")}
SMALL_UNITS = {"拾": 10, "佰": 100, "仟": 1000}
ALLOWED = set(UPPER_DIGITS) | set(SMALL_UNITS) | set("万亿圆角分整")


ZERO = "零"


def _section_tokens(text: str, shift: int) -> list:
    """Below 10^4: (digit, place) for each digit, ZERO for each 零, in order."""
    tokens: list = []
    digit = None
    for ch in text:
        if ch == ZERO:
            assert digit is None, f"零 right after a digit in {text!r}"
            tokens.append(ZERO)
        elif ch in UPPER_DIGITS:
            assert digit is None, f"two digits in a row in {text!r}"
            digit = UPPER_DIGITS[ch]
        elif ch in SMALL_UNITS:
            assert digit is not None, f"unit {ch} without a digit in {text!r}"
            tokens.append((digit, shift + len(str(SMALL_UNITS[ch])) - 1))
            digit = None
        else:
            raise AssertionError(f"unexpected {ch!r} in {text!r}")
    if digit is not None:
        tokens.append((digit, shift))
    return tokens


def _integer_tokens(text: str, shift: int = 0) -> list:
    high, sep, low = text.partition("亿")
    if sep:
        assert high and "亿" not in low, f"亿 twice or without digits in {text!r}"
        return _integer_tokens(high, shift + 8) + _integer_tokens(low, shift)
    high, sep, low = text.partition("万")
    if sep:
        assert high and "万" not in low, f"万 twice or without digits in {text!r}"
        return _section_tokens(high, shift + 4) + _section_tokens(low, shift)
    return _section_tokens(text, shift)


def _zero_expected(upper_place: int, lower_place: int) -> bool:
    """The 零 rule, stated on digit places: one 零 whenever places are skipped between two
    digits, except a section's trailing zeros followed by the next section's 仟."""
    if upper_place - lower_place == 1:
        return False
    return not (lower_place % 4 == 3 and upper_place // 4 == lower_place // 4 + 1)


def _parse_integer(text: str) -> int:
    """Read the integer part, checking places only go down and the 零 rule between digits."""
    if text == ZERO:
        return 0
    tokens = _integer_tokens(text)
    assert tokens[0] != ZERO and tokens[-1] != ZERO, f"dangling 零 in {text!r}"
    digits = [token for token in tokens if token != ZERO]
    assert all(digit > 0 for digit, _ in digits)
    for upper, lower in zip(digits, digits[1:], strict=False):
        assert upper[1] > lower[1], f"places out of order in {text!r}"
    # Walk the tokens pairwise: between two digits there is either nothing or one 零.
    previous, zeros = None, 0
    for token in tokens:
        if token == ZERO:
            zeros += 1
            continue
        if previous is not None:
            assert zeros == int(_zero_expected(previous[1], token[1])), f"零 rule broken in {text!r}"
        previous, zeros = token, 0
    return sum(digit * 10**place for digit, place in digits)


def parse_upper(text: str) -> Decimal:
    """Read an uppercase amount back: the inverse of rmb_upper, written independently and
    strict about the form (圆/角/分/整 and the 零 rules)."""
    sign = 1
    if text.startswith("(负数)"):
        sign, text = -1, text.removeprefix("(负数)")
    integer_text, sep, fraction_text = text.partition("圆")
    if not sep:
        integer_text, fraction_text = "", text
    assert integer_text != ZERO or fraction_text == "整", f"零圆 before 角/分 in {text!r}"
    yuan = _parse_integer(integer_text) if integer_text else 0
    jiao = fen = 0
    rest = fraction_text
    if rest.startswith(ZERO):
        rest = rest.removeprefix(ZERO)
        assert yuan and rest.endswith("分") and "角" not in rest, f"misplaced 零 in {text!r}"
    if "角" in rest:
        jiao_text, _, rest = rest.partition("角")
        assert len(jiao_text) == 1 and jiao_text != ZERO, text
        jiao = UPPER_DIGITS[jiao_text]
    if rest != "整":
        assert len(rest) == 2 and rest[1] == "分" and rest[0] != ZERO, text
        fen = UPPER_DIGITS[rest[0]]
        if yuan and not jiao:
            assert fraction_text.startswith(ZERO), f"零 missing before 分 in {text!r}"
    return sign * Decimal(yuan * 100 + jiao * 10 + fen).scaleb(-2)


def test_the_test_parser_reads_the_table_back():
    for amount, expected in UPPER_CASES:
        assert parse_upper(expected) == quantize_money(Decimal(amount)), expected


amounts = st.decimals(
    min_value=0, max_value=Decimal("999999999999.99"), places=2, allow_nan=False, allow_infinity=False
)


@st.composite
def zero_rich_amounts(draw):
    """Amounts full of zeros in every place: where the 零 rules go wrong."""
    digits = draw(st.lists(st.sampled_from([0, 0, 0, 0, 1, 2, 5, 9]), min_size=1, max_size=18))
    fen = int("".join(map(str, digits)))
    sign = draw(st.sampled_from([1, -1]))
    return sign * Decimal(fen).scaleb(-2)


any_amounts = st.one_of(amounts, zero_rich_amounts(), amounts.map(lambda a: -a))


@given(any_amounts)
@example(Decimal("0"))
@example(Decimal("-0.01"))
def test_uppercase_uses_only_the_invoice_characters(amount):
    text = rmb_upper(amount).removeprefix("(负数)")
    assert set(text) <= ALLOWED
    assert "元" not in text


@given(any_amounts)
def test_zheng_iff_no_fen(amount):
    text = rmb_upper(amount)
    has_fen = quantize_money(amount) % Decimal("0.1") != 0
    assert text.endswith("分") == has_fen
    assert text.endswith("整") == (not has_fen)
    assert text.count("整") <= 1


@given(any_amounts)
def test_never_two_zeros_in_a_row_nor_a_dangling_zero(amount):
    text = rmb_upper(amount)
    assert "零零" not in text
    if text != "零圆整":
        assert "零圆" not in text and not text.removeprefix("(负数)").startswith("零")
    assert not text.endswith("零")
    for unit in "万亿圆角分":
        assert "零" + unit not in text or text == "零圆整"


@given(any_amounts)
def test_negative_iff_red_prefix(amount):
    text = rmb_upper(amount)
    assert text.startswith("(负数)") == (quantize_money(amount) < 0)
    assert text.count("(负数)") <= 1
    assert rmb_figures(amount).startswith("-¥") == (quantize_money(amount) < 0)


@given(amounts)
@example(Decimal("10"))
@example(Decimal("100000001.01"))
def test_uppercase_reads_back_to_the_amount(amount):
    assert parse_upper(rmb_upper(amount)) == quantize_money(amount)


@given(zero_rich_amounts())
def test_uppercase_reads_back_with_zeros_everywhere_up_to_wan_yi(amount):
    assert parse_upper(rmb_upper(amount)) == quantize_money(amount)


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=4, allow_nan=False, allow_infinity=False))
def test_unrounded_amounts_are_quantized_half_up_first(amount):
    assert rmb_upper(amount) == rmb_upper(quantize_money(amount))
    assert rmb_figures(amount) == rmb_figures(quantize_money(amount))
