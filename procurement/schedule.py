"""The beat schedule, declared once. ``beat_schedule_sync`` creates the rows
django-celery-beat reads (after every ``migrate``, from ProcurementConfig's post_migrate);
a row that exists — perhaps edited or disabled by finance in the admin (Periodic tasks) —
is left as it is. Times are in BILLING_TIME_ZONE."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str
    every_minutes: int | None = None
    crontab: dict[str, str] | None = None  # minute, hour, day_of_month; the rest is "*"


DAILY_06 = {"minute": "0", "hour": "6", "day_of_month": "*"}

SCHEDULE: tuple[Periodic, ...] = (
    Periodic(
        "Month close (月结)", "billing.tasks.month_close", crontab={"minute": "0", "hour": "2", "day_of_month": "1"}
    ),
    Periodic("Mark overdue bills and remind", "billing.tasks.bills_mark_overdue", crontab=DAILY_06),
    Periodic("Create usage partitions ahead", "billing.tasks.usage_partitions_ahead", crontab=DAILY_06),
    Periodic(
        "Dunning: reminders, overdue notices, 催款函",
        "billing.tasks.dunning_run",
        crontab={"minute": "30", "hour": "9", "day_of_month": "*"},
    ),
    Periodic("Evaluate budgets", "billing.tasks.budgets_evaluate_all", every_minutes=5),
    Periodic("Retry pending alert deliveries", "billing.tasks.alerts_retry_pending", every_minutes=10),
    Periodic(
        "Scan yesterday for anomalies",
        "billing.tasks.anomalies_scan",
        crontab={"minute": "30", "hour": "7", "day_of_month": "*"},
    ),
    Periodic("Poll pending invoices at the issuing platform", "invoices.tasks.invoices_poll_pending", every_minutes=2),
    Periodic(
        "Delete expired sessions",
        "procurement.tasks.sessions_clear",
        crontab={"minute": "15", "hour": "4", "day_of_month": "*"},
    ),
    Periodic("Sync gateway logs (GATEWAY_LOG_SOURCES)", "gateways.tasks.gateway_logs_sync_all", every_minutes=1),
    Periodic(
        "Compare gateway logs with our usage",
        "gateways.tasks.gateway_days_check_all",
        crontab={"minute": "15", "hour": "7", "day_of_month": "*"},
    ),
)


def beat_schedule_sync() -> list[str]:
    """Create the missing rows of SCHEDULE; returns the names created (none the second time)."""
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    created: list[str] = []
    for entry in SCHEDULE:
        if PeriodicTask.objects.filter(name=entry.name).exists():
            continue
        when: dict = {}
        if entry.every_minutes is not None:
            when["interval"], _new = IntervalSchedule.objects.get_or_create(
                every=entry.every_minutes, period=IntervalSchedule.MINUTES
            )
        else:
            when["crontab"], _new = CrontabSchedule.objects.get_or_create(
                month_of_year="*", day_of_week="*", timezone=settings.BILLING_TIME_ZONE, **entry.crontab
            )
        _task, new = PeriodicTask.objects.get_or_create(name=entry.name, defaults={"task": entry.task, **when})
        if new:
            created.append(entry.name)
    return created
