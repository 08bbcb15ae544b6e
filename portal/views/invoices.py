"""Invoices (``/portal/invoices/…``): the customer's VAT invoices and their PDFs, its
invoice requests, and its invoice titles (发票抬头).

Reads go through the API's selectors (``visible_invoices``, ``bill_for``), writes through
its services: ``invoice_request_create`` (as ``POST /invoice-requests/``) and
``invoice_title_save`` (as ``POST/PATCH /customers/{code}/invoice-titles/``, which checks
the USCC and keeps one default).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing.bills.selectors import bill_for, visible_bills
from billing.models import Bill
from common.admin_forms import errors_onto_form
from common.errors import Conflict
from customers import services as customer_services
from customers.access import MONEY_ROLES
from customers.models import InvoiceTitle, InvoiceType
from invoices import services
from invoices.files import invoice_pdf_response
from invoices.models import InvoiceRequest
from invoices.selectors import visible_invoices
from portal.access import portal_view


class InvoiceRequestForm(forms.Form):
    """The API's invoice request: ``bill`` (a number), ``invoice_type``, ``note``. The bill is
    offered from the customer's issued bills and looked up as the API does (``bill_for``:
    another customer's number is 404)."""

    bill = forms.CharField(label=gettext_lazy("Bill"), max_length=80)
    invoice_type = forms.ChoiceField(label=gettext_lazy("Invoice type"), choices=InvoiceType.choices)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        issued = visible_bills(user).exclude(status__in=[Bill.Status.DRAFT, Bill.Status.VOID]).order_by("-period")
        self.fields["bill"].widget = forms.Select(choices=[("", "—")] + [(b.number, b.number) for b in issued])


class InvoiceTitleForm(forms.ModelForm):
    """The fields of a 发票抬头. Only the form's own checks run here; the service checks the
    rest (USCC, pairs printed together, one default) and writes, so nothing is saved half."""

    class Meta:
        model = InvoiceTitle
        fields = [
            "name",
            "tax_id",
            "address",
            "phone",
            "bank_name",
            "bank_account",
            "email",
            "invoice_type",
            "is_default",
        ]

    def _post_clean(self):
        pass  # the model's checks run in invoice_title_save, beside the service's own


def _invoices_page(request, form: InvoiceRequestForm, *, status: int = 200):
    customer = request.portal.customer
    context = {
        "invoices": visible_invoices(request.user).order_by("-issued_on", "-pk")[:500],
        "requests": InvoiceRequest.objects.filter(customer=customer)
        .select_related("bill")
        .order_by("-created_at")[:50],
        "request_form": form,
    }
    return render(request, "portal/invoices.html", context, status=status)


@require_safe
@portal_view(MONEY_ROLES)
def invoice_list(request):
    initial = {
        "bill": request.GET.get("bill", ""),
        "invoice_type": request.portal.customer.invoice_titles.filter(is_default=True)
        .values_list("invoice_type", flat=True)
        .first()
        or InvoiceType.SPECIAL,
    }
    return _invoices_page(request, InvoiceRequestForm(initial=initial, user=request.user))


@require_safe
@portal_view(MONEY_ROLES)
def invoice_pdf(request, number: str):
    return invoice_pdf_response(request, number)


@require_POST
@portal_view(MONEY_ROLES)
def invoice_request(request):
    form = InvoiceRequestForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.invoice_request_create(
                bill=bill_for(request.user, data["bill"]),
                invoice_type=data["invoice_type"],
                note=data["note"],
                actor=request.user,
            )
        except Conflict as exc:
            form.add_error("bill", exc.message)  # the API's 409, beside the bill it names
            return _invoices_page(request, form, status=409)
        except ValidationError as exc:
            errors_onto_form(form, exc)
        else:
            messages.success(
                request,
                _("Your request for an invoice on %(bill)s is sent to our finance team.") % {"bill": data["bill"]},
            )
            return redirect("portal:invoices")
    return _invoices_page(request, form, status=400)


@require_safe
@portal_view(MONEY_ROLES)
def title_list(request):
    titles = request.portal.customer.invoice_titles.order_by("-is_default", "pk")
    return render(request, "portal/invoice_titles.html", {"titles": titles})


@require_http_methods(["GET", "POST"])
@portal_view(MONEY_ROLES)
def title_edit(request, pk: int | None = None):
    customer = request.portal.customer
    title = None if pk is None else get_object_or_404(InvoiceTitle, customer=customer, pk=pk)
    if request.method == "POST":
        form = InvoiceTitleForm(request.POST, instance=title)
        if form.is_valid():
            try:
                customer_services.invoice_title_save(customer=customer, title=title, **form.cleaned_data)
            except (ValidationError, Conflict) as exc:
                errors_onto_form(form, exc)
            else:
                messages.success(request, _("The invoice title is saved."))
                return redirect("portal:invoice-titles")
        return render(request, "portal/invoice_title_form.html", {"form": form, "title": title}, status=400)
    form = InvoiceTitleForm(instance=title, initial=_new_title_initial(customer) if title is None else {})
    return render(request, "portal/invoice_title_form.html", {"form": form, "title": title})


def _new_title_initial(customer) -> dict:
    """A new title starts from the customer's legal details; it becomes the default only if
    the customer has none yet (ticking the box moves the default to it)."""
    return {
        "name": customer.name,
        "tax_id": customer.tax_id,
        "is_default": not customer.invoice_titles.filter(is_default=True).exists(),
    }
