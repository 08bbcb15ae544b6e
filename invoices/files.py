"""An invoice's files for a signed-in user, by the API's rules (``invoice_with_pdf_for``,
``invoice_for``): the admin's links (procurement/documents.py) and the portal's
/portal/invoices/{number}/pdf/."""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from django.http import Http404, HttpRequest, HttpResponse

from common.files import file_response, pdf_response, wants_download
from invoices.documents import invoice_pdf_bytes
from invoices.selectors import invoice_for, invoice_with_pdf_for


def invoice_pdf_response(request: HttpRequest, number: str) -> HttpResponse:
    invoice = invoice_with_pdf_for(request.user, number)
    return pdf_response(invoice_pdf_bytes(invoice), filename=f"{invoice.number}.pdf", download=wants_download(request))


def invoice_platform_file_response(request: HttpRequest, number: str) -> HttpResponse:
    """The file the tax platform issued (manual or provider backend: PDF, OFD or XML)."""
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
