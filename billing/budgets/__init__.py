"""Budgets: spend against monthly budgets, the alerts they fire, key allowances, anomalies and forecasts."""
