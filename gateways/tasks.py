"""Beat tasks over GATEWAY_LOG_SOURCES (twins: sync_gateway_logs, check_gateway_logs)."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="gateways.tasks.gateway_logs_sync_all", time_limit=3600, soft_time_limit=3500)
def gateway_logs_sync_all() -> dict[str, str]:
    """Sync every configured source; one unreachable source does not stop the others (its
    error is on its row in the admin)."""
    from gateways.newapi import GatewayUnreachable
    from gateways.services import configured_sources, gateway_logs_sync

    lines = {}
    for name, url in configured_sources().items():
        try:
            result = gateway_logs_sync(source_name=name, database_url=url)
        except GatewayUnreachable as exc:
            logger.warning("gateway sync failed", extra={"source": name, "error": str(exc)})
            lines[name] = f"error: {exc}"
            continue
        lines[name] = "skipped: running" if result.skipped else result.line()
    return lines


@shared_task(name="gateways.tasks.gateway_days_check_all", time_limit=3600, soft_time_limit=3500)
def gateway_days_check_all(days: int = 3) -> dict[str, list[str]]:
    """Compare the last ``days`` complete business days of every configured source (a day
    that differs alerts finance once; later runs re-check it as late rows arrive)."""
    from billing.periods import billing_tz
    from gateways.newapi import GatewayUnreachable
    from gateways.services import configured_sources, gateway_day_check

    today = timezone.now().astimezone(billing_tz()).date()
    answers: dict[str, list[str]] = {}
    for name, url in configured_sources().items():
        answers[name] = []
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            try:
                check = gateway_day_check(source_name=name, database_url=url, day=day)
            except GatewayUnreachable as exc:
                answers[name].append(f"{day}: error: {exc}")
                break
            answers[name].append(f"{day}: {'match' if check.matches else 'differs'}")
    return answers
