"""Admin of the invoices app: added by its issue."""
