"""Statement of account (``/portal/statement/``, 对账函): the customer's bills and payments for
a date range with opening and closing balances, and its PDF — the API's
``GET /customers/{code}/statement/`` for the signed-in customer (admin and finance roles)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from billing.bills.files import statement_pdf_response
from billing.bills.statement import customer_statement, statement_display, statement_range
from customers.access import MONEY_ROLES
from portal.access import portal_view


@require_safe
@portal_view(MONEY_ROLES)
def statement(request):
    errors: dict[str, list[str]] = {}
    try:
        start, end = statement_range(start=request.GET.get("from"), end=request.GET.get("to"))
    except ValidationError as exc:
        errors = exc.message_dict
        start, end = statement_range(start=None, end=None)
    result = customer_statement(customer=request.portal.customer, start=start, end=end)
    context = {
        "sv": statement_display(result),
        "errors": errors,
        "value_from": request.GET.get("from", start.isoformat()) if errors else start.isoformat(),
        "value_to": request.GET.get("to", end.isoformat()) if errors else end.isoformat(),
        "query": urlencode({"from": start.isoformat(), "to": end.isoformat()}),
    }
    return render(request, "portal/statement.html", context, status=400 if errors else 200)


@require_safe
@portal_view(MONEY_ROLES)
def statement_pdf(request):
    return statement_pdf_response(request, request.portal.customer.code)
