"""/staff/statement/ and /staff/bills/{number}/dispute/ — finance's side of collections: a
customer's statement of account (对账函) for any range, and a bill's dispute with its thread,
its dunning notices, the reply, the resolution and a credit on the next bill. Thin views
over billing.bills (statement, disputes, dunning), the services the API calls."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.bills import disputes
from billing.bills.dunning import notices_for
from billing.bills.selectors import bill_for
from billing.bills.statement import customer_statement, statement_display, statement_range
from billing.models import Bill
from common.admin_display import money_text
from common.admin_forms import errors_onto_form
from common.errors import Conflict
from customers.models import Customer
from workspace.access import finance_view


@finance_view
def statement(request):
    customers = Customer.objects.order_by("code")
    code = (request.GET.get("customer") or "").upper()
    customer = customers.filter(code=code).first() if code else None
    errors: dict[str, list[str]] = {}
    if code and customer is None:
        errors["customer"] = [_("No customer with this code.")]
    try:
        start, end = statement_range(start=request.GET.get("from"), end=request.GET.get("to"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
        start, end = statement_range(start=None, end=None)
    context = {
        "customers": customers,
        "customer": customer,
        "errors": errors,
        "value_from": request.GET.get("from") or start.isoformat(),
        "value_to": request.GET.get("to") or end.isoformat(),
        "query": urlencode({"from": start.isoformat(), "to": end.isoformat()}),
    }
    if customer is not None and not errors:
        context["sv"] = statement_display(customer_statement(customer=customer, start=start, end=end))
    return render(request, "workspace/statement.html", context, status=400 if errors else 200)


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Reply to the customer"),
        max_length=disputes.MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("How it was resolved"),
        max_length=disputes.MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("The customer reads it in the portal; the bill's reminders resume."),
    )


class CreditForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("Credit (CNY, before VAT)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=disputes.REASON_MAX,
        help_text=gettext_lazy("Printed on the credit line of the customer's next bill; this bill never changes."),
    )


FORMS = {"reply": ReplyForm, "resolve": ResolveForm, "credit": CreditForm}


@finance_view
def dispute(request, number: str):
    bill = bill_for(request.user, number)
    bound = {name: form_class(prefix=name) for name, form_class in FORMS.items()}
    status = 200
    action = request.POST.get("action") if request.method == "POST" else None
    if action in FORMS:
        form = bound[action] = FORMS[action](request.POST, prefix=action)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "reply":
                    disputes.dispute_reply(bill=bill, text=data["text"], actor=request.user)
                    done = _("Your reply is in the thread.")
                elif action == "resolve":
                    disputes.dispute_resolve(bill=bill, note=data["note"], actor=request.user)
                    done = _("The dispute is resolved; the bill's reminders resume.")
                else:
                    disputes.bill_credit_grant(
                        bill=bill, amount=data["amount"], reason=data["reason"], actor=request.user
                    )
                    done = _("A credit of %(amount)s goes on the customer's next bill.") % {
                        "amount": money_text(data["amount"])
                    }
            except (ValidationError, Conflict) as exc:
                errors_onto_form(form, exc)
            else:
                messages.success(request, done)
                return redirect("workspace:dispute", number=bill.number)
        status = 400
    elif request.method == "POST":
        status = 400
    context = {
        "bill": bill,
        "disputed": bill.confirmation == Bill.Confirmation.DISPUTED,
        "thread": disputes.dispute_thread_display(bill),
        "notices": notices_for(bill),
        "credits": [
            {"credit": c, "amount": money_text(c.amount), "remaining": money_text(disputes.credit_remaining(c))}
            for c in bill.credits_granted.all()
        ],
        "forms": bound,
    }
    return render(request, "workspace/dispute.html", context, status=status)
