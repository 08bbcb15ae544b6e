"""Demo data for `make run`: staff, customers, contracts, projects, keys, portal users,
three months of usage, closed bills, payments, invoices, budgets and alerts.

Everything is placed relative to today, so that the tour the README describes holds on any
date: the three past months are closed (the oldest paid, the next part-paid, the last open);
ACME's fine-tuned model has no price since last month, so ACME's bill for last month is
held in draft; last month ACME's key budget passed 50, 80 and 100 % and its customer budget
50 %; the key budget's hard limit then blocked the key, so the demo sends none of its calls
after the one that reached the limit (the gateway would have refused them); and there are about 69,000 calls (the two oldest months carry what this month has not
had yet, so the total does not depend on the day of the month).

Idempotent: every object is found by its natural key before it is created, and the usage
is the same for the same day, so running it again changes nothing (on a later day it adds
that day's usage; a period already closed gets no new demo usage).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from billing.models import ExchangeRate
from billing.periods import billing_tz, business_day, current_period, next_period
from billing.pricing.pricebook import prices_import
from billing.pricing.services import exchange_rate_set
from customers import services
from customers.models import ApiKey, Contract, Customer, Project
from customers.validators import uscc_check_character
from gateways.demo import SOURCE as DEMO_GATEWAY
from gateways.demo import newapi_demo_seed
from presales.demo import seed_presales
from procurement.demo import DEMO_LOGINS
from procurement.demo_usage import seed_usage

User = get_user_model()


def _uscc(first17: str) -> str:
    return first17 + uscc_check_character(first17)


DEMO_CUSTOMERS = [
    {
        "code": "ACME",
        "name": "上海阿克米信息技术有限公司",
        "tax_id": _uscc("91310115MA1K4LXQ8"),
        "address": "上海市浦东新区张江路 88 号",
        "phone": "021-5080 1234",
        "bank_name": "招商银行上海张江支行",
        "bank_account": "1219 0988 1010 001",
        "email": "ap@acme.example.cn",
        "contract": {
            "number": "HT-ACME-{year}-01",
            "months_before": 11,  # starts on the 1st, that many months before this one
            "price_currency": "USD",
            "discount_percent": Decimal("8.00"),
            "payment_terms_days": 30,
            "minimum_monthly_commitment": Decimal("1000.00"),
            "invoice_type": "special",
        },
        "projects": [("chatbot", "智能客服"), ("search", "企业搜索"), ("ops", "运维助手")],
        "portal": [("acme-admin", "admin"), ("acme-finance", "finance"), ("acme-dev", "developer")],
    },
    {
        "code": "BEIDOU",
        "name": "北京北斗星辰科技有限公司",
        "tax_id": _uscc("91110108MA01R2Y3K"),
        "address": "北京市海淀区中关村大街 27 号",
        "phone": "010-6255 8899",
        "bank_name": "中国工商银行北京中关村支行",
        "bank_account": "0200 0045 0920 0123 456",
        "email": "finance@beidou.example.cn",
        "contract": {
            "number": "HT-BEIDOU-{year}-01",
            "months_before": 9,
            "price_currency": "USD",
            "discount_percent": Decimal("5.00"),
            "payment_terms_days": 45,
            "invoice_type": "special",
            "bill_per_project": True,
        },
        "projects": [("rd", "研发中心"), ("marketing", "市场部")],
        "portal": [("beidou-admin", "admin")],
    },
    {
        "code": "NANHAI",
        "name": "深圳南海数据服务有限公司",
        "tax_id": _uscc("91440300MA5G0T1U2"),
        "address": "深圳市南山区科技园南区 9 栋",
        "phone": "0755-8600 1122",
        "bank_name": "中国银行深圳科技园支行",
        "bank_account": "7589 6012 3456",
        "email": "ap@nanhai.example.cn",
        "contract": {
            "number": "HT-NANHAI-{year}-01",
            "months_before": 7,
            "price_currency": "CNY",
            "fixed_exchange_rate": None,
            "payment_terms_days": 30,
            "invoice_type": "ordinary",
            "invoice_timing": "after_payment",
        },
        "projects": [("default", "默认项目")],
        "portal": [("nanhai-admin", "admin")],
    },
]

DEMO_USD_RATES = [Decimal("7.1180"), Decimal("7.1325"), Decimal("7.1302"), Decimal("7.1456")]  # this month, -1, -2, -3
# Budgets on ACME (CNY at scale 1): last month's spend passes the whole key budget and half
# of the customer budget (tests/procurement/test_seed_demo.py checks it on several dates).
DEMO_KEY_BUDGET = Decimal("200.00")
# ¥1,300: ACME's last month (≈ ¥760–900 at scale 1 once its key stops at its hard limit,
# less in a February) passes 50 % (¥650) and stays below 80 % (¥1,040).
DEMO_CUSTOMER_BUDGET = Decimal("1300.00")


PORTAL_PASSWORD = {u: p for u, p, _w in DEMO_LOGINS}.get("acme-admin", "portal-demo-2026")


class Command(BaseCommand):
    help = "Load demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Also when DEBUG is off (demo passwords are public).")
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Share of the demo's call volume, budgets and commitment (default 1: the README's demo; "
            "tests use less to run faster).",
        )

    def handle(self, *args, force: bool, scale: float, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates users with published passwords; run it with DEBUG on or --force.")
        if not 0 < scale <= 1:
            raise CommandError("--scale must be more than 0 and at most 1.")
        self.scale = scale
        with transaction.atomic():
            self.seed_staff()
            for spec in DEMO_CUSTOMERS:
                self.seed_customer(spec)
        self.seed_prices_and_rates()
        self.create_budgets()
        accepted = seed_usage(scale=self.scale, codes=[c["code"] for c in DEMO_CUSTOMERS])
        self.stdout.write(f"usage: {accepted} new records")
        self.seed_seller()
        self.seed_bills()
        self.seed_invoices()
        self.seed_budgets()
        synced = newapi_demo_seed()
        self.stdout.write(f"gateway {DEMO_GATEWAY}: " + (synced.line() if synced else "not reachable"))
        seed_presales(by=User.objects.get(username="presales"))
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def seed_seller(self) -> None:
        """Replace the migration's placeholder seller with a believable demo company."""
        from billing.models import SellerProfile

        SellerProfile.objects.update_or_create(
            effective_from=date(2020, 1, 1),
            defaults={
                "name": "上海智算通信息科技有限公司",
                "tax_id": _uscc("91310104MA7DKM4X1"),
                "province_code": "31",
                "address": "上海市徐汇区漕河泾开发区宜山路 700 号",
                "phone": "021-6480 0000",
                "bank_name": "招商银行上海漕河泾支行",
                "bank_account": "1219 1234 5610 888",
                "email": "billing@zhisuantong.example.cn",
                "issuing_clerk": "王会计",
            },
        )

    def seed_bills(self) -> None:
        """Close the three past months; render every PDF now (the worker also would); pay the
        oldest month in full, the next in part, and leave the last open."""
        from billing.bills.close import customers_to_close, month_close_customer
        from billing.bills.documents import bill_render_pdf
        from billing.bills.lifecycle import bill_confirm, bills_mark_overdue, payment_record
        from billing.models import Bill

        for months_back in (3, 2, 1):
            period = next_period(current_period(), -months_back)
            for customer in Customer.objects.filter(pk__in=customers_to_close(period)):
                # Issued on the 1st of the next month, as beat would have done.
                month_close_customer(customer=customer, period=period, today=next_period(period))
        for bill in Bill.objects.exclude(status__in=(Bill.Status.DRAFT, Bill.Status.VOID)).filter(pdf=""):
            bill_render_pdf(bill_id=bill.pk)
        oldest, middle = next_period(current_period(), -3), next_period(current_period(), -2)
        for bill in Bill.objects.filter(period=oldest, status=Bill.Status.ISSUED):
            bill_confirm(bill=bill, confirmed=True, note="已核对")
            payment_record(
                bill=bill,
                amount=bill.total.amount,
                received_on=bill.due_on - timedelta(days=5),
                reference=f"DEMO-{bill.number}",
                payer_name=bill.customer.name,
            )
        for bill in Bill.objects.filter(period=middle, status=Bill.Status.ISSUED):
            payment_record(
                bill=bill,
                amount=(bill.total.amount / 2).quantize(Decimal("0.01")),
                received_on=bill.issued_on + timedelta(days=10),
                reference=f"DEMO-{bill.number}-1",
                payer_name=bill.customer.name,
            )
        bills_mark_overdue(today=business_day(timezone.now()))
        self.seed_collections()

    def seed_collections(self) -> None:
        """Today's dunning (the part-paid month's bills are reminded or dunned, as beat would),
        and one disputed statement with finance's answer: a BEIDOU bill of last month, its dunning
        paused. Idempotent: a stage once per bill, the dispute once."""
        from billing.bills.disputes import dispute_reply
        from billing.bills.dunning import dunning_run
        from billing.bills.lifecycle import bill_confirm
        from billing.models import Bill

        last = next_period(current_period(), -1)
        disputed = (
            Bill.objects.filter(customer__code="BEIDOU", period=last, status__in=Bill.OPEN_STATUSES)
            .order_by("number")
            .first()
        )
        if disputed is not None and not disputed.dispute_messages.exists():
            bill_confirm(
                bill=disputed, confirmed=False, note="月度服务费与合同补充协议不符（应为 8 折），请核对。", actor=None
            )
            dispute_reply(
                bill=disputed,
                text="已收到，我们正在核对补充协议，三个工作日内答复。",
                actor=User.objects.get(username="finance"),
            )
        dunning_run(today=business_day(timezone.now()))

    def seed_invoices(self) -> None:
        """Invoice the paid and part-paid bills that allow it; reverse one (开票有误)."""
        from billing.models import Bill
        from invoices.models import Invoice
        from invoices.services import bill_invoiceable, invoice_issue, invoice_red_letter

        demo_codes = [c["code"] for c in DEMO_CUSTOMERS]
        if Invoice.objects.filter(customer__code__in=demo_codes).exists():
            return  # seeded before (other customers' invoices, e.g. the contract smoke's, don't count)
        bills = Bill.objects.filter(
            customer__code__in=demo_codes,
            status__in=(Bill.Status.PAID, Bill.Status.PARTIALLY_PAID, Bill.Status.OVERDUE),
        )
        issued = []
        for bill in bills.select_related("contract", "customer").order_by("period", "pk"):
            contract = bill.contract
            if (
                contract
                and contract.invoice_timing == Contract.InvoiceTiming.AFTER_PAYMENT
                and bill.status != Bill.Status.PAID
            ):
                continue
            if bill_invoiceable(bill).total > 0:
                issued += invoice_issue(bill=bill)
        if issued:
            invoice_red_letter(blue=issued[-1], reason=2, note="演示：抬头有误，红冲后重开")
            invoice_issue(bill=issued[-1].bill)

    def create_budgets(self) -> None:
        """ACME's budgets, before its usage: the key budget's hard limit decides which of the
        key's calls the gateway would have let through (seed_usage)."""
        from billing.budgets.budgets import budget_create
        from billing.models import Budget

        acme = Customer.objects.get(code="ACME")
        if not Budget.objects.filter(customer=acme).exists():
            budget_create(
                customer=acme,
                scope="customer",
                target=None,
                monthly_amount=self.scaled(DEMO_CUSTOMER_BUDGET),
                channels=["ops@acme.example.cn"],
            )
            key = ApiKey.objects.filter(customer=acme, project__code="search").first()
            budget_create(
                customer=acme,
                scope="api_key",
                target=key.key_id,
                monthly_amount=self.scaled(DEMO_KEY_BUDGET),
                hard_limit=True,
                channels=["search-team@acme.example.cn"],
            )

    def seed_budgets(self) -> None:
        """ACME's budgets, evaluated as they were at the end of last month (a whole month of
        usage on any date: the alerts the tour shows), then as of now (the allowances)."""
        from billing.budgets.budgets import budgets_evaluate_customer

        end_of_last_month = datetime.combine(current_period(), time(0), tzinfo=billing_tz()) - timedelta(minutes=1)
        for customer in Customer.objects.filter(budgets__isnull=False).distinct():
            budgets_evaluate_customer(customer_id=customer.pk, now=end_of_last_month)
            budgets_evaluate_customer(customer_id=customer.pk)

    def scaled(self, amount: Decimal) -> Decimal:
        return (amount * Decimal(str(self.scale))).quantize(Decimal("0.01"))

    def seed_prices_and_rates(self) -> None:
        prices_import(at=timezone.now())
        for months_back, rate in enumerate(DEMO_USD_RATES):
            period = next_period(current_period(), -months_back)
            if not ExchangeRate.objects.filter(currency="USD", period=period).exists():
                exchange_rate_set(currency="USD", period=period, rate=rate)

    def seed_staff(self) -> None:
        passwords = {u: p for u, p, _w in DEMO_LOGINS}
        admin, created = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True, "email": "admin@procurement.local"}
        )
        if created:
            admin.set_password(passwords["admin"])
            admin.save()
        for username, group in (("finance", "finance"), ("presales", "presales")):
            user, created = User.objects.get_or_create(
                username=username, defaults={"is_staff": True, "email": f"{username}@procurement.local"}
            )
            if created:
                user.set_password(passwords[username])
                user.save()
            user.groups.add(Group.objects.get_or_create(name=group)[0])

    def seed_customer(self, spec: dict) -> None:
        customer = Customer.objects.filter(code=spec["code"]).first()
        if customer is None:
            fields = {k: spec[k] for k in ("name", "tax_id", "address", "phone", "bank_name", "bank_account", "email")}
            customer = services.customer_create(code=spec["code"], **fields)
        terms = dict(spec["contract"])
        if not Contract.objects.filter(customer=customer).exists():
            starts_on = next_period(current_period(), -terms.pop("months_before"))
            terms["number"] = terms["number"].format(year=starts_on.year)
            if terms.get("minimum_monthly_commitment"):
                terms["minimum_monthly_commitment"] = self.scaled(terms["minimum_monthly_commitment"])
            services.contract_create(customer=customer, starts_on=starts_on, **terms)
        for code, name in spec["projects"]:
            project = Project.objects.filter(customer=customer, code=code).first()
            if project is None:
                project = services.project_create(customer=customer, code=code, name=name)
            if not project.api_keys.exists():
                services.api_key_create(project=project, name=f"{name} production")
        for username, role in spec["portal"]:
            if not User.objects.filter(username=username).exists():
                services.portal_user_create(
                    customer=customer,
                    username=username,
                    email=f"{username}@{spec['code'].lower()}.example.cn",
                    password=PORTAL_PASSWORD,
                    role=role,
                )
