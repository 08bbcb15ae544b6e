"""Usage whose rows round differently in every grouping: one customer, 3 projects × 4
models, one call each costing ¥1.004 (CNY prices), all on one day, one key per project.

The bill's lines (project × model) are ¥1.00 each: the period's one figure is ¥12.00.
Each grouping's rows, rounded on their own, add up to something else: by model 4 × ¥3.01
(3 × 1.004 = 3.012), by project and by key 3 × ¥4.02 (4 × 1.004), by day ¥12.05 (12.048).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from customers.models import ApiKey, Customer
from tests.billing.close_helpers import ingest, key_for, price, record

PROJECTS = ("alpha", "beta", "gamma")
MODELS = ("m-1", "m-2", "m-3", "m-4")
LINE = Decimal("1.00")
TOTAL = Decimal("12.00")
PROJECT_TOTAL = Decimal("4.00")  # a project's four lines
KEY_ROW = Decimal("4.02")  # a key's own row, rounded once
ROWS_ADD_UP_TO = {
    "model": Decimal("12.04"),
    "project": Decimal("12.06"),
    "api_key": Decimal("12.06"),
    "day": Decimal("12.05"),
}


def three_by_four(customer: Customer, when: datetime, *, prefix: str = "fig") -> dict[str, ApiKey]:
    """The usage above at ``when``; the key of each project."""
    for model in MODELS:
        price(model, provider="lab", input="1004", cached=None, output="0", currency="CNY")
    keys = {project: key_for(customer, project_code=project) for project in PROJECTS}
    ingest(
        *[
            record(keys[p], model=m, input=1000, at=when, provider="lab", request_id=f"{prefix}-{p}-{m}")
            for p in PROJECTS
            for m in MODELS
        ],
        now=when,
    )
    return keys
