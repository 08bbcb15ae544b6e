"""Admin for the price book, exchange rates, usage and quarantine."""
