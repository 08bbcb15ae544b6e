"""Bill and invoice files for people signed in with a session: the admin's "open / download"
links now, the customer portal's /portal/bills/{number}/pdf/ and /portal/invoices/{number}/pdf/
later. The files live in MEDIA_ROOT, which no URL serves: every file goes through these
views, which apply the API's rules through the same selectors (``bill_with_pdf_for``,
``invoice_with_pdf_for``): finance staff, or the customer's own portal admin/finance users;
a portal developer gets 403, anyone else 404 (signed out: the login page).

The portal reuses ``bill_pdf_response`` / ``invoice_pdf_response`` behind its own login.
"""

from __future__ import annotations

import mimetypes
from contextlib import contextmanager
from pathlib import PurePosixPath

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe
from rest_framework import exceptions

from billing.bills.documents import bill_pdf_bytes
from billing.bills.selectors import bill_with_pdf_for
from invoices.documents import invoice_pdf_bytes
from invoices.selectors import invoice_for, invoice_with_pdf_for


def wants_download(request: HttpRequest) -> bool:
    """``?download=1`` asks for an attachment; the default is to open it in the browser."""
    return request.GET.get("download", "").lower() in ("1", "true", "yes")


def file_response(content: bytes, *, filename: str, download: bool, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(download, filename)
    # A customer's document: never kept by a shared cache.
    patch_cache_control(response, private=True, no_store=True)
    return response


def pdf_response(content: bytes, *, filename: str, download: bool = False) -> HttpResponse:
    return file_response(content, filename=filename, download=download, content_type="application/pdf")


@contextmanager
def role_refusal_as_403():
    """The selectors refuse a role the API's way (DRF's PermissionDenied); a plain Django
    view answers that with Django's 403."""
    try:
        yield
    except exceptions.PermissionDenied as exc:
        raise PermissionDenied(str(exc.detail)) from exc


def bill_pdf_response(request: HttpRequest, number: str) -> HttpResponse:
    with role_refusal_as_403():
        bill = bill_with_pdf_for(request.user, number)
    return pdf_response(bill_pdf_bytes(bill), filename=f"{bill.number}.pdf", download=wants_download(request))


def invoice_pdf_response(request: HttpRequest, number: str) -> HttpResponse:
    with role_refusal_as_403():
        invoice = invoice_with_pdf_for(request.user, number)
    return pdf_response(invoice_pdf_bytes(invoice), filename=f"{invoice.number}.pdf", download=wants_download(request))


def invoice_platform_file_response(request: HttpRequest, number: str) -> HttpResponse:
    """The file the tax platform issued (manual or provider backend: PDF, OFD or XML)."""
    with role_refusal_as_403():
        invoice = invoice_for(request.user, number)
    if not invoice.platform_file:
        raise Http404
    suffix = PurePosixPath(invoice.platform_file.name).suffix.lower()
    with invoice.platform_file.open("rb") as handle:
        content = handle.read()
    return file_response(
        content,
        filename=f"{invoice.number or invoice.order_number}{suffix}",
        download=wants_download(request),
        content_type=mimetypes.guess_type(f"x{suffix}")[0] or "application/octet-stream",
    )


@require_safe
@login_required
def bill_pdf(request: HttpRequest, number: str) -> HttpResponse:
    return bill_pdf_response(request, number)


@require_safe
@login_required
def invoice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    return invoice_pdf_response(request, number)


@require_safe
@login_required
def invoice_platform_file(request: HttpRequest, number: str) -> HttpResponse:
    return invoice_platform_file_response(request, number)
