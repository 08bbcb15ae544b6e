"""Gapless document numbers (invoices, proposals, 催款函): the next sequence of a counter row,
taken FOR UPDATE inside the caller's issuing transaction. A rolled-back issue rolls the
counter back with it, so numbers have no gaps; concurrent issuers wait for the row, so they
have no duplicates (the document's unique number is the backstop). Never a database
sequence (gaps on rollback) nor max + 1 (races)."""

from __future__ import annotations

from django.db import models


def sequence_next(counter_model: type[models.Model], **key) -> int:
    """Increment and return ``last_sequence`` of the ``counter_model`` row for ``key`` (made at
    0 on first use). Runs inside the transaction that uses the number (``select_for_update``
    refuses to run outside one)."""
    counter, _created = counter_model.objects.get_or_create(**key)
    counter = counter_model.objects.select_for_update().get(pk=counter.pk)
    counter.last_sequence += 1
    counter.save(update_fields=["last_sequence"])
    return counter.last_sequence
