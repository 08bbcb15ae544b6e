"""After a batch commits, metering asks the budgets to look again (budgets sit above metering).

The request is a row (BudgetEvaluationRequest) and a task enqueued by name, so metering never
imports the budget code; the evaluation task claims the row.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.utils import timezone

from common.tasks import enqueue

logger = logging.getLogger(__name__)
TASK = "billing.tasks.budgets_evaluate"


def budget_evaluation_request(*, customer_ids: set[int]) -> None:
    """After an ingestion batch commits: ask for one evaluation per customer, coalesced.

    The row's insert decides who enqueues: a burst of batches finds the row present and
    enqueues nothing; the task deletes the row when it starts, so later batches ask again.

    Runs after the commit, so it never raises: the batch is stored and the gateway must hear
    so. When the database is gone (the connection died after the commit), every customer of
    the batch is asked for directly; when the broker is down, the rows are taken back so that
    the next batch asks again — a hard limit must not wait for the five-minute sweep.
    """
    if not customer_ids:
        return
    try:
        new = _claim(customer_ids)
    except DatabaseError:
        logger.warning("budget evaluation request not recorded; asking directly", exc_info=True)
        new = sorted(customer_ids)
    lost = []
    for customer_id in new:
        try:
            enqueue(TASK, customer_id, countdown=1)
        except Exception:  # noqa: BLE001 - the broker is down: kombu's errors vary by transport
            lost.append(customer_id)
    if lost:
        logger.warning("budget evaluation not queued (broker unavailable)", extra={"customers": lost})
        _release(lost)


def _claim(customer_ids: set[int]) -> list[int]:
    """The customers (with an active budget) that had no evaluation pending: claimed now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_budgetevaluationrequest (customer_id, requested_at) "
            "SELECT c, %s FROM unnest(%s::bigint[]) AS c "
            "WHERE EXISTS (SELECT 1 FROM billing_budget b WHERE b.customer_id = c AND b.is_active) "
            "ON CONFLICT (customer_id) DO NOTHING RETURNING customer_id",
            [timezone.now(), sorted(customer_ids)],
        )
        return [row[0] for row in cursor.fetchall()]


def _release(customer_ids: list[int]) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM billing_budgetevaluationrequest WHERE customer_id = ANY(%s::bigint[])", [customer_ids]
            )
    except DatabaseError:
        logger.warning("budget evaluation requests not released", exc_info=True)
