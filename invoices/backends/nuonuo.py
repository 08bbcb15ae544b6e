"""A certified provider's issuing backend, in the shape of the 诺诺 (Nuonuo) open platform.

The real specification cannot be fetched from here, so this module documents the shape it
implements; the request and answer formats below are what the client sends and reads, and
what the fake server in ``tests/invoices/fake_nuonuo.py`` answers. Adapting to the real
platform means changing this module only (paths, field names, signature), not the interface.

Authentication: every request carries

* ``X-Nuonuo-AppKey``: ``NUONUO_APP_KEY``; ``X-Nuonuo-TaxNum``: ``NUONUO_TAX_NUMBER``
  (the seller's account on the platform);
* ``X-Nuonuo-Timestamp`` (Unix seconds) and ``X-Nuonuo-Nonce`` (random, single use);
* ``X-Nuonuo-Sign``: base64(HMAC-SHA256(``NUONUO_APP_SECRET``,
  ``METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n BODY``)), BODY being the raw JSON bytes sent.

The platform signs its callbacks to us the same way (PATH = our callback path).

Every answer is ``{"code": "E0000", "describe": "…", "result": …}``; another ``code`` means
the platform understood and refused the request (``NuonuoError``). An HTTP error, a
timeout or an unreadable answer means nothing is known (``NuonuoUnavailable``): the invoice
stays ``pending`` and is sent again later with the same order number, which the platform
treats as the idempotency key (the same order number twice issues one invoice).

Endpoints (all ``POST``, JSON):

``/open/v1/invoices``
    ``{"order": {orderNo, invoiceDate, buyerName, buyerTaxNum, buyerAddress, buyerTel,
    buyerAccount, buyerEmail, pushMode, salerTaxNum, salerAddress, salerTel, salerAccount,
    clerk, invoiceType: "1" blue, invoiceLine: "bs" 数电专票 | "pc" 数电普票, remark,
    invoiceDetail: [{goodsName, goodsCode (19-digit tax classification code), specType,
    unit, num, price, withTaxFlag: "0", taxExcludedAmount, taxRate, tax}]}}``
    → ``result: {"orderNo", "invoiceSerialNum"}``.
``/open/v1/invoices/query``
    ``{"orderNos": [orderNo]}`` → ``result: [{"orderNo", "status": "processing" | "success"
    | "failure", "invoiceNo" (20 digits), "invoiceDate" ("YYYY-MM-DD HH:MM:SS"), "pdfUrl",
    "message"}]`` (an empty list: the platform never received that order).
``/open/v1/red-confirmations``
    红字发票信息确认单, filed by the seller: ``{"redConfirm": {billNo (our idempotency key:
    the red invoice's order number), salerTaxNum, blueInvoiceNo, redReason: "1".."4",
    applySource: "0" seller, taxExcludedAmount, tax (negative), invoiceDetail}}``
    → ``result: {"billNo", "billId", "status": "confirmed" | "awaiting" | "rejected" |
    "revoked", "message"}``. Filing the same ``billNo`` again answers its current state.
``/open/v1/invoices/red``
    ``{"order": {orderNo, salerTaxNum, blueInvoiceNo, billId, billNo, redReason, clerk,
    invoiceType: "2"}}`` → as ``/open/v1/invoices``; its result is queried the same way.

Callback ``POST /api/v1/invoices/callbacks/nuonuo/``: one query item as the body, signed as
above; applying it twice (or after a poll) changes nothing.

The platform delivers its own PDF/OFD to the buyer (``pushMode`` "1" with ``buyerEmail``);
we keep a copy of the PDF (``pdfUrl``) in ``Invoice.platform_file``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from billing.models import SellerProfile
from billing.periods import business_day
from common.integers import whole_number_or_none
from customers.models import InvoiceType

logger = logging.getLogger(__name__)

SUCCESS_CODE = "E0000"
SIGNATURE_MAX_AGE = 300  # seconds a signed request (or callback) stays valid
DEFAULT_TIMEOUT = 10.0
INVOICE_LINE = {InvoiceType.SPECIAL: "bs", InvoiceType.ORDINARY: "pc"}  # 数电专票 / 数电普票


class NuonuoError(Exception):
    """The platform understood the request and refused it (its ``code`` is not E0000)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.message = message


class NuonuoUnavailable(Exception):
    """HTTP error, timeout or unreadable answer: the outcome is unknown; retry later."""


def sign(*, secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = b"\n".join([method.upper().encode(), path.encode(), timestamp.encode(), nonce.encode(), body])
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def signed_headers(*, app_key: str, secret: str, method: str, path: str, body: bytes) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    return {
        "X-Nuonuo-AppKey": app_key,
        "X-Nuonuo-Timestamp": timestamp,
        "X-Nuonuo-Nonce": nonce,
        "X-Nuonuo-Sign": sign(secret=secret, method=method, path=path, timestamp=timestamp, nonce=nonce, body=body),
    }


def signature_valid(*, app_key: str, secret: str, method: str, path: str, headers, body: bytes) -> bool:
    """Check a signed request (the platform's callback): our app key, a fresh timestamp, the HMAC."""
    if not secret or not hmac.compare_digest(headers.get("X-Nuonuo-AppKey", ""), app_key):
        return False
    timestamp = headers.get("X-Nuonuo-Timestamp", "")
    seconds = whole_number_or_none(timestamp, maximum=2**63 - 1)  # "³".isdigit(), but not int("³")
    if seconds is None or abs(time.time() - seconds) > SIGNATURE_MAX_AGE:
        return False
    expected = sign(
        secret=secret, method=method, path=path, timestamp=timestamp, nonce=headers.get("X-Nuonuo-Nonce", ""), body=body
    )
    return hmac.compare_digest(headers.get("X-Nuonuo-Sign", ""), expected)


@dataclass(frozen=True)
class InvoiceResult:
    """One invoice's state at the platform (a query item, or a callback body)."""

    order_number: str
    status: str  # processing | success | failure
    invoice_number: str = ""
    invoice_date: date | None = None
    pdf_url: str = ""
    message: str = ""

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> InvoiceResult:
        raw_date = str(data.get("invoiceDate") or "")
        return cls(
            order_number=str(data.get("orderNo", "")),
            status=str(data.get("status", "")),
            invoice_number=str(data.get("invoiceNo") or ""),
            invoice_date=date.fromisoformat(raw_date[:10]) if raw_date else None,
            pdf_url=str(data.get("pdfUrl") or ""),
            message=str(data.get("message") or ""),
        )


@dataclass(frozen=True)
class RedFormResult:
    bill_no: str
    bill_id: str
    status: str  # confirmed | awaiting | rejected | revoked
    message: str = ""


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


class NuonuoClient:
    """A small HTTP client for the platform; every call may raise NuonuoError or NuonuoUnavailable."""

    def __init__(
        self,
        *,
        base_url: str,
        app_key: str,
        app_secret: str,
        tax_number: str = "",
        timeout: float = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self.app_key = app_key
        self.app_secret = app_secret
        self.tax_number = tax_number
        self.timeout = timeout
        self.session = session or requests.Session()

    @classmethod
    def from_settings(cls) -> NuonuoClient:
        base_url = getattr(settings, "NUONUO_BASE_URL", "")
        app_key = getattr(settings, "NUONUO_APP_KEY", "")
        app_secret = getattr(settings, "NUONUO_APP_SECRET", "")
        if not (base_url and app_key and app_secret):
            raise ImproperlyConfigured(
                "The nuonuo invoice backend needs NUONUO_BASE_URL, NUONUO_APP_KEY and NUONUO_APP_SECRET."
            )
        return cls(
            base_url=base_url,
            app_key=app_key,
            app_secret=app_secret,
            tax_number=getattr(settings, "NUONUO_TAX_NUMBER", ""),
        )

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Nuonuo-TaxNum": self.tax_number,
            **signed_headers(app_key=self.app_key, secret=self.app_secret, method="POST", path=path, body=body),
        }
        url = urljoin(self.base_url, path.lstrip("/"))
        try:
            response = self.session.post(url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:  # connection refused, timeout, …
            raise NuonuoUnavailable(f"{path}: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise NuonuoUnavailable(f"{path}: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise NuonuoUnavailable(f"{path}: HTTP {response.status_code}, not JSON") from exc
        if not isinstance(answer, dict) or "code" not in answer:
            raise NuonuoUnavailable(f"{path}: HTTP {response.status_code}, unexpected answer")
        if answer["code"] != SUCCESS_CODE:
            raise NuonuoError(str(answer["code"]), str(answer.get("describe", "")))
        return answer.get("result")

    def invoice_submit(self, order: dict[str, Any]) -> str:
        """Ask for a blue invoice; returns the platform's serial number for the order."""
        return str(self._post("/open/v1/invoices", {"order": order})["invoiceSerialNum"])

    def invoice_query(self, order_number: str) -> InvoiceResult | None:
        """The invoice's state, or None when the platform never received the order."""
        items = self._post("/open/v1/invoices/query", {"orderNos": [order_number]}) or []
        for item in items:
            if item.get("orderNo") == order_number:
                return InvoiceResult.from_payload(item)
        return None

    def red_form_submit(self, form: dict[str, Any]) -> RedFormResult:
        """File (or, with the same billNo, ask again about) a red-letter confirmation form."""
        result = self._post("/open/v1/red-confirmations", {"redConfirm": form})
        return RedFormResult(
            bill_no=str(result.get("billNo", "")),
            bill_id=str(result.get("billId", "")),
            status=str(result.get("status", "")),
            message=str(result.get("message") or ""),
        )

    def red_invoice_submit(self, order: dict[str, Any]) -> str:
        """Ask for the red invoice of a confirmed form; its result is queried like a blue one."""
        return str(self._post("/open/v1/invoices/red", {"order": order})["invoiceSerialNum"])

    def download(self, url: str) -> bytes:
        try:
            response = self.session.get(url, timeout=self.timeout)
        except requests.RequestException as exc:
            raise NuonuoUnavailable(f"{url}: {exc}") from exc
        if response.status_code != 200:
            raise NuonuoUnavailable(f"{url}: HTTP {response.status_code}")
        return response.content


def _detail(invoice) -> list[dict[str, Any]]:
    lines = []
    for line in invoice.lines.all():
        item: dict[str, Any] = {
            "goodsName": line.item_name,
            "goodsCode": line.tax_code,
            "specType": line.spec,
            "unit": line.unit,
            "withTaxFlag": "0",  # prices exclude VAT
            "taxExcludedAmount": _amount(line.amount.amount),
            "taxRate": _plain(line.tax_rate),
            "tax": _amount(line.tax.amount),
        }
        if line.quantity is not None and line.unit_price is not None:
            item["num"] = _plain(line.quantity)
            item["price"] = _plain(line.unit_price)
        lines.append(item)
    return lines


def blue_order(invoice) -> dict[str, Any]:
    """The request body's ``order`` for a blue invoice, from the invoice's frozen snapshots."""
    buyer, seller = invoice.buyer, invoice.seller
    return {
        "orderNo": invoice.order_number,
        "invoiceDate": timezone.localtime(invoice.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        "buyerName": buyer.get("name", ""),
        "buyerTaxNum": buyer.get("tax_id", ""),
        "buyerAddress": buyer.get("address", ""),
        "buyerTel": buyer.get("phone", ""),
        "buyerAccount": f"{buyer.get('bank_name', '')} {buyer.get('bank_account', '')}".strip(),
        "buyerEmail": buyer.get("email", ""),
        "pushMode": "1" if buyer.get("email") else "-1",  # the platform e-mails the buyer
        "salerTaxNum": seller.get("tax_id", ""),
        "salerAddress": seller.get("address", ""),
        "salerTel": seller.get("phone", ""),
        "salerAccount": f"{seller.get('bank_name', '')} {seller.get('bank_account', '')}".strip(),
        "clerk": invoice.issuer,
        "invoiceType": "1",
        "invoiceLine": INVOICE_LINE[invoice.invoice_type],
        "remark": invoice.remark,
        "invoiceDetail": _detail(invoice),
    }


def red_form(invoice) -> dict[str, Any]:
    form = invoice.red_form
    return {
        "billNo": invoice.order_number,
        "salerTaxNum": invoice.seller.get("tax_id", ""),
        "blueInvoiceNo": invoice.original.number,
        "redReason": str(form.reason),
        "applySource": "0",  # the seller files it
        "taxExcludedAmount": _amount(invoice.amount.amount),
        "tax": _amount(invoice.vat.amount),
        "invoiceDetail": _detail(invoice),
    }


class NuonuoBackend:
    name = "nuonuo"

    def __init__(self, client: NuonuoClient | None = None):
        self._client = client

    @property
    def client(self) -> NuonuoClient:
        if self._client is None:
            self._client = NuonuoClient.from_settings()
        return self._client

    # --- the IssuingBackend interface: called inside the issuing transaction ------------

    def submit(self, *, invoice, seller: SellerProfile, on: date) -> None:
        """Send after commit: a rolled-back issue sends nothing and the bill is not held
        locked during a network call. The invoice stays pending until the platform answers."""
        _send_after_commit(invoice.pk)

    def submit_red(self, *, invoice, form, seller: SellerProfile, on: date) -> None:
        _send_after_commit(invoice.pk)

    # --- talking to the platform ----------------------------------------------------------

    def send(self, *, invoice) -> None:
        """Submit a pending invoice (again: the order number makes it idempotent).

        A red invoice first files its confirmation form; the red invoice is asked for once
        the form is confirmed (at once when the buyer has not booked the blue invoice).
        """
        from invoices.models import Invoice

        invoice = Invoice.objects.select_related("original").get(pk=invoice.pk)
        if invoice.status != Invoice.Status.PENDING:
            return
        try:
            if invoice.color == Invoice.Color.BLUE:
                serial = self.client.invoice_submit(blue_order(invoice))
            else:
                # Filing the same billNo again is idempotent and answers the form's state and billId.
                answer = self.client.red_form_submit(red_form(invoice))
                if not self._apply_form(invoice, invoice.red_form, answer):
                    return
                serial = self.client.red_invoice_submit(
                    {
                        "orderNo": invoice.order_number,
                        "salerTaxNum": invoice.seller.get("tax_id", ""),
                        "blueInvoiceNo": invoice.original.number,
                        "billId": answer.bill_id,
                        "billNo": invoice.order_number,
                        "redReason": str(invoice.red_reason),
                        "clerk": invoice.issuer,
                        "invoiceType": "2",
                    }
                )
        except NuonuoUnavailable as exc:
            logger.warning("nuonuo unavailable for %s: %s", invoice.order_number, exc)
            _event(invoice, "platform_unavailable", error=str(exc))
            return
        except NuonuoError as exc:
            self._fail(invoice, str(exc))
            return
        _event(invoice, "submitted", platform="nuonuo", serial=serial)

    def _apply_form(self, invoice, form, answer: RedFormResult) -> bool:
        """Record the form's state; True when it is confirmed and the red invoice may be asked for."""
        from invoices.models import RedLetterForm

        status = {
            "confirmed": RedLetterForm.Status.CONFIRMED,
            "awaiting": RedLetterForm.Status.AWAITING,
            "rejected": RedLetterForm.Status.REJECTED,
            "revoked": RedLetterForm.Status.REVOKED,
        }.get(answer.status)
        if status is None:
            raise NuonuoUnavailable(f"unknown red-letter form status {answer.status!r}")
        if form.status != status:
            form.status = status
            form.save(update_fields=["status", "updated_at"])
        if status in (RedLetterForm.Status.REJECTED, RedLetterForm.Status.REVOKED):
            self._fail(invoice, answer.message or form.get_status_display())
            return False
        return status == RedLetterForm.Status.CONFIRMED

    def _fail(self, invoice, message: str) -> None:
        from invoices.models import Invoice

        with transaction.atomic():
            from invoices.transitions import invoice_sources

            updated = Invoice.objects.filter(pk=invoice.pk, status__in=invoice_sources(Invoice.Status.FAILED)).update(
                status=Invoice.Status.FAILED, failure=message, updated_at=timezone.now()
            )
            if updated:
                _event(invoice, "failed", message=message)

    def poll(self, *, invoice) -> bool:
        """Ask the platform about a pending invoice; True when it is resolved (issued or failed)."""
        from invoices.models import Invoice, RedLetterForm

        invoice = Invoice.objects.get(pk=invoice.pk)
        if invoice.status != Invoice.Status.PENDING:
            return True
        if invoice.color == Invoice.Color.RED and invoice.red_form.status != RedLetterForm.Status.CONFIRMED:
            self.send(invoice=invoice)  # re-filing the form with the same billNo answers its state
            invoice.refresh_from_db()
            if invoice.status != Invoice.Status.PENDING:
                return True
            if invoice.red_form.status != RedLetterForm.Status.CONFIRMED:
                return False
        try:
            result = self.client.invoice_query(invoice.order_number)
        except (NuonuoUnavailable, NuonuoError) as exc:
            logger.warning("nuonuo query for %s failed: %s", invoice.order_number, exc)
            return False
        if result is None:  # the submission never arrived: send it again, same order number
            self.send(invoice=invoice)
            return False
        return self.apply_result(invoice=invoice, result=result)

    def apply_result(self, *, invoice, result: InvoiceResult) -> bool:
        """Apply a query item or callback; idempotent. True when the invoice is resolved."""
        from invoices.models import Invoice
        from invoices.services import mark_issued

        with transaction.atomic():
            invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
            if invoice.status != Invoice.Status.PENDING:
                return True  # already applied (a callback and a poll may both report it)
            if result.status == "success":
                try:
                    mark_issued(
                        invoice=invoice,
                        number=result.invoice_number,
                        issued_on=result.invoice_date or business_day(timezone.now()),
                    )
                except ValidationError as exc:
                    # A number we cannot record (malformed, or already used): keep it pending for finance.
                    _event(invoice, "platform_result_rejected", errors=exc.messages)
                    return False
                if result.pdf_url:
                    url, pk = result.pdf_url, invoice.pk
                    transaction.on_commit(lambda: self.fetch_platform_file(invoice_id=pk, url=url))
                return True
            if result.status == "failure":
                self._fail(invoice, result.message or "failure")
                return True
            return False  # processing

    def fetch_platform_file(self, *, invoice_id: int, url: str) -> None:
        """Keep a copy of the platform's PDF; best effort (the platform keeps the original)."""
        from invoices.models import Invoice

        try:
            content = self.client.download(url)
        except NuonuoUnavailable as exc:
            logger.warning("nuonuo PDF for invoice %s not fetched: %s", invoice_id, exc)
            return
        invoice = Invoice.objects.get(pk=invoice_id)
        invoice.platform_file.save(f"{invoice.number}.pdf", ContentFile(content), save=False)
        invoice.save(update_fields=["platform_file", "updated_at"])


def _event(invoice, kind: str, **data) -> None:
    from invoices.events import invoice_event

    invoice_event(invoice, kind, **data)


def _send_after_commit(invoice_id: int) -> None:
    from common.tasks import enqueue_on_commit

    enqueue_on_commit("invoices.tasks.invoice_platform_submit", invoice_id)
