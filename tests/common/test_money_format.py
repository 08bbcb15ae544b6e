"""Money is printed one way (issue 24 item 6): ``¥1,234.50`` (``-¥52.00`` for a credit) in
every language, on pages, PDFs, e-mails and messages — the ``money`` filter (a template
builtin) and ``common.admin_display.money_text`` behind it. No template or module prints an
amount its own way again."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import engines
from django.utils import translation
from djmoney.money import Money

ROOT = Path(__file__).resolve().parents[2]
APPS = ["banking", "billing", "common", "customers", "gateways", "invoices", "portal", "presales", "procurement"]
APPS += ["workspace"]


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Money(Decimal("1234.5"), "CNY"), "¥1,234.50"),
        (Decimal("12345.67"), "¥12,345.67"),
        (Decimal("-52"), "-¥52.00"),
        ("1060.00", "¥1,060.00"),
        (Money(Decimal("0"), "CNY"), "¥0.00"),
        (None, "—"),
        ("", "—"),
    ],
)
def test_the_money_filter_prints_one_format_in_every_language_without_a_load(language, value, shown):
    with translation.override(language):
        assert render("{{ value|money }}", value=value) == shown


def test_quantity_and_percent_are_builtins_too():
    assert render("{{ n|quantity }} {{ p|percent }}", n=Decimal("1234567"), p=Decimal("35.7")) == "1,234,567 35.70 %"


def template_files() -> list[Path]:
    found = list((ROOT / "templates").rglob("*.html")) + list((ROOT / "templates").rglob("*.txt"))
    for app in APPS:
        found += list((ROOT / app / "templates").rglob("*.html")) if (ROOT / app / "templates").exists() else []
    return found


# What printed money before the one filter: a yuan sign written before a variable, Django's
# floatformat/intcomma on an amount, the raw amount of a Money.
OTHER_WAYS = [
    re.compile(r"¥\s*\{\{"),
    re.compile(r"CN¥"),
    re.compile(r'floatformat:"2g"'),
    re.compile(r"\.amount\|(intcomma|floatformat)"),
    re.compile(r"\b(balance|total|subtotal|vat|amount|debit|credit)\|(intcomma|floatformat)"),
]


def test_no_template_prints_money_another_way():
    files = template_files()
    assert len(files) > 50
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if any(way.search(line) for way in OTHER_WAYS)
    ]
    assert offenders == []


def test_no_module_writes_a_yuan_sign_before_a_figure_but_the_one_helper():
    pattern = re.compile(r"""(f["'][^"']*¥\{|["'][^"']*¥%\()""")
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or path.name == "admin_display.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []
