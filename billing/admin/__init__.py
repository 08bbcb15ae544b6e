"""The billing admin, one module per domain; importing this package registers them all."""

from billing.admin import bills, budgets, collecting, customers, metering, payments, pricing  # noqa: F401
