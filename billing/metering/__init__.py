"""Metering: validating, pricing and storing usage records, their daily rollups and partitions."""
