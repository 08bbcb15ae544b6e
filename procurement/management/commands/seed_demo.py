"""Demo data for `make run`: staff, customers, contracts, projects, keys, portal users.

Idempotent: every object is found by its natural key before it is created, so running it
again changes nothing. Later features add their demo data here (usage, bills, invoices).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from customers import services
from customers.models import Contract, Customer, Project
from customers.validators import uscc_check_character
from procurement.demo import DEMO_LOGINS

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
            "number": "HT-ACME-2026-01",
            "starts_on": date(2026, 1, 1),
            "price_currency": "USD",
            "discount_percent": Decimal("8.00"),
            "payment_terms_days": 30,
            "minimum_monthly_commitment": Decimal("5000.00"),
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
            "number": "HT-BEIDOU-2026-01",
            "starts_on": date(2026, 3, 1),
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
            "number": "HT-NANHAI-2026-01",
            "starts_on": date(2026, 5, 1),
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

PORTAL_PASSWORD = {u: p for u, p, _w in DEMO_LOGINS}.get("acme-admin", "portal-demo-2026")


class Command(BaseCommand):
    help = "Load demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Also when DEBUG is off (demo passwords are public).")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates users with published passwords; run it with DEBUG on or --force.")
        with transaction.atomic():
            self.seed_staff()
            for spec in DEMO_CUSTOMERS:
                self.seed_customer(spec)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

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
            user.groups.add(Group.objects.get(name=group))
            if group == "finance":
                self._grant_admin_permissions(user)

    def _grant_admin_permissions(self, user) -> None:
        from django.contrib.auth.models import Permission

        apps = ["customers", "billing", "invoices", "django_celery_beat"]
        group = Group.objects.get(name="finance")
        group.permissions.add(*Permission.objects.filter(content_type__app_label__in=apps))

    def seed_customer(self, spec: dict) -> None:
        customer = Customer.objects.filter(code=spec["code"]).first()
        if customer is None:
            fields = {k: spec[k] for k in ("name", "tax_id", "address", "phone", "bank_name", "bank_account", "email")}
            customer = services.customer_create(code=spec["code"], **fields)
        terms = dict(spec["contract"])
        if not Contract.objects.filter(number=terms["number"]).exists():
            services.contract_create(customer=customer, **terms)
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
