"""The alerts feed (``/portal/alerts/``): the customer's alerts as GET /api/v1/alerts/ lists
them (one selector), newest first, each told in the reader's language from its facts."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from billing.alerts import alert_summary, alerts_feed
from billing.models import Alert
from common.admin_forms import errors_onto_form
from customers.access import READ_USAGE_ROLES
from portal.access import portal_view

PAGE_SIZE = 20


class AlertFilter(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)
    period = forms.CharField(
        label=gettext_lazy("Month"), required=False, widget=forms.TextInput(attrs={"placeholder": "YYYY-MM"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", gettext_lazy("All kinds")), *Alert.Kind.choices]


@portal_view(READ_USAGE_ROLES)
def alerts(request):
    form = AlertFilter(request.GET)
    page = None
    if form.is_valid():
        try:
            feed = alerts_feed(customer_ids=[request.portal.customer_id], **form.cleaned_data)
        except ValidationError as exc:
            errors_onto_form(form, exc)
        else:
            page = Paginator(feed, PAGE_SIZE).get_page(request.GET.get("page"))
            for alert in page:
                alert.summary = alert_summary(alert)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "portal/alerts.html", {"form": form, "page": page, "query": query.urlencode()})
