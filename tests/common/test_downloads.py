"""Every file download answers with the same headers (common.files.file_response): a
customer's document or an export is ``Cache-Control: private, no-store`` on every route —
the API, the portal, the staff pages, the admin's /documents/ links — with a
``Content-Disposition`` built by Django's ``content_disposition_header`` (inline for a PDF
opened in the browser, attachment for an export or ``?download=1``).

The sweep is decisive: the URL resolver's download routes are listed here one by one, and a
route added without a row here fails ``test_the_sweep_covers_every_download_route``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils.http import content_disposition_header
from djmoney.money import Money

from billing.models import DunningNotice
from common.exports import csv_response, csv_stream_response, xlsx_response
from common.files import file_response, pdf_response
from invoices.backends.manual import ManualBackend
from invoices.services import invoice_issue, invoice_record_manual
from tests.conftest import client_for
from tests.invoices.helpers import SHANGHAI, commitment_bill, seller_profile
from tests.presales.conftest import ESTIMATES_URL, goods_request, price_book, usd_rate  # noqa: F401
from tests.presales.test_proposals import propose

pytestmark = pytest.mark.django_db

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _november(time_machine):
    time_machine.move_to(datetime(2026, 11, 5, 10, 0, tzinfo=SHANGHAI), tick=True)


@pytest.fixture
def documents(acme, other_customer, acme_project, presales_user, price_book, usd_rate):  # noqa: F811
    """One of every downloadable document: ACME's bill with its invoice and a 催款函, another
    customer's manually issued invoice with its platform file, and a proposal."""
    seller_profile()
    bill = commitment_bill(acme, Decimal("1000.00"))
    (invoice,) = invoice_issue(bill=bill)
    notice = DunningNotice.objects.create(
        bill=bill,
        stage=DunningNotice.Stage.DEMAND_15,
        number="CS-2026-0001",
        on_day=date(2026, 11, 5),
        days_overdue=15,
        balance=Money(Decimal("1060.00"), "CNY"),
    )
    other_bill = commitment_bill(other_customer, Decimal("500.00"))
    (pending,) = invoice_issue(bill=other_bill, backend=ManualBackend())
    manual = invoice_record_manual(
        invoice=pending,
        number="26312000000000000042",
        issued_on=date(2026, 11, 5),
        platform_file=SimpleUploadedFile("dzfp.ofd", b"OFD-bytes", content_type="application/ofd"),
    )
    presales = client_for(presales_user)
    estimate_id = presales.post(ESTIMATES_URL, goods_request(), format="json").json()["id"]
    proposal = propose(presales, estimate_id).json()["number"]
    return {
        "bill": bill.number,
        "line": bill.lines.first().position,
        "invoice": invoice.number,
        "notice": notice.number,
        "manual": manual.number,
        "proposal": proposal,
    }


# (route name, path, who, content type, download?, filename); {…} from the documents fixture.
STATEMENT = "STATEMENT-ACME-20261101-20261130.pdf"
SWEEP = [
    ("bill-pdf", "/api/v1/bills/{bill}/pdf/", "finance", PDF, False, "{bill}.pdf"),
    ("bill-notice-pdf", "/api/v1/bills/{bill}/notices/{notice}/pdf/", "finance", PDF, False, "{notice}.pdf"),
    ("customer-statement-pdf", "/api/v1/customers/ACME/statement/pdf/", "finance", PDF, False, STATEMENT),
    ("invoice-pdf", "/api/v1/invoices/{invoice}/pdf/", "finance", PDF, False, "{invoice}.pdf"),
    (
        "presales-proposal-pdf",
        "/api/v1/presales/proposals/{proposal}/pdf/",
        "presales",
        PDF,
        False,
        "{proposal}-v1.pdf",
    ),
    ("usage-summary", "/api/v1/usage-summary/?customer=ACME&period=2026-11&format=csv", "finance", CSV, True, None),
    (
        "bill-line-records",
        "/api/v1/bills/{bill}/lines/{line}/records/",
        "finance",
        CSV,
        True,
        "records-{bill}-line{line}.csv",
    ),
    ("usage-records", "/api/v1/usage-records/?customer=ACME&period=2026-11", "finance", CSV, True, None),
    ("documents:bill-pdf", "/documents/bills/{bill}/pdf/", "finance", PDF, False, "{bill}.pdf"),
    ("documents:bill-pdf", "/documents/bills/{bill}/pdf/?download=1", "finance", PDF, True, "{bill}.pdf"),
    ("documents:notice-pdf", "/documents/bills/{bill}/notices/{notice}/pdf/", "finance", PDF, False, "{notice}.pdf"),
    ("documents:statement-pdf", "/documents/customers/ACME/statement/pdf/", "finance", PDF, False, STATEMENT),
    ("documents:invoice-pdf", "/documents/invoices/{invoice}/pdf/", "finance", PDF, False, "{invoice}.pdf"),
    (
        "documents:invoice-platform-file",
        "/documents/invoices/{manual}/platform-file/?download=1",
        "finance",
        "application/octet-stream",
        True,
        "{manual}.ofd",
    ),
    ("portal:bill-pdf", "/portal/bills/{bill}/pdf/", "alice", PDF, False, "{bill}.pdf"),
    ("portal:bill-notice-pdf", "/portal/bills/{bill}/notices/{notice}/pdf/", "alice", PDF, False, "{notice}.pdf"),
    ("portal:statement-pdf", "/portal/statement/pdf/", "alice", PDF, False, STATEMENT),
    ("portal:invoice-pdf", "/portal/invoices/{invoice}/pdf/", "alice", PDF, False, "{invoice}.pdf"),
    (
        "portal:bill-line-records-csv",
        "/portal/bills/{bill}/lines/{line}/records.csv",
        "alice",
        CSV,
        True,
        "records-{bill}-line{line}.csv",
    ),
    ("portal:usage-records-csv", "/portal/usage/records.csv?period=2026-11", "alice", CSV, True, None),
    ("portal:usage-export-csv", "/portal/usage/export.csv?period=2026-11", "alice", CSV, True, None),
    ("portal:usage-export-xlsx", "/portal/usage/export.xlsx?period=2026-11", "alice", XLSX, True, None),
    ("presales:proposal-pdf", "/staff/presales/proposals/{proposal}/pdf/", "presales", PDF, False, "{proposal}-v1.pdf"),
    (
        "presales:proposal-pdf",
        "/staff/presales/proposals/{proposal}/pdf/?download=1",
        "presales",
        PDF,
        True,
        "{proposal}-v1.pdf",
    ),
    (
        "workspace:reconciliation",
        "/staff/reconciliation/?period=2026-10&format=csv",
        "finance",
        CSV,
        True,
        "reconciliation-2026-10-models.csv",
    ),
    (
        "workspace:reconciliation",
        "/staff/reconciliation/?period=2026-10&format=xlsx&table=customers",
        "finance",
        XLSX,
        True,
        "reconciliation-2026-10-customers.xlsx",
    ),
    ("admin:billing_bill_aging", "/admin/billing/bill/aging/?as_of=2026-11-05&format=csv", "root", CSV, True, None),
    ("admin:billing_bill_aging", "/admin/billing/bill/aging/?as_of=2026-11-05&format=xlsx", "root", XLSX, True, None),
]
# Routes whose name or path says "file" that answer JSON or a page, not a file: the aging
# API (JSON) and the admin pages of the bank's CSV layouts (banking.CsvProfile).
NOT_FILES = {"receivables-aging"} | {
    f"admin:banking_csvprofile_{page}" for page in ("add", "change", "changelist", "delete", "history")
}


def no_store(response) -> bool:
    return {"private", "no-store"} <= {part.strip() for part in response.get("Cache-Control", "").split(",")}


@pytest.fixture
def clients(finance_user, presales_user, alice, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.cn", "pw-unused-1")

    def signed_in(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return {
        "finance": signed_in(finance_user),
        "presales": signed_in(presales_user),
        "alice": signed_in(alice),
        "root": signed_in(root),
    }


def test_every_download_route_answers_private_no_store_with_a_safe_disposition(documents, clients):
    seen = []
    for _name, path, who, content_type, download, filename in SWEEP:
        url = path.format(**documents)
        response = clients[who].get(url)
        seen.append(url)

        assert response.status_code == 200, (url, response.status_code)
        assert response["Content-Type"] == content_type, url
        assert no_store(response), (url, response.get("Cache-Control"))
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment; " if download else "inline; "), (url, disposition)
        if filename is not None:
            assert disposition == content_disposition_header(download, filename.format(**documents)), url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body, url
        if content_type == PDF:
            assert body.startswith(b"%PDF-"), url
    assert len(seen) == len(SWEEP)


def _file_routes() -> set[str]:
    """The resolver's routes whose name or path says they answer a file (pdf, csv, xlsx,
    export, download, platform-file, the aging page with its exports)."""
    found = set()

    def walk(resolver, namespace=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
                walk(pattern, inner or namespace)
            elif pattern.name and any(
                key in f"{pattern.name} {pattern.pattern}".lower()
                for key in ("pdf", "csv", "xlsx", "export", "download", "platform-file", "aging")
            ):
                found.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver())
    return found


def test_the_sweep_covers_every_download_route():
    swept = {name for name, *_ in SWEEP}
    assert _file_routes() - NOT_FILES <= swept, sorted(_file_routes() - NOT_FILES - swept)


@pytest.mark.parametrize(
    "make",
    [
        lambda name: file_response(b"x", filename=name, content_type="application/octet-stream"),
        lambda name: pdf_response(b"%PDF-1.7", filename=name, download=True),
        lambda name: csv_response(header=["a"], rows=[[1]], filename=name),
        lambda name: csv_stream_response(header=["a"], rows=iter([[1]]), filename=name),
        lambda name: xlsx_response(title="t", header=["a"], rows=[[1]], filename=name),
    ],
    ids=["file", "pdf", "csv", "csv-stream", "xlsx"],
)
def test_every_helper_encodes_the_filename_safely_and_is_no_store(make):
    response = make('对账函 "ACME".csv')

    assert (
        response["Content-Disposition"] == "attachment; filename*=utf-8''%E5%AF%B9%E8%B4%A6%E5%87%BD%20%22ACME%22.csv"
    )
    assert no_store(response)


def test_a_streamed_csv_is_the_same_file_as_the_whole_one():
    rows = [["=HYPERLINK(1)", Decimal("12.50"), Money(Decimal("3"), "CNY")], ["模型", 1, None]]
    whole = csv_response(header=["名称", "数量", "金额"], rows=rows, filename="a.csv")
    streamed = csv_stream_response(header=["名称", "数量", "金额"], rows=iter(rows), filename="a.csv")

    assert streamed.streaming
    assert b"".join(streamed.streaming_content) == whole.content
    assert whole.content.startswith("\ufeff名称".encode())
    assert "'=HYPERLINK(1),12.50,3.00" in whole.content.decode()
    assert streamed["Content-Type"] == whole["Content-Type"] == CSV
