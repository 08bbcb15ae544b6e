"""The alerts feed (``/portal/alerts/``): the customer's alerts as GET /api/v1/alerts/ lists
them (one selector, one FilterSet), newest first, each told in the reader's language from its facts."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from billing.api.filters import AlertFilter
from billing.budgets.feed import alert_summary, alerts_feed
from common.integers import int_param
from customers.access import READ_USAGE_ROLES
from portal.access import portal_view

PAGE_SIZE = 20


class PortalAlertFilter(AlertFilter):
    """The API's filters and their errors, labelled for the page; the customer is the reader's."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.filters["customer"]
        self.filters["kind"].label = gettext_lazy("Kind")
        self.filters["kind"].extra["empty_label"] = gettext_lazy("All kinds")
        self.filters["period"].label = gettext_lazy("Month")
        self.filters["period"].extra["widget"] = forms.TextInput(attrs={"placeholder": "YYYY-MM"})


@portal_view(READ_USAGE_ROLES)
def alerts(request):
    filterset = PortalAlertFilter(
        request.GET, queryset=alerts_feed(customer_ids=[request.portal.customer_id]), request=request
    )
    page = None
    if filterset.is_valid():
        number = int_param(request.GET.get("page"), name="page", default=1, minimum=1)
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(number)
        for alert in page:
            alert.summary = alert_summary(alert)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": filterset.form, "page": page, "query": query.urlencode()}
    return render(request, "portal/alerts.html", context, status=200 if page is not None else 400)
