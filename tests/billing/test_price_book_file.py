"""Finance's price-book file (CSV/XLSX): a CNY list genai-prices lacks, in one step; bounded;
errors by line and column; all or nothing."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook

from billing.models import PriceVersion
from billing.periods import billing_tz
from billing.pricing.cost import price_plan
from billing.pricing.pricebook_file import MAX_ROWS, PriceBookFileError, price_book_file_import

pytestmark = pytest.mark.django_db

HEADER = "provider,model,effective_from,currency,key,price,tier_start,processing,service_tier,window_from,window_to,weekdays,note"
# Qwen-Plus on DashScope (help.aliyun.com, 模型调用计费, late 2026), CNY per 1M tokens:
# input 0.8 (above 128k: 2.4), cache read 0.16, output 2; Batch half price.
QWEN = "\n".join(
    [
        HEADER,
        "dashscope,qwen-plus,2026-11-01,CNY,input_mtok,0.8,,,,,,,DashScope list",
        "dashscope,qwen-plus,2026-11-01,CNY,input_mtok,2.4,128000,,,,,,",
        "dashscope,qwen-plus,2026-11-01,CNY,cache_read_mtok,0.16,,,,,,,",
        "dashscope,qwen-plus,2026-11-01,CNY,output_mtok,2,,,,,,,",
        "dashscope,qwen-plus,2026-11-01,CNY,input_mtok,0.4,,batch,,,,,",
        "dashscope,qwen-plus,2026-11-01,CNY,output_mtok,1,,batch,,,,,",
        "volcengine,doubao-seed-1.6,2026-11-01,CNY,input_mtok,0.8,,,,,,,",
        "volcengine,doubao-seed-1.6,2026-11-01,CNY,output_mtok,8,,,,,,,",
        "volcengine,doubao-seed-1.6,2026-11-01,CNY,input_mtok,0.4,,,,00:00,08:00,,",
    ]
)


def test_it_imports_a_cny_list_with_tiers_variants_and_windows():
    report = price_book_file_import(file_name="dashscope.csv", content=QWEN.encode())

    assert (report.created, report.updated) == (2, 0)
    qwen = PriceVersion.objects.get(model="qwen-plus")
    assert (qwen.currency, qwen.source, qwen.note) == ("CNY", PriceVersion.Source.FILE, "DashScope list")
    assert qwen.effective_from == datetime(2026, 11, 1, tzinfo=billing_tz())
    assert qwen.prices["input_mtok"] == {"base": "0.8", "tiers": [{"start": 128000, "price": "2.4"}]}
    assert qwen.variants == [{"when": {"processing": "batch"}, "prices": {"input_mtok": "0.4", "output_mtok": "1"}}]
    doubao = PriceVersion.objects.get(model="doubao-seed-1.6")
    assert doubao.windows == [{"start": "00:00", "end": "08:00", "prices": {"input_mtok": "0.4"}}]
    # A 200k-token Batch call: 200,000 × 0.4 + 1,000 × 1 → ¥0.081; standard above 128k: × 2.4
    moment = datetime(2026, 11, 5, 12, tzinfo=billing_tz())
    counts = {"input_tokens": 200_000, "output_tokens": 1_000}
    assert price_plan(qwen).cost(counts, moment, processing="batch") == Decimal("0.081")
    assert price_plan(qwen).cost(counts, moment) == Decimal("0.482")


def test_it_imports_an_xlsx_workbook_with_numbers_and_dates():
    book = Workbook()
    sheet = book.active
    sheet.append(["provider", "model", "effective_from", "currency", "key", "price"])
    sheet.append(["dashscope", "qwen-max", datetime(2026, 11, 1), "CNY", "input_mtok", 2.4])
    sheet.append(["dashscope", "qwen-max", datetime(2026, 11, 1), "CNY", "output_mtok", 9.6])
    buffer = io.BytesIO()
    book.save(buffer)

    price_book_file_import(file_name="list.xlsx", content=buffer.getvalue())

    version = PriceVersion.objects.get(model="qwen-max")
    assert version.prices == {"input_mtok": "2.4", "output_mtok": "9.6"}  # not 2.39999…


@pytest.mark.parametrize(
    ("content", "line", "field"),
    [
        (QWEN.replace("cache_read_mtok,0.16", "cache_reads_mtok,0.16"), 4, "key"),
        (QWEN.replace("output_mtok,2,,", "output_mtok,-2,,"), 2, "dashscope/qwen-plus prices.output_mtok"),
        (QWEN.replace("2.4,128000", "2.4,lots"), 2, "dashscope/qwen-plus"),
        (
            QWEN.replace(
                "volcengine,doubao-seed-1.6,2026-11-01,CNY,output_mtok",
                "volcengine,doubao-seed-1.6,2026-11-31,CNY,output_mtok",
            ),
            9,
            "effective_from",
        ),
        (QWEN.replace("CNY,output_mtok,8", "EUR,output_mtok,8"), 9, "currency"),
        (QWEN.replace(",00:00,08:00,", ",08:00,08:00,"), 8, "volcengine/doubao-seed-1.6 windows[0].end"),
        (QWEN.replace("input_mtok,0.4,,batch", "input_mtok,0.4,,batch,,01:00,02:00"), 6, "processing"),
        (QWEN.replace(",note", ",remark"), 1, "remark"),
        (QWEN.replace(",currency,", ",cur,"), 1, "currency"),
    ],
)
def test_it_names_line_and_column_and_writes_nothing(content, line, field):
    with pytest.raises(PriceBookFileError) as caught:
        price_book_file_import(file_name="list.csv", content=content.encode())

    assert (line, field) in [(e.line, e.field) for e in caught.value.file_errors], caught.value.file_errors
    assert not PriceVersion.objects.exists()


def test_it_refuses_a_file_too_large_or_too_long():
    with pytest.raises(PriceBookFileError):
        price_book_file_import(file_name="big.csv", content=b"x" * (2 * 1024 * 1024 + 1))
    rows = "\n".join([HEADER] + ["p,m,2026-11-01,CNY,input_mtok,1,,,,,,,"] * (MAX_ROWS + 1))
    with pytest.raises(PriceBookFileError) as caught:
        price_book_file_import(file_name="long.csv", content=rows.encode())
    assert "5000" in str(caught.value.file_errors[0])
    with pytest.raises(PriceBookFileError):
        price_book_file_import(file_name="x.xlsx", content=b"PK not a workbook")
    assert not PriceVersion.objects.exists()


def test_it_never_changes_a_locked_version_and_rolls_back_the_file():
    price_book_file_import(file_name="dashscope.csv", content=QWEN.encode())
    PriceVersion.objects.filter(model="qwen-plus").update(locked_at=timezone.now())
    PriceVersion.objects.filter(model="doubao-seed-1.6").delete()

    with pytest.raises(PriceBookFileError) as caught:
        price_book_file_import(
            file_name="dashscope.csv", content=QWEN.replace("0.8,,,,,,,Dash", "0.9,,,,,,,Dash").encode()
        )

    assert caught.value.file_errors[0].field == "dashscope/qwen-plus"
    assert PriceVersion.objects.get(model="qwen-plus").prices["input_mtok"]["base"] == "0.8"
    assert not PriceVersion.objects.filter(model="doubao-seed-1.6").exists()  # nothing of the file written


def test_the_command_imports_a_file_and_reports_errors(tmp_path):
    good = tmp_path / "list.csv"
    good.write_text(QWEN)
    out = io.StringIO()
    call_command("import_price_book", str(good), stdout=out)
    assert "2 created" in out.getvalue()

    bad = tmp_path / "bad.csv"
    bad.write_text(QWEN.replace("cache_read_mtok,0.16", "cache_reads_mtok,0.16"))
    with pytest.raises(CommandError, match="line 4, key"):
        call_command("import_price_book", str(bad), stdout=io.StringIO())


def test_finance_imports_a_file_on_the_admin_page(finance_user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(finance_user)
    url = "/admin/billing/priceversion/import-file/"
    example = client.get(url + "?template=1")
    assert example.status_code == 200 and "qwen-plus" in example.content.decode()
    # The example is itself a valid file.
    assert price_book_file_import(file_name="example.csv", content=example.content).created == 1
    PriceVersion.objects.all().delete()

    bad = io.BytesIO(QWEN.replace("cache_read_mtok,0.16", "cache_reads_mtok,0.16").encode())
    bad.name = "bad.csv"
    page = client.post(url, {"file": bad})
    assert page.status_code == 200
    assert "line 4, key" in page.content.decode()
    assert not PriceVersion.objects.exists()

    good = io.BytesIO(QWEN.encode())
    good.name = "dashscope.csv"
    response = client.post(url, {"file": good})
    assert response.status_code == 302
    assert PriceVersion.objects.count() == 2
