"""Money helpers shared by bills, invoices and their PDFs: the one rounding, and the amount
in figures and in 人民币大写 as printed on invoices (../shared/domain/fapiao.md).

Conventions of ``rmb_upper`` (fapiao.md "Uppercase amount"):

- 圆 (not 元), 角, 分; 整 whenever there is no 分: after 圆 (``壹拾圆整``) and also after
  角 (``陆仟圆伍角整``). fapiao.md makes 整 optional after 角 and forbids it after 分; we
  always write it after 角 so that nothing can be appended, which gives the simple rule
  "整 if and only if the 分 digit is zero".
- A leading 壹拾 is kept (``壹拾圆整``, ``壹拾万伍仟圆整``).
- One 零 for each run of zeros inside the integer part, including across the 万/亿
  sections (``壹万零壹拾圆整``, ``壹亿零壹圆整``, ``贰亿零叁仟圆整``); none for trailing
  zeros, and none when the run is only the trailing zeros of a section followed by the
  next section's 仟 digit (``壹拾万伍仟圆整``; PBOC allows either). Unlike cn2an, a whole
  section of zeros between digits gets its 零 (``贰亿零叁仟``, not ``贰亿叁仟``) — with
  元 for 圆 and no 整 after 角, the only differences from cn2an 0.5 over 50,000 amounts,
  which is why the project does not depend on it.
- 零 between 圆 and 分 when 角 is zero (``壹万陆仟肆佰零玖圆零贰分``); none between 圆
  and 角 even when the units digit is zero (``壹仟陆佰捌拾圆叁角贰分``).
- No 零圆 before 角/分 of an amount under one yuan (``壹分``, ``伍角整``); zero itself is
  ``零圆整``.
- Negative (red-letter) amounts: ``(负数)`` prefix; ``-0.00`` is zero, without it.
- The amount is quantized half up to the fen first; up to 9999 万亿 (|amount| < 10^16).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from common.admin_display import money_text

CENT = Decimal("0.01")

DIGITS = "零壹贰叁肆伍陆柒捌玖"
# Units inside a four-digit section, from the units place up.
SECTION_UNITS = ("", "拾", "佰", "仟")
# Names of the four-digit sections, from the units section up.
SECTION_NAMES = ("", "万", "亿", "万亿")
NEGATIVE_PREFIX = "(负数)"
UPPER_LIMIT = 10**16  # 壹亿亿: the first amount that needs more than 万亿


def quantize_money(value: Decimal) -> Decimal:
    """The one rounding of money: half up to the fen (0.01)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _as_money(amount: Decimal | int) -> Decimal:
    """Quantized amount; floats are refused (money is Decimal only), ``-0.00`` becomes 0.00."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"money must be a Decimal or an int, not {type(amount).__name__}")
    value = Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"not an amount of money: {amount}")
    try:
        value = quantize_money(value)
    except InvalidOperation:  # more digits than the context's precision
        raise ValueError(f"amount too large: {amount}") from None
    if value.is_zero():
        value = abs(value)
    return value


def _section_upper(number: int) -> str:
    """0 < number < 10^4: digits with their units, one 零 for a run of inner zeros."""
    out: list[str] = []
    pending_zero = False
    for place in range(3, -1, -1):
        digit = number // 10**place % 10
        if digit == 0:
            pending_zero = bool(out)  # zeros before the first digit are not written
            continue
        if pending_zero:
            out.append(DIGITS[0])
            pending_zero = False
        out.append(DIGITS[digit] + SECTION_UNITS[place])
    return "".join(out)


def _integer_upper(number: int) -> str:
    """0 < number < 10^16, without 圆: four-digit sections 万亿, 亿, 万 and units."""
    sections = [number // 10 ** (4 * k) % 10**4 for k in range(3, -1, -1)]  # 万亿 first
    out: list[str] = []
    zeros_pending = False
    for k, section in zip(range(3, -1, -1), sections, strict=True):
        if section == 0:
            zeros_pending = bool(out)
            continue
        # A whole section of zeros, or zeros at the top of this one, sit between two
        # digits: one 零. Only a section's own trailing zeros before the next section's 仟
        # go unwritten (壹拾万伍仟, as PBOC's 壹拾万柒仟元零伍角叁分).
        if out and (zeros_pending or section < 1000):
            out.append(DIGITS[0])
        zeros_pending = False
        name = SECTION_NAMES[k]
        if k == 3 and sections[1]:
            name = "万"  # 壹万贰仟亿: the 亿 comes with the next section
        out.append(_section_upper(section) + name)
    return "".join(out)


def rmb_upper(amount: Decimal | int) -> str:
    """人民币大写 as printed on invoices, e.g. 12345.67 → 壹万贰仟叁佰肆拾伍圆陆角柒分.

    See the module docstring for the conventions; raises ``ValueError`` from 10^16 up.
    """
    value = _as_money(amount)
    if abs(value) >= UPPER_LIMIT:
        raise ValueError(f"amount too large for 人民币大写: {value}")
    fen_total = int(abs(value) * 100)
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)

    parts: list[str] = []
    if yuan:
        parts.append(_integer_upper(yuan) + "圆")
    elif not cents:
        parts.append("零圆")
    if jiao:
        parts.append(DIGITS[jiao] + "角")
    elif fen and yuan:
        parts.append(DIGITS[0])
    if fen:
        parts.append(DIGITS[fen] + "分")
    else:
        parts.append("整")
    text = "".join(parts)
    return NEGATIVE_PREFIX + text if value < 0 else text


def rmb_figures(amount: Decimal | int) -> str:
    """The amount in figures as printed next to the uppercase, rounded half up to the fen,
    in the one money format (common.admin_display.money_text): ``¥12,345.67``, ``-¥141.00``."""
    return money_text(_as_money(amount))
