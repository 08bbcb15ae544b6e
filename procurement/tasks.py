"""Housekeeping tasks of the project itself (names procurement.tasks.*)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="procurement.tasks.sessions_clear", time_limit=300, soft_time_limit=270)
def sessions_clear() -> None:
    """Delete expired sessions (Django's ``clearsessions``; its command twin), daily on beat."""
    from django.core.management import call_command

    call_command("clearsessions")
