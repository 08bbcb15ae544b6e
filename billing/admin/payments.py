"""Admin: payments (recorded through the payment service) and credit entries."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from billing.models import (
    Bill,
    CreditEntry,
    Payment,
)
from common.admin_display import money_column
from common.admin_export import export_as_csv, export_as_xlsx
from common.admin_forms import ServiceModelForm, partial_form


class PaymentForm(ServiceModelForm):
    """Recording a bank transfer is the payment service's job; the form only collects it."""

    # Positive, as the payment service checks (its message, the same as the API's).
    amount_value = forms.DecimalField(label=_("amount (CNY)"), max_digits=14, decimal_places=2)
    service_fields = {"amount": "amount_value"}

    class Meta:
        model = Payment
        fields = ["bill", "received_on", "reference", "payer_name", "note"]

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        # The picker offers only bills that can take a payment (BillAdmin.autocomplete_queryset);
        # any other bill is answered by clean_bill, saying why.
        self.fields["bill"].queryset = Bill.objects.exclude(status=Bill.Status.VOID).select_related("customer")
        self.fields["bill"].required = True
        self.fields["bill"].error_messages["invalid_choice"] = _(
            "Choose an issued bill: this one does not exist or is void."
        )
        # The bank's 流水号 is what makes a transfer recorded twice recognisable.
        self.fields["reference"].required = True

    def clean_bill(self):
        from billing.bills.lifecycle import payment_refusal

        bill = self.cleaned_data["bill"]
        refusal = payment_refusal(bill)
        if refusal:
            raise ValidationError(refusal)
        return bill

    def perform(self, data: dict) -> Payment:
        from billing.bills.lifecycle import payment_record

        payment, created = payment_record(
            bill=data["bill"],
            amount=data["amount_value"],
            received_on=data["received_on"],
            reference=data.get("reference", ""),
            payer_name=data.get("payer_name", ""),
            note=data.get("note", ""),
            actor=self.actor,
        )
        if not created:  # the same transfer again: the service booked nothing
            raise ValidationError(
                {
                    "reference": _("This transfer is already recorded (%(payment)s); nothing new was booked.")
                    % {"payment": payment}
                }
            )
        return payment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "received_on",
        "customer",
        "bill",
        "method",
        "amount_cny",
        "applied_cny",
        "reference",
        "payer_name",
        "payer_mismatch",
    ]
    amount_cny = money_column("amount", Payment._meta.get_field("amount").verbose_name)
    applied_cny = money_column("applied", Payment._meta.get_field("applied").verbose_name)
    actions = [export_as_csv, export_as_xlsx]
    list_filter = ["method", "payer_mismatch", "received_on"]
    search_fields = ["reference", "payer_name", "customer__code", "bill__number"]
    date_hierarchy = "received_on"
    list_select_related = ["customer", "bill"]
    autocomplete_fields = ["bill"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = PaymentForm
            form = super().get_form(request, obj, **kwargs)
            return partial_form(form, actor=request.user)
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return super().get_fields(request, obj)
        return self.get_readonly_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The money fields' currency columns (CNY) are implied by the amounts shown; the
        # reference's and the request's deduplication keys are the service's, not the reader's.
        # Amounts as money_text writes them (django-money would write CN¥ in English).
        internal = {"id", "reference_key", "idempotency_key"}
        names = [f.name for f in Payment._meta.fields if not f.name.endswith("_currency") and f.name not in internal]
        return [f"{name}_cny" if name in ("amount", "applied") else name for name in names]

    def has_change_permission(self, request, obj=None):
        # A recorded payment is never edited (a wrong one is answered by a correcting entry).
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The form's service call has written the payment (PaymentForm.perform).
        if not change and obj.payer_mismatch:
            self.message_user(
                request, _("The payer name differs from the customer (三流一致); please review."), messages.WARNING
            )


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "customer", "amount_cny", "payment", "bill"]
    amount_cny = money_column("amount", _("amount"))
    list_filter = ["customer"]
    readonly_fields = ["customer", "amount", "payment", "bill", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False
