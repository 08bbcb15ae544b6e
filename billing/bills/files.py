"""A bill's PDF for a signed-in user, by the API's rules (``bill_with_pdf_for``): the admin's
link (procurement/documents.py) and the portal's /portal/bills/{number}/pdf/."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from billing.bills.documents import bill_pdf_bytes
from billing.bills.selectors import bill_with_pdf_for
from common.files import pdf_response, role_refusal_as_403, wants_download


def bill_pdf_response(request: HttpRequest, number: str) -> HttpResponse:
    with role_refusal_as_403():
        bill = bill_with_pdf_for(request.user, number)
    return pdf_response(bill_pdf_bytes(bill), filename=f"{bill.number}.pdf", download=wants_download(request))
