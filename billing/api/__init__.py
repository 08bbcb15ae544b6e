"""The billing API, one module per domain (billing/urls.py routes them)."""
