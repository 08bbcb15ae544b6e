"""Bill and invoice files for people signed in with a session: the admin's "open / download"
links now, the customer portal's /portal/bills/{number}/pdf/ and /portal/invoices/{number}/pdf/
later. The files live in MEDIA_ROOT, which no URL serves: every file goes through these
views, which apply the API's rules through the same selectors (``bill_with_pdf_for``,
``invoice_with_pdf_for``): finance staff, or the customer's own portal admin/finance users;
a portal developer gets 403, anyone else 404 (signed out: the login page).

The responses are billing/bills/files.py and invoices/files.py; the portal reuses them behind
its own login.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from billing.bills.files import bill_pdf_response, notice_pdf_response, statement_pdf_response
from invoices.files import invoice_pdf_response, invoice_platform_file_response


@require_safe
@login_required
def bill_pdf(request: HttpRequest, number: str) -> HttpResponse:
    return bill_pdf_response(request, number)


@require_safe
@login_required
def notice_pdf(request: HttpRequest, number: str, notice: str) -> HttpResponse:
    return notice_pdf_response(request, number, notice)


@require_safe
@login_required
def statement_pdf(request: HttpRequest, code: str) -> HttpResponse:
    return statement_pdf_response(request, code)


@require_safe
@login_required
def invoice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    return invoice_pdf_response(request, number)


@require_safe
@login_required
def invoice_platform_file(request: HttpRequest, number: str) -> HttpResponse:
    return invoice_platform_file_response(request, number)
