"""The demo's calls (``seed_demo``): three months and this month to date, through the real
ingestion path, deterministic per (key, day, call) so that a re-run sends the same request ids
with the same content.

ACME's ops assistant (运维助手, project ``ops``) is an agent on claude-sonnet-4-5: it writes
prompts to Anthropic's cache (5-minute and 1-hour writes), now and then sends a whole incident
log above the 200k-token long-context threshold, and sends a quarter of its calls through the
Batch API — where the price book has a Batch price at that time (genai-prices lists Anthropic's
Batch prices from a date on; before it the gateway would not have offered Batch, so neither
does the demo). ACME's enterprise search (``search``) calls gpt-4o with web searches. So the
demo's bills, usage pages and records files show cache writes, the long-context price, Batch
and web searches, and every figure is still priced (nothing held but the fine-tuned model).
"""

from __future__ import annotations

import bisect
import random
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from billing.metering.ingest import usage_ingest_batch
from billing.periods import billing_tz, business_day, current_period, next_period
from customers.models import ApiKey, Contract

# (provider, model, share of calls, mean input tokens, mean output tokens, cache hit share)
DEMO_MODEL_MIX = [
    ("openai", "gpt-4o", 0.30, 5400, 900, 0.35),
    ("openai", "gpt-4o-mini", 0.30, 3600, 600, 0.20),
    ("anthropic", "claude-sonnet-4-5", 0.20, 7800, 1300, 0.50),
    ("google", "gemini-2.5-flash", 0.15, 4500, 760, 0.10),
    ("openai", "acme-finetune-v2", 0.05, 2700, 400, 0.0),  # not in the price book: stored unpriced
]
# ACME's agent (project ops × claude-sonnet-4-5) and its search (project search × gpt-4o).
AGENT = ("ACME", "ops", "claude-sonnet-4-5")
SEARCH = ("ACME", "search", "gpt-4o")
CACHE_WRITE_SHARE = 0.15  # of a call's input, at most, written to the cache
ONE_HOUR_WRITES = 0.3  # of the writing calls, 1-hour writes (the rest 5-minute)
LONG_CONTEXT_SHARE = 0.015  # of the agent's calls, above 200k input tokens
BATCH_SHARE = 0.25  # of the agent's calls, where a Batch price exists
WEB_SEARCH_SHARE = 0.4  # of the search's gpt-4o calls, with 1–3 web searches


def older_months_volume(now: datetime) -> float:
    """How much busier the two oldest months are than a normal month: they carry the part of
    this month that has not happened yet, so the demo holds about four months of calls
    whatever the day. Last month stays a normal month: its budgets' alerts and its bill look
    the same on any date."""
    period = current_period(now)
    start = datetime.combine(period, time(0), tzinfo=billing_tz())
    end = datetime.combine(next_period(period), time(0), tzinfo=billing_tz())
    elapsed = (now - start) / (end - start)
    return 1 + (1 - elapsed) / 2


class BatchPrices:
    """Whether the price version in force at a moment has a Batch price, per (provider, model)."""

    def __init__(self) -> None:
        from billing.models import PriceVersion

        self._starts: dict[tuple[str, str], tuple[list[datetime], list[bool]]] = {}
        versions = PriceVersion.objects.filter(model__in=[m[1] for m in DEMO_MODEL_MIX]).order_by("effective_from")
        for version in versions:
            starts, batch = self._starts.setdefault((version.provider, version.model), ([], []))
            starts.append(version.effective_from)
            batch.append(any(v.get("when") == {"processing": "batch"} for v in version.variants or []))

    def priced(self, provider: str, model: str, moment: datetime) -> bool:
        starts, batch = self._starts.get((provider, model), ([], []))
        index = bisect.bisect_right(starts, moment) - 1
        return index >= 0 and batch[index]


def _dimensions(record: dict, rng: random.Random, scope: tuple, moment: datetime, batch: BatchPrices) -> None:
    """ACME's agent and search calls: their cache writes, long context, Batch, web searches."""
    if scope == SEARCH:
        if rng.random() < WEB_SEARCH_SHARE:
            record["web_searches"] = rng.randint(1, 3)
        return
    if scope != AGENT:
        return
    long_context, write_draw, one_hour, batch_draw = rng.random(), rng.random(), rng.random(), rng.random()
    if long_context < LONG_CONTEXT_SHARE:  # an incident log: most of it read from the cache
        record["input_tokens"] = rng.randint(200_001, 280_000)
        record["cached_input_tokens"] = int(record["input_tokens"] * 0.7)
    room = record["input_tokens"] - record["cached_input_tokens"]
    written = min(int(record["input_tokens"] * CACHE_WRITE_SHARE * write_draw), room)
    if written:
        record["cache_write_tokens"] = written
        record["cache_write_1h_tokens" if one_hour < ONE_HOUR_WRITES else "cache_write_5m_tokens"] = written
    if batch_draw < BATCH_SHARE and batch.priced(record["provider"], record["model"], moment):
        record["processing"] = "batch"


def demo_day_records(
    key: ApiKey, day: date, tz, now: datetime, volume: float = 1.0, batch: BatchPrices | None = None
) -> list[dict]:
    """The calls of one key on one day that have happened by ``now``. The same (key, day,
    n) always gives the same record, whatever ``now`` and ``volume`` (which only decide how
    many there are), so a re-run never sends a request id with other content."""
    batch = batch or BatchPrices()
    rng = random.Random(f"{key.key_id}-{day.isoformat()}")
    weekday_factor = 1.0 if day.weekday() < 5 else 0.35
    calls = int(rng.gauss(110, 20) * weekday_factor * (1.4 if key.customer.code == "ACME" else 1.0) * volume)
    # The unknown model shows up from last month on, at ACME only: last month's bill is held.
    finetune_from = next_period(current_period(now), -1)
    records = []
    for n in range(max(calls, 0)):
        provider, model, _share, mean_in, mean_out, hit = rng.choices(
            DEMO_MODEL_MIX, weights=[m[2] for m in DEMO_MODEL_MIX]
        )[0]
        if model == "acme-finetune-v2" and (key.customer.code != "ACME" or day < finetune_from):
            provider, model, mean_in, mean_out, hit = "openai", "gpt-4o-mini", 3600, 600, 0.2
        moment = datetime.combine(day, time(9), tzinfo=tz) + timedelta(seconds=rng.randint(0, 12 * 3600))
        input_tokens = max(1, int(rng.expovariate(1 / mean_in)))
        cache_draw = rng.random()
        output_tokens = max(1, int(rng.expovariate(1 / mean_out)))
        if moment > now:
            continue  # not yet: drawn all the same, so the next record does not change
        record = {
            "request_id": f"demo-{key.key_id}-{day:%Y%m%d}-{n}",
            "key_id": key.key_id,
            "provider": provider,
            "model": model,
            "input_tokens": input_tokens,
            "cached_input_tokens": min(int(input_tokens * hit * cache_draw * 2), input_tokens) if hit else 0,
            "output_tokens": output_tokens,
            "occurred_at": moment.isoformat(),
        }
        # A generator of its own per call: the main sequence above stays as it was.
        scope = (key.customer.code, key.project.code, model)
        _dimensions(record, random.Random(f"{record['request_id']}-dims"), scope, moment, batch)
        records.append(record)
    return records


def seed_usage(*, scale: float, codes: list[str]) -> int:
    """Three full months before this one plus this month to date, through the real
    ingestion path. Deterministic per day, so a re-run only adds days not seen yet."""
    from billing.models import ClosedPeriod

    now = timezone.now()
    tz = billing_tz()
    this_month = current_period(now)
    first_day = next_period(this_month, -3)
    keys = list(ApiKey.objects.filter(customer__code__in=codes).select_related("customer", "project"))
    starts = {
        c.customer.code: c.starts_on for c in Contract.objects.filter(customer__code__in=codes).order_by("-starts_on")
    }
    closed = set(ClosedPeriod.objects.filter(customer__code__in=codes).values_list("customer__code", "period"))
    older_volume = older_months_volume(now)
    limits = hard_limits(codes)
    batch = BatchPrices()
    accepted = 0
    day = first_day
    today = business_day(now)
    while day <= today:
        period = day.replace(day=1)
        volume = scale * (older_volume if period < next_period(this_month, -1) else 1.0)
        records = []
        limited: list[tuple[object, list[dict]]] = []
        for key in keys:
            code = key.customer.code
            # A customer's keys are used from its contract's start; a closed month stays as billed.
            if code in starts and day >= starts[code] and (code, period) not in closed:
                day_records = demo_day_records(key, day, tz, now, volume, batch)
                if key.pk in limits:
                    limited.append((limits[key.pk], day_records))
                else:
                    records.extend(day_records)
        for start in range(0, len(records), 5000):
            accepted += usage_ingest_batch(records=records[start : start + 5000]).accepted
        for budget, day_records in limited:
            accepted += ingest_within_hard_limit(budget, day_records, day)
        day += timedelta(days=1)
    return accepted


def hard_limits(codes: list[str]) -> dict[int, object]:
    """{api key id: its hard-limit budget} of the demo's keys."""
    from billing.models import Budget

    budgets = Budget.objects.filter(
        scope=Budget.Scope.API_KEY,
        hard_limit=True,
        is_active=True,
        customer__code__in=codes,
    ).select_related("customer", "api_key")
    return {budget.api_key_id: budget for budget in budgets}


def ingest_within_hard_limit(budget, records: list[dict], day: date) -> int:
    """Ingest the calls of ``day`` the gateway would have let through: it asks before each
    call, and a key stays allowed while its month to date (as the budget evaluation counts
    it) is below the hard limit. So the call that reaches the limit is made, and none after
    it that month. Whole days are tried first; the crossing day is searched for the first
    call at which the limit is reached (each try in a savepoint, rolled back)."""
    from billing.budgets.spend import budget_use

    records = sorted(records, key=lambda r: r["occurred_at"])
    end_of_day = datetime.combine(day, time(23, 59, 59), tzinfo=billing_tz())

    def reached(count: int) -> bool:
        with transaction.atomic():
            savepoint = transaction.savepoint()
            if count:
                usage_ingest_batch(records=records[:count])
            spend, limit = budget_use(budget, now=end_of_day)
            transaction.savepoint_rollback(savepoint)
        return limit is not None and spend >= limit

    if not records or reached(0):
        return 0  # blocked since an earlier day of the month
    allowed = len(records)
    if reached(allowed):
        low, high = 1, allowed  # the first count at which the limit is reached
        while low < high:
            middle = (low + high) // 2
            if reached(middle):
                high = middle
            else:
                low = middle + 1
        allowed = low
    return usage_ingest_batch(records=records[:allowed]).accepted
