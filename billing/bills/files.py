"""A bill's PDF for a signed-in user, by the API's rules (``bill_with_pdf_for``): the admin's
link (procurement/documents.py) and the portal's /portal/bills/{number}/pdf/."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest

from billing.bills.documents import bill_pdf_bytes
from billing.bills.selectors import bill_with_pdf_for
from common.files import pdf_response, wants_download


def bill_pdf_response(request: HttpRequest, number: str) -> HttpResponse:
    bill = bill_with_pdf_for(request.user, number)
    return pdf_response(bill_pdf_bytes(bill), filename=f"{bill.number}.pdf", download=wants_download(request))


def notice_pdf_response(request: HttpRequest, number: str, notice: str) -> HttpResponse:
    """A 催款函 of the bill ``number``, by the bill's rules (another customer's: 404)."""
    from billing.bills.dunning import notice_render_pdf, notices_for
    from billing.bills.selectors import bill_for

    found = notices_for(bill_for(request.user, number)).filter(number=notice).first()
    if found is None:
        raise Http404
    return pdf_response(notice_render_pdf(found), filename=f"{found.number}.pdf", download=wants_download(request))


def statement_pdf_response(request: HttpRequest, code: str) -> HttpResponse:
    """The statement of account (对账函) of customer ``code`` for ``?from=&to=``, by the API's
    rules (finance; the customer's admin and finance users; a developer 403; others 404). A
    bad date answers 400 naming it."""
    from django.core.exceptions import ValidationError

    from billing.bills.statement import customer_statement, statement_filename, statement_pdf, statement_range
    from customers.access import MONEY_ROLES, customer_for

    customer = customer_for(request.user, code, roles=MONEY_ROLES)
    try:
        start, end = statement_range(start=request.GET.get("from"), end=request.GET.get("to"))
    except ValidationError as exc:
        return HttpResponseBadRequest("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()))
    statement = customer_statement(customer=customer, start=start, end=end)
    return pdf_response(
        statement_pdf(statement), filename=statement_filename(statement), download=wants_download(request)
    )
