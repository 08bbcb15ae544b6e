"""Fault tests share the billing fixtures (customers, keys, prices, a clean usage table)."""

from tests.billing.conftest import acme_key, clean_usage, other_key  # noqa: F401
