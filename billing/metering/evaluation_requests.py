"""After a batch commits, metering asks the budgets to look again (budgets sit above metering).

The request is a row (BudgetEvaluationRequest) and a task enqueued by name, so metering never
imports the budget code; the evaluation task claims the row.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from common.tasks import enqueue


def budget_evaluation_request(*, customer_ids: set[int]) -> None:
    """After an ingestion batch commits: ask for one evaluation per customer, coalesced.

    The row's insert decides who enqueues: a burst of batches finds the row present and
    enqueues nothing; the task deletes the row when it starts, so later batches ask again.
    """
    if not customer_ids:
        return
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_budgetevaluationrequest (customer_id, requested_at) "
            "SELECT c, %s FROM unnest(%s::bigint[]) AS c "
            "WHERE EXISTS (SELECT 1 FROM billing_budget b WHERE b.customer_id = c AND b.is_active) "
            "ON CONFLICT (customer_id) DO NOTHING RETURNING customer_id",
            [now, sorted(customer_ids)],
        )
        new = [row[0] for row in cursor.fetchall()]
    for customer_id in new:
        enqueue("billing.tasks.budgets_evaluate", customer_id, countdown=1)
