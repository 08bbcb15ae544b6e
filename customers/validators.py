"""统一社会信用代码 (Unified Social Credit Code, GB 32100-2015) checks.

18 characters from ``0123456789ABCDEFGHJKLMNPQRTUWXY``; the 18th is a MOD 31-3 check
character. ``stdnum.cn.uscc`` implements the check but refuses genuine codes whose
registration-authority prefix is not numeric (e.g. ``N…`` for farmers' cooperatives), so
the check digit is computed here and stdnum is used for the 18-digit structure only
where it applies. Legacy 15- and 20-character taxpayer numbers are accepted with a
warning. Staff can override a failing check for a genuine customer.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 3^(i-1) mod 31 for positions 1..17


@dataclass(frozen=True)
class TaxIdCheck:
    valid: bool
    normalized: str
    message: str = ""
    warning: str = ""


def uscc_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def check_tax_id(value: str) -> TaxIdCheck:
    """Check a buyer's 统一社会信用代码 / 纳税人识别号; an empty value is valid (no tax id)."""
    normalized = "".join((value or "").split()).upper()
    if not normalized:
        return TaxIdCheck(True, "")
    if len(normalized) in (15, 20):
        if not normalized.isalnum():
            return TaxIdCheck(False, normalized, str(_("A taxpayer number may only contain digits and letters.")))
        return TaxIdCheck(
            True,
            normalized,
            warning=str(
                _("Legacy 15/20-character taxpayer number; please ask the customer for its 18-character code.")
            ),
        )
    if len(normalized) != 18:
        return TaxIdCheck(
            False,
            normalized,
            str(_("A unified social credit code has 18 characters; this one has %(n)d.") % {"n": len(normalized)}),
        )
    bad = sorted({c for c in normalized if c not in USCC_ALPHABET})
    if bad:
        return TaxIdCheck(
            False,
            normalized,
            str(
                _(
                    "Characters not allowed in a unified social credit code: %(chars)s (I, O, S, V and Z are never used)."
                )
                % {"chars": " ".join(bad)}
            ),
        )
    expected = uscc_check_character(normalized[:17])
    if normalized[17] != expected:
        return TaxIdCheck(
            False,
            normalized,
            str(
                _("The check character is wrong (expected %(expected)s); please check the code for a typo.")
                % {"expected": expected}
            ),
        )
    return TaxIdCheck(True, normalized)
