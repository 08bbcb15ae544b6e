"""Reads behind the staff pages and their API: the dashboard, and provider cost against
our metering and billed revenue (the reconciliation). Pages, API and exports all take
their figures from here.

Reconciliation, per month × provider × model:

- **our tokens**: the daily rollups of usage in that period (``UsageRollup.period``);
- **the provider's tokens and cost**: the imported exports' days in that month, cost
  converted to CNY with the rule the bills use (``billing.selectors.exchange_rate_for``:
  the period's own rate once the period is over, the latest entered while it is open);
- **revenue**: the issued (not voided) bill lines whose usage belongs to the period; for a
  customer with no issued bill for it yet, the usage summary's cost (``usage_summary``,
  computed as a bill line would be) — marked as estimated;
- **margin** = revenue − cost, **margin %** = margin ÷ revenue × 100.

Per customer × model, the provider's cost of a model on a day is shared between customers
in proportion to their metered tokens (input + output) of that model on that day; a day
the provider charged and we metered nothing stays unallocated. The provider's days are UTC
days, ours Shanghai business days: each is matched by its date.

Figures are rounded half up to 0.01 once, here (CNY amounts and percentages), so that
every place shows the same digits and margin = revenue − cost holds on them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from banking.models import BankTransaction
from billing.bills.dunning import notices_sent_since, open_bills_by_stage
from billing.bills.receivables import receivables_aging_table, revenue
from billing.bills.summary import usage_summary
from billing.models import Alert, Bill, BillLine, DunningNotice, UsageRollup
from billing.periods import business_day, current_period, format_period, next_period
from billing.pricing.money import quantize_money
from billing.pricing.selectors import exchange_rate_for
from customers.models import Customer
from invoices.models import InvoiceRequest
from workspace.models import ProviderCost

DISAGREEMENT_PERCENT = Decimal(1)
HUNDRED = Decimal(100)


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if not whole else quantize_money(part / whole * HUNDRED)


@dataclass
class Tokens:
    requests: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class ModelRow:
    provider: str
    model: str
    ours: Tokens = field(default_factory=Tokens)
    theirs: Tokens | None = None  # None: no usage export imported for the month
    provider_cost: Decimal | None = None  # unrounded, in provider_currency
    provider_currency: str = ""
    cost: Decimal | None = None  # CNY, 0.01
    revenue: Decimal = Decimal("0.00")
    estimated: bool = False  # part of the revenue is not billed yet

    @property
    def margin(self) -> Decimal | None:
        return None if self.cost is None else self.revenue - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        return None if self.margin is None else percent(self.margin, self.revenue)

    @property
    def token_difference_percent(self) -> Decimal | None:
        """(ours − theirs) ÷ theirs × 100 on the measure (input or output) that differs most."""
        if self.theirs is None:
            return None
        differences = []
        for name in ("input_tokens", "output_tokens"):
            ours, theirs = getattr(self.ours, name), getattr(self.theirs, name)
            if theirs == 0:
                if ours:
                    return None  # the provider saw none: no ratio, but a disagreement
                continue
            differences.append(quantize_money(Decimal(ours - theirs) / theirs * HUNDRED))
        return max(differences, key=abs, default=Decimal("0.00"))

    @property
    def disagrees(self) -> bool:
        if self.theirs is None:
            return False
        difference = self.token_difference_percent
        if difference is None:
            return True
        return abs(difference) > DISAGREEMENT_PERCENT


@dataclass
class CustomerRow:
    customer: str
    name: str
    provider: str
    model: str
    tokens: int = 0  # input + output
    cost: Decimal | None = None  # allocated provider cost, CNY 0.01
    revenue: Decimal = Decimal("0.00")
    estimated: bool = False

    @property
    def margin(self) -> Decimal | None:
        return None if self.cost is None else self.revenue - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        return None if self.margin is None else percent(self.margin, self.revenue)


@dataclass
class Reconciliation:
    period: date
    rows: list[ModelRow]
    customer_rows: list[CustomerRow]
    other_revenue: Decimal  # billed without a model: minimum-commitment top-ups
    missing_rates: list[str]

    @property
    def period_label(self) -> str:
        return format_period(self.period)

    @property
    def disagreements(self) -> list[ModelRow]:
        return [row for row in self.rows if row.disagrees]

    @property
    def cost_imported(self) -> bool:
        """Some provider cost of the period was imported (its CNY may still lack a rate)."""
        return any(row.provider_cost is not None for row in self.rows)

    @property
    def usage_imported(self) -> bool:
        """Some provider usage of the period was imported: token counts were compared."""
        return any(row.theirs is not None for row in self.rows)

    @property
    def cost(self) -> Decimal | None:
        """CNY provider cost; None when none is known (nothing imported, or no rate): a
        margin against a cost of zero would claim the whole revenue."""
        known = [row.cost for row in self.rows if row.cost is not None]
        return sum(known, Decimal("0.00")) if known else None

    @property
    def revenue(self) -> Decimal:
        return sum((row.revenue for row in self.rows), Decimal("0.00")) + self.other_revenue

    @property
    def margin(self) -> Decimal | None:
        return None if self.cost is None else self.revenue - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        return None if self.margin is None else percent(self.margin, self.revenue)

    @property
    def uncosted(self) -> list[ModelRow]:
        """Models with revenue but no known provider cost, while others have one."""
        return [row for row in self.rows if row.cost is None and row.revenue] if self.cost is not None else []


def allocate(cost: Decimal, tokens: dict[int, int]) -> dict[int, Decimal]:
    """``cost`` shared by customer in proportion to ``tokens`` (unrounded); nothing when no
    tokens were metered (the cost stays unallocated)."""
    metered = sum(tokens.values())
    if not metered:
        return {}
    return {customer: cost * count / metered for customer, count in tokens.items()}


def _our_usage(period: date):
    return (
        UsageRollup.objects.filter(period=period)
        .values("customer_id", "provider", "model", "day")
        .annotate(r=Sum("requests"), i=Sum("input_tokens"), c=Sum("cached_input_tokens"), o=Sum("output_tokens"))
    )


def _revenue(period: date) -> tuple[dict, Decimal, set[int], list[str]]:
    """{(customer id, provider, model): (CNY, estimated)}, revenue billed without a model,
    and the customers whose figures are estimates; plus the rates the estimates miss."""
    lines = (
        BillLine.objects.filter(period=period)
        .exclude(bill__status__in=(Bill.Status.DRAFT, Bill.Status.VOID))
        .values("bill__customer_id", "provider", "model")
        .annotate(amount=Sum("amount"))
    )
    amounts: dict[tuple[int, str, str], Decimal] = defaultdict(Decimal)
    other = Decimal("0.00")
    billed: set[int] = set()
    for line in lines:
        billed.add(line["bill__customer_id"])
        if line["model"]:
            amounts[(line["bill__customer_id"], line["provider"], line["model"])] += line["amount"]
        else:
            other += line["amount"]
    unbilled = set(UsageRollup.objects.filter(period=period).values_list("customer_id", flat=True).distinct()) - billed
    missing: set[str] = set()
    for customer in Customer.objects.filter(pk__in=unbilled):
        summary = usage_summary(customer=customer, period=period, group_by="model")
        missing |= set(summary.missing_rates)
        for row in summary.rows:
            if row.cost is not None:
                amounts[(customer.pk, row.provider or "", row.key)] += row.cost
    return amounts, other, unbilled, sorted(missing)


def _cny_rates(currencies: set[str], period: date) -> dict[str, Decimal | None]:
    closed = period < current_period()
    return {c: exchange_rate_for(c, period, contract=None, exact=closed) for c in currencies}


def reconciliation(*, period: date) -> Reconciliation:
    """Provider cost, our metering and billed revenue of ``period`` (see the module docstring)."""
    start, end = period, next_period(period)
    rows: dict[tuple[str, str], ModelRow] = {}
    day_tokens: dict[tuple[str, str, date], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    customer_tokens: dict[tuple[int, str, str], int] = defaultdict(int)
    for item in _our_usage(period):
        key = (item["provider"], item["model"])
        row = rows.setdefault(key, ModelRow(*key))
        row.ours.requests += item["r"]
        row.ours.input_tokens += item["i"]
        row.ours.cached_input_tokens += item["c"]
        row.ours.output_tokens += item["o"]
        day_tokens[(*key, item["day"])][item["customer_id"]] += item["i"] + item["o"]
        customer_tokens[(item["customer_id"], *key)] += item["i"] + item["o"]

    provider_days = ProviderCost.objects.filter(day__gte=start, day__lt=end)
    rates = _cny_rates(set(provider_days.exclude(currency="").values_list("currency", flat=True)), period)
    missing = {c for c, r in rates.items() if r is None}
    allocated: dict[tuple[int, str, str], Decimal] = defaultdict(Decimal)  # provider currency, unrounded
    allocated_currency: dict[tuple[str, str], str] = {}
    for cost in provider_days.order_by("day"):
        key = (cost.provider, cost.model)
        row = rows.setdefault(key, ModelRow(*key))
        if cost.input_tokens is not None:
            row.theirs = row.theirs or Tokens()
            row.theirs.requests += cost.requests or 0
            row.theirs.input_tokens += cost.input_tokens
            row.theirs.cached_input_tokens += cost.cached_input_tokens or 0
            row.theirs.output_tokens += cost.output_tokens or 0
        if cost.cost is not None:
            row.provider_cost = (row.provider_cost or Decimal(0)) + cost.cost
            row.provider_currency = cost.currency
            allocated_currency[key] = cost.currency
            for customer_id, share in allocate(cost.cost, day_tokens.get((*key, cost.day), {})).items():
                allocated[(customer_id, *key)] += share
    for row in rows.values():
        rate = rates.get(row.provider_currency)
        if row.provider_cost is not None and rate is not None:
            row.cost = quantize_money(row.provider_cost * rate)

    amounts, other, estimated, missing_estimates = _revenue(period)
    customers = {
        c.pk: c for c in Customer.objects.filter(pk__in={k[0] for k in customer_tokens} | {k[0] for k in amounts})
    }
    customer_rows: dict[tuple[int, str, str], CustomerRow] = {}

    def customer_row(key: tuple[int, str, str]) -> CustomerRow:
        if key not in customer_rows:
            customer = customers[key[0]]
            customer_rows[key] = CustomerRow(
                customer.code, customer.name, key[1], key[2], estimated=key[0] in estimated
            )
        return customer_rows[key]

    for key, tokens in customer_tokens.items():
        customer_row(key).tokens = tokens
    for key, amount in amounts.items():
        customer_row(key).revenue = quantize_money(amount)
        model_row = rows.setdefault(key[1:], ModelRow(*key[1:]))
        model_row.revenue += quantize_money(amount)
        model_row.estimated |= key[0] in estimated
    for key, row in customer_rows.items():
        currency = allocated_currency.get(key[1:])
        rate = rates.get(currency) if currency else None
        if currency and rate is not None:
            row.cost = quantize_money(allocated.get(key, Decimal(0)) * rate)

    return Reconciliation(
        period=period,
        rows=sorted(rows.values(), key=lambda r: (r.provider, r.model)),
        customer_rows=sorted(customer_rows.values(), key=lambda r: (r.customer, r.provider, r.model)),
        other_revenue=quantize_money(other),
        missing_rates=sorted(missing | set(missing_estimates)),
    )


# --- Dashboard -------------------------------------------------------------------------


def revenue_by_month(*, months: int = 12, today: date | None = None) -> list[tuple[str, Decimal]]:
    """Billed revenue (issued bills' subtotals, before VAT) of the last ``months`` periods,
    oldest first, zero for a month without bills — from billing's revenue report."""
    today = today or business_day(timezone.now())
    last = today.replace(day=1)
    periods = [format_period(next_period(last, -k)) for k in range(months - 1, -1, -1)]
    totals = dict.fromkeys(periods, Decimal("0.00"))
    for row in revenue(period=None, group_by="customer")["rows"]:
        if row["period"] in totals:
            totals[row["period"]] += Decimal(row["amount"])
    return list(totals.items())


@dataclass
class CloseStatus:
    period: date
    issued: int
    held: int
    unbilled_customers: list[str]  # usage in the period but no bill at all

    @property
    def period_label(self) -> str:
        return format_period(self.period)


def close_status(*, period: date) -> CloseStatus:
    bills = Bill.objects.filter(period=period).exclude(status=Bill.Status.VOID)
    counts = bills.aggregate(held=Count("pk", filter=Q(status=Bill.Status.DRAFT)), all=Count("pk"))
    with_usage = set(UsageRollup.objects.filter(bill_period=period).values_list("customer_id", flat=True).distinct())
    billed = set(bills.values_list("customer_id", flat=True))
    unbilled = Customer.objects.filter(pk__in=with_usage - billed).order_by("code").values_list("code", flat=True)
    return CloseStatus(period, counts["all"] - counts["held"], counts["held"], list(unbilled))


@dataclass
class CustomerUsage:
    customer: Customer
    requests: int
    tokens: int
    cost: Decimal | None  # None while a rate is missing
    unpriced_requests: int


def month_to_date_usage(*, period: date) -> list[CustomerUsage]:
    """Each customer's usage of ``period`` as the usage-summary API gives it: counts summed
    over models, the cost its one figure (``total``, as its bill computes it)."""
    ids = UsageRollup.objects.filter(period=period).values_list("customer_id", flat=True).distinct()
    result = []
    for customer in Customer.objects.filter(pk__in=ids).order_by("code"):
        summary = usage_summary(customer=customer, period=period, group_by="model")
        result.append(
            CustomerUsage(
                customer=customer,
                requests=sum(row.requests for row in summary.rows),
                tokens=sum(row.input_tokens + row.output_tokens for row in summary.rows),
                cost=None if summary.missing_rates else summary.total,
                unpriced_requests=sum(row.unpriced_requests for row in summary.rows),
            )
        )
    return sorted(result, key=lambda u: (-(u.cost or 0), u.customer.code))


@dataclass
class Dashboard:
    today: date
    revenue_by_month: list[tuple[str, Decimal]]
    aging: dict
    overdue: list[Bill]
    disputed: list[Bill]
    held: list[Bill]
    usage: list[CustomerUsage]
    usage_period: date
    open_month_to_date: Decimal  # the open month's usage so far (before VAT), all customers
    alerts: list[Alert]
    close: CloseStatus
    notices: list[DunningNotice] = field(default_factory=list)  # dunning notices sent in the last 7 days
    dunning_stages: list[tuple[str, str, int]] = field(default_factory=list)
    unmatched: list[BankTransaction] = field(default_factory=list)  # the newest DASHBOARD_ROWS
    unmatched_count: int = 0
    invoice_requests: list[InvoiceRequest] = field(default_factory=list)  # open ones, oldest first
    invoice_requests_count: int = 0


DASHBOARD_ROWS = 10  # rows a dashboard list shows; its link leads to all of them


def dashboard(*, today: date | None = None) -> Dashboard:
    today = today or business_day(timezone.now())
    period = today.replace(day=1)
    open_bills = Bill.objects.filter(status__in=Bill.OPEN_STATUSES).select_related("customer")
    overdue = [b for b in open_bills.filter(due_on__lt=today).order_by("due_on", "number") if b.balance.amount > 0]
    since = timezone.now() - timedelta(days=7)
    usage = month_to_date_usage(period=period)
    unmatched = BankTransaction.objects.filter(status=BankTransaction.Status.UNMATCHED)
    requests = InvoiceRequest.objects.filter(status=InvoiceRequest.Status.OPEN)
    return Dashboard(
        today=today,
        revenue_by_month=revenue_by_month(today=today),
        aging=receivables_aging_table(as_of=today),
        overdue=overdue,
        disputed=list(
            Bill.objects.filter(confirmation=Bill.Confirmation.DISPUTED)
            .exclude(status=Bill.Status.VOID)
            .select_related("customer")
            .order_by("-confirmed_at")
        ),
        held=list(Bill.objects.filter(status=Bill.Status.DRAFT).select_related("customer").order_by("period", "pk")),
        usage=usage,
        usage_period=period,
        open_month_to_date=sum((u.cost for u in usage if u.cost is not None), Decimal("0.00")),
        alerts=list(Alert.objects.filter(created_at__gte=since).select_related("customer", "budget")),
        close=close_status(period=next_period(period, -1)),
        notices=notices_sent_since(since),
        dunning_stages=open_bills_by_stage(),
        unmatched=list(unmatched.order_by("-date", "-pk")[:DASHBOARD_ROWS]),
        unmatched_count=unmatched.count(),
        invoice_requests=list(requests.select_related("customer", "bill").order_by("pk")[:DASHBOARD_ROWS]),
        invoice_requests_count=requests.count(),
    )
