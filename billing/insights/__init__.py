"""Insights: what a customer's usage costs and what it would cost otherwise."""
