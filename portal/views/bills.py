"""Bills (``/portal/bills/…``): the list, one bill with its lines, payments and our bank
account, its PDF, and the statement confirmation (对账确认).

Bills are read through ``visible_bills`` / ``bill_for``, the API's selectors: another
customer's number is 404. A confirmation or dispute goes through ``bill_confirm``, the
service the API's ``POST /bills/{number}/confirm/`` calls; finance sees it in the admin.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from billing.bills import disputes, lifecycle
from billing.bills.dunning import notices_for
from billing.bills.files import bill_pdf_response, notice_pdf_response
from billing.bills.selectors import bill_for, visible_bills
from billing.bills.wording import bill_line_words
from billing.metering.record_exports import bill_line_filename, bill_line_for, bill_line_records, records_csv_response
from billing.models import Bill
from billing.periods import business_day, next_period
from common.admin_forms import errors_onto_form
from common.errors import Conflict
from customers.access import MONEY_ROLES
from portal.access import portal_view

RECENT_MONTHS = 12


class BillFilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    older = forms.BooleanField(label=gettext_lazy("Include bills older than 12 months"), required=False)

    def __init__(self, data):
        super().__init__(data)
        self.fields["status"].choices = [("", _("All"))] + [
            choice for choice in Bill.Status.choices if choice[0] != Bill.Status.DRAFT
        ]


class DisputeReplyForm(forms.Form):
    """A message in the bill's open dispute (the API's ``POST …/dispute/messages/``)."""

    text = forms.CharField(
        label=gettext_lazy("Your reply"), max_length=disputes.MESSAGE_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


class ConfirmForm(forms.Form):
    """The API's ``confirmed`` as the page's two buttons: ``action`` = confirm or dispute."""

    action = forms.ChoiceField(
        choices=[("confirm", gettext_lazy("Confirm")), ("dispute", gettext_lazy("Dispute"))], widget=forms.HiddenInput
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Needed for a dispute: say what is wrong so finance can look into it."),
    )


@require_safe
@portal_view(MONEY_ROLES)
def bill_list(request):
    form = BillFilterForm(request.GET)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    today = business_day(timezone.now())
    bills = visible_bills(request.user).exclude(status=Bill.Status.DRAFT)
    if not data.get("older"):
        bills = bills.filter(period__gte=next_period(today.replace(day=1), -RECENT_MONTHS))
    if data.get("status"):
        bills = bills.filter(status=data["status"])
    rows = [{"bill": bill, "overdue": bill.is_overdue_on(today)} for bill in bills.order_by("-period", "pk")[:500]]
    return render(request, "portal/bills.html", {"form": form, "rows": rows})


def _detail(
    request, bill: Bill, confirm_form: ConfirmForm, *, reply_form: DisputeReplyForm | None = None, status: int = 200
):
    today = business_day(timezone.now())
    context = {
        "notices": notices_for(bill),
        "thread": disputes.dispute_thread_display(bill),
        "reply_form": reply_form or DisputeReplyForm(),
        "disputed": bill.confirmation == Bill.Confirmation.DISPUTED,
        "bill": bill,
        "rows": bill_line_words(bill.lines.all()),  # each line with its variant, units and unit prices in words
        "payments": bill.payments.order_by("received_on", "pk"),
        "overdue": bill.is_overdue_on(today),
        "seller": bill.seller,
        "confirm_form": confirm_form,
        "can_confirm": bill.status not in (Bill.Status.DRAFT, Bill.Status.VOID),
    }
    return render(request, "portal/bill.html", context, status=status)


@require_safe
@portal_view(MONEY_ROLES)
def bill_detail(request, number: str):
    return _detail(request, bill_for(request.user, number), ConfirmForm())


@require_safe
@portal_view(MONEY_ROLES)
def bill_pdf(request, number: str):
    return bill_pdf_response(request, number)


@require_POST
@portal_view(MONEY_ROLES)
def bill_confirm(request, number: str):
    bill = bill_for(request.user, number)
    form = ConfirmForm(request.POST)
    if form.is_valid():
        confirmed = form.cleaned_data["action"] == "confirm"
        try:
            lifecycle.bill_confirm(bill=bill, confirmed=confirmed, note=form.cleaned_data["note"], actor=request.user)
        except (ValidationError, Conflict) as exc:
            errors_onto_form(form, exc)
        else:
            messages.success(
                request,
                _("Thank you: the statement is confirmed.")
                if confirmed
                else _("Your dispute is sent to our finance team; they will contact you."),
            )
            return redirect("portal:bill", number=bill.number)
    return _detail(request, bill, form, status=400)


@require_POST
@portal_view(MONEY_ROLES)
def bill_dispute_reply(request, number: str):
    bill = bill_for(request.user, number)
    form = DisputeReplyForm(request.POST)
    if form.is_valid():
        try:
            disputes.dispute_reply(bill=bill, text=form.cleaned_data["text"], actor=request.user)
        except (ValidationError, Conflict) as exc:
            errors_onto_form(form, exc)
        else:
            messages.success(request, _("Your reply is sent to our finance team."))
            return redirect("portal:bill", number=bill.number)
    return _detail(request, bill, ConfirmForm(), reply_form=form, status=400)


@require_safe
@portal_view(MONEY_ROLES)
def bill_notice_pdf(request, number: str, notice: str):
    return notice_pdf_response(request, number, notice)


@require_safe
@portal_view(MONEY_ROLES)
def bill_line_records_csv(request, number: str, position: int):
    """The usage records a line carries, as the API's ``…/lines/{position}/records/`` file."""
    bill = bill_for(request.user, number)
    line = bill_line_for(bill, position)
    if line is None:
        raise Http404
    records = bill_line_records(bill=bill, line=line)
    return records_csv_response(customer=bill.customer, records=records, filename=bill_line_filename(bill, line))
