"""The price book and the money rules: record cost, the CNY line amount, VAT, rates."""
