"""At most ``limit`` sends of one kind per key (an e-mail address, a client address, a
customer) in a sliding window — shared by every web process through the database."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from customers.models import SendThrottle

HOUR = timedelta(hours=1)
# (kind → (limit, window)): what the portal and the API let one key ask for.
LIMITS = {
    "password-reset-address": (3, HOUR),  # reset e-mails to one address
    "password-reset-client": (20, HOUR),  # reset requests from one client address
    "invitation-customer": (20, HOUR),  # invitations one customer sends
}


def _digest(key: str) -> str:
    return hashlib.sha256(key.strip().lower().encode()).hexdigest()


@transaction.atomic
def throttle_allow(kind: str, key: str) -> bool:
    """Count one send of ``kind`` for ``key`` and say whether it is within the limit; a
    refused one is not counted. Serialised per (kind, key) by an advisory lock."""
    limit, window = LIMITS[kind]
    digest = _digest(key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{kind}:{digest}"])
    now = timezone.now()
    recent = SendThrottle.objects.filter(kind=kind, key=digest)
    recent.filter(at__lt=now - window).delete()
    if recent.count() >= limit:
        return False
    SendThrottle.objects.create(kind=kind, key=digest, at=now)
    return True
