"""Every billing model, split by domain; importing from ``billing.models`` keeps working.

The app label stays ``billing`` and the tables and migrations are unchanged: Django finds
the models of an app through this package.
"""

from billing.models.bills import Bill, BillEvent, BillLine, CreditEntry, Payment, SellerProfile
from billing.models.budgets import (
    Alert,
    AlertDelivery,
    AlertDeliveryRequest,
    Budget,
    BudgetEvaluationRequest,
    BudgetTestSend,
    CustomerStanding,
    KeyAllowance,
)
from billing.models.collecting import BillCredit, DisputeMessage, DunningCounter, DunningNotice
from billing.models.metering import ClosedPeriod, QuarantinedRecord, UsageRecord, UsageRequest, UsageRollup
from billing.models.pricing import (
    COST_DIGITS,
    PRICE_DIGITS,
    Currency,
    DefaultProvider,
    ExchangeRate,
    ModelAlias,
    PriceVersion,
)

__all__ = [
    "COST_DIGITS",
    "PRICE_DIGITS",
    "Alert",
    "AlertDelivery",
    "AlertDeliveryRequest",
    "Bill",
    "BillEvent",
    "BillCredit",
    "BillLine",
    "Budget",
    "BudgetEvaluationRequest",
    "BudgetTestSend",
    "ClosedPeriod",
    "CreditEntry",
    "Currency",
    "DefaultProvider",
    "DisputeMessage",
    "DunningCounter",
    "DunningNotice",
    "CustomerStanding",
    "ExchangeRate",
    "KeyAllowance",
    "ModelAlias",
    "Payment",
    "PriceVersion",
    "QuarantinedRecord",
    "SellerProfile",
    "UsageRecord",
    "UsageRequest",
    "UsageRollup",
]
