"""The money rules, written once (CONTRACT.md "Money rules").

* rule 2, ``record_cost``: the cost of some tokens in the price currency, unrounded;
* rule 5, ``line_amount``: Σ cost × (1 − discount/100) × rate, rounded half up to the fen
  once (``cny_unrounded`` is the same product before the rounding, for daily series);
* rule 8, ``vat_amount`` and ``bill_totals``.

The bill, the usage summary, budgets, the allowance, insights, forecasting and presales
estimates all call these, so a customer who compares any two of them sees one number.

Every product is taken at ``EXACT_PRECISION`` digits: enough for Σ cost (38 digits) ×
discount factor (5) × rate (14) to be exact, so the one rounding is ``quantize_money``'s.
Python's default context (28 digits) would round the product once before that, and a line
could then differ from the same usage summed elsewhere by a fen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, localcontext
from typing import Protocol

from billing.pricing.money import quantize_money

EXACT_PRECISION = 80
MILLION = Decimal(1_000_000)
HUNDRED = Decimal(100)
ZERO = Decimal(0)


class Price(Protocol):
    """What rule 2 needs of a price version."""

    input_per_mtok: Decimal
    cached_input_per_mtok: Decimal | None
    output_per_mtok: Decimal


def exact_context():
    """The decimal context every money product is taken in (see the module docstring)."""
    return localcontext(prec=EXACT_PRECISION)


def record_cost_in_context(
    price: Price, input_tokens: int | Decimal, cached: int | Decimal, output: int | Decimal
) -> Decimal:
    """``record_cost`` for a caller already inside ``exact_context()`` (a batch sets it once)."""
    cached_price = price.input_per_mtok if price.cached_input_per_mtok is None else price.cached_input_per_mtok
    return (
        Decimal(input_tokens - cached) * price.input_per_mtok
        + Decimal(cached) * cached_price
        + Decimal(output) * price.output_per_mtok
    ) / MILLION


def record_cost(price: Price, input_tokens: int | Decimal, cached: int | Decimal, output: int | Decimal) -> Decimal:
    """Money rule 2, in the price currency, unrounded: ``((input − cached) × input price +
    cached × cached price + output × output price) / 10^6``; the cached price defaults to the
    input price. Token counts may be fractional (estimates, what-ifs)."""
    with exact_context():
        return record_cost_in_context(price, input_tokens, cached, output)


def discount_factor(discount_percent: Decimal) -> Decimal:
    """1 − discount/100, exact."""
    with exact_context():
        return (HUNDRED - discount_percent) / HUNDRED


def cny_unrounded(costs: Mapping[str, Decimal], *, discount_percent: Decimal, rates: Mapping[str, Decimal]) -> Decimal:
    """Σ cost × (1 − discount/100) × rate over the currencies of ``costs``, before rounding.

    ``rates`` maps each currency of ``costs`` to its rate to CNY (money rule 4; 1 for CNY)."""
    factor = discount_factor(discount_percent)
    total = ZERO
    with exact_context():
        for currency, cost in sorted(costs.items()):
            total += cost * factor * rates[currency]
    return total


def line_amount(costs: Mapping[str, Decimal], *, discount_percent: Decimal, rates: Mapping[str, Decimal]) -> Decimal:
    """Money rule 5: the CNY amount of a usage line, rounded half up to the fen once."""
    return quantize_money(cny_unrounded(costs, discount_percent=discount_percent, rates=rates))


def vat_amount(amount: Decimal, vat_rate: Decimal) -> Decimal:
    """Money rule 8's VAT of an amount before VAT: ``round_half_up(amount × vat_rate, 2)``."""
    with exact_context():
        return quantize_money(amount * vat_rate)


def bill_totals(amounts: Iterable[Decimal], vat_rate: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """Money rule 8: ``(subtotal, vat, total)`` of a bill's line amounts."""
    with exact_context():
        subtotal = sum(amounts, ZERO)
    vat = vat_amount(subtotal, vat_rate)
    return subtotal, vat, subtotal + vat
