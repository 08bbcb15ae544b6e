"""Admin: the statement upload page (drag and drop, a preview of what would be read and
matched, then the import), the unmatched transfers with likely bills (one-click match or
ignore with a reason), the saved CSV column profiles and the remembered payer accounts."""

from __future__ import annotations

import re
import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from banking.matching import PayerIndex, suggestions_for
from banking.models import BankStatement, BankTransaction, CsvProfile, PayerAccount, StatementFormat, account_key
from banking.parsers import MAX_FILE_BYTES, OPTIONAL_ROLES, ROLES, StatementError
from banking.services import statement_import, transaction_ignore, transaction_match
from billing.models import Bill
from common.admin_display import money_text
from common.errors import DomainError, refusal_text
from common.integers import WholeNumberFormField
from customers.models import Customer

PENDING = "bank-statements/pending/{token}.bin"
TOKEN = re.compile(r"^[0-9a-f]{32}$")
COLUMN_LABELS = {
    "date": _("date column"),
    "amount": _("credit amount column"),
    "debit_amount": _("debit amount column"),
    "payer_name": _("payer name column"),
    "payer_account": _("payer account column"),
    "memo": _("memo column(s)"),
    "bank_reference": _("bank reference column"),
    "currency": _("currency column"),
}


class UploadForm(forms.Form):
    file = forms.FileField(label=_("statement file"), required=False)
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    file_name = forms.CharField(widget=forms.HiddenInput, required=False)
    format = forms.ChoiceField(label=_("format"), choices=StatementFormat.choices)
    profile = forms.ModelChoiceField(
        label=_("CSV column profile"),
        queryset=CsvProfile.objects.all(),
        required=False,
        help_text=_("CSV and XLSX: a bank's saved columns; the fields below override it."),
    )
    encoding = forms.ChoiceField(
        label=_("encoding"), choices=[("", _("detect")), *CsvProfile.Encoding.choices], required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for role in (*ROLES, *OPTIONAL_ROLES):
            self.fields[role] = forms.CharField(label=COLUMN_LABELS[role], max_length=200, required=False)

    def clean(self):
        data = super().clean()
        upload, token = data.get("file"), data.get("token") or ""
        if upload is None and not TOKEN.match(token):
            raise ValidationError({"file": _("Choose the statement file.")})
        if upload is not None and upload.size > MAX_FILE_BYTES:
            raise ValidationError({"file": _("The file is larger than 20 MB.")})
        columns, encoding = {}, data.get("encoding") or None
        if data.get("profile"):
            columns = {k: v for k, v in data["profile"].columns.items() if isinstance(v, str)}
            encoding = encoding or data["profile"].encoding
        data["columns"] = columns | {r: data[r] for r in (*ROLES, *OPTIONAL_ROLES) if data.get(r)}
        data["encoding_used"] = encoding
        return data


def _preview_rows(result) -> list[dict]:
    paid: dict[int, list] = {}
    for txn, payment in result.matched:
        paid.setdefault(id(txn), []).append(
            f"{payment.bill.number if payment.bill_id else '—'} {money_text(payment.amount)}"
        )
    rows = [
        {
            "line": t.line,
            "date": t.date,
            "amount": money_text(t.amount),
            "direction": t.get_direction_display(),
            "payer": " · ".join(x for x in (t.payer_name, t.payer_account) if x),
            "memo": t.memo,
            "reference": t.bank_reference,
            "outcome": _("pays %(bills)s") % {"bills": ", ".join(paid[id(t)])}
            if id(t) in paid
            else (t.reason or t.get_status_display()),
            "matched": id(t) in paid,
        }
        for t in result.transactions
    ]
    rows += [
        {
            "line": line.line,
            "date": line.date,
            "amount": money_text(line.amount),
            "direction": line.direction,
            "payer": " · ".join(x for x in (line.payer_name, line.payer_account) if x),
            "memo": line.memo,
            "reference": line.bank_reference,
            "outcome": _("seen before: not imported again"),
            "matched": False,
        }
        for line in result.duplicate_lines
    ]
    return sorted(rows, key=lambda r: r["line"])


def upload_view(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Import a bank statement"),
        "opts": BankStatement._meta,
        "max_mb": MAX_FILE_BYTES // (1024 * 1024),
    }
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data.get("file") is not None:
            content, file_name = data["file"].read(), data["file"].name
            token = uuid.uuid4().hex
            default_storage.save(PENDING.format(token=token), ContentFile(content))
        else:
            token, file_name = data["token"], data.get("file_name") or "statement"
            try:
                with default_storage.open(PENDING.format(token=token)) as stored:
                    content = stored.read()
            except FileNotFoundError:
                form.add_error("file", _("The previewed file is gone; choose it again."))
                return _upload_page(request, context, form)
        importing = request.POST.get("action") == "import"
        try:
            result = statement_import(
                file_name=file_name,
                content=content,
                format=data["format"],
                columns=data["columns"],
                encoding=data["encoding_used"],
                actor=request.user,
                preview=not importing,
            )
        except StatementError as exc:
            field = exc.field if exc.field in form.fields else None
            form.add_error(field, exc.message)
            default_storage.delete(PENDING.format(token=token))
            return _upload_page(request, context, form)
        if importing:
            default_storage.delete(PENDING.format(token=token))
            model_admin.message_user(
                request,
                _(
                    "Statement imported: %(lines)s lines, %(duplicates)s seen before, %(matched)s matched, "
                    "%(unmatched)s to match by hand."
                )
                % {
                    "lines": result.lines,
                    "duplicates": result.duplicates,
                    "matched": result.statement.matched,
                    "unmatched": len(result.unmatched),
                },
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:banking_banktransaction_unmatched"))
        confirm = UploadForm(
            initial={
                **{k: v for k, v in data.items() if k in form.fields and k != "file"},
                "token": token,
                "file_name": file_name,
            }
        )
        context |= {
            "preview": _preview_rows(result),
            "summary": {
                "lines": result.lines,
                "duplicates": result.duplicates,
                "matched": len({id(t) for t, _p in result.matched}),
                "unmatched": len(result.unmatched),
            },
            "file_name": file_name,
        }
        form = confirm
    return _upload_page(request, context, form)


def _upload_page(request, context: dict, form: UploadForm) -> TemplateResponse:
    columns = [form[role] for role in (*ROLES, *OPTIONAL_ROLES)]
    return TemplateResponse(request, "admin/banking/upload.html", {**context, "form": form, "columns": columns})


class MatchForm(forms.Form):
    transaction = WholeNumberFormField()
    bills = forms.CharField(required=False, max_length=800)
    customer = forms.CharField(required=False, max_length=32)


class IgnoreForm(forms.Form):
    transaction = WholeNumberFormField()
    reason = forms.CharField(max_length=500)


def unmatched_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    if request.method == "POST":
        if not model_admin.has_change_permission(request):
            raise PermissionDenied
        _unmatched_post(model_admin, request)
        return HttpResponseRedirect(request.get_full_path())
    index = PayerIndex()
    credits = BankTransaction.objects.filter(
        status=BankTransaction.Status.UNMATCHED, direction=BankTransaction.Direction.CREDIT
    ).order_by("date", "pk")
    rows = [
        {
            "txn": txn,
            "amount": money_text(txn.amount),
            "suggestions": [
                {
                    "bill": s.bill,
                    "balance": money_text(s.bill.balance),
                    "why": "; ".join(str(w) for w in s.why),
                }
                for s in suggestions_for(txn, index=index, limit=3)
            ],
        }
        for txn in credits[:200]
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Unmatched transfers"),
        "opts": BankTransaction._meta,
        "rows": rows,
        "count": credits.count(),
        "upload_url": reverse("admin:banking_bankstatement_add"),
    }
    return TemplateResponse(request, "admin/banking/unmatched.html", context)


def _unmatched_post(model_admin, request) -> None:
    action = request.POST.get("action")
    form = (MatchForm if action == "match" else IgnoreForm)(request.POST)
    if not form.is_valid():
        message = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        model_admin.message_user(request, message, messages.ERROR)
        return
    txn = BankTransaction.objects.filter(pk=form.cleaned_data["transaction"]).first()
    if txn is None:
        model_admin.message_user(request, _("No such transaction."), messages.ERROR)
        return
    try:
        if action == "match":
            transaction_match(txn=txn, actor=request.user, **_match_targets(form.cleaned_data))
            model_admin.message_user(request, _("Matched: %(txn)s") % {"txn": txn}, messages.SUCCESS)
        else:
            transaction_ignore(txn=txn, reason=form.cleaned_data["reason"], actor=request.user)
            model_admin.message_user(request, _("Ignored: %(txn)s") % {"txn": txn}, messages.SUCCESS)
    except (ValidationError, DomainError) as exc:
        model_admin.message_user(request, refusal_text(exc), messages.ERROR)


def _match_targets(data: dict) -> dict:
    numbers = [n for n in re.split(r"[\s,，;；]+", data.get("bills") or "") if n]
    code = (data.get("customer") or "").strip().upper()
    if bool(numbers) == bool(code):
        raise ValidationError(_("Give the bills or the customer."))
    if code:
        customer = Customer.objects.filter(code=code).first()
        if customer is None:
            raise ValidationError(_("No customer with this code."))
        return {"customer": customer}
    found = {b.number: b for b in Bill.objects.filter(number__in=numbers).select_related("customer")}
    missing = [n for n in numbers if n not in found]
    if missing:
        raise ValidationError(_("No bill %(number)s.") % {"number": missing[0]})
    return {"bills": [found[n] for n in numbers]}


@admin.register(BankStatement)
class BankStatementAdmin(admin.ModelAdmin):
    list_display = ["uploaded_at", "file_name", "format", "account", "lines", "duplicates", "matched", "uploaded_by"]
    list_filter = ["format"]
    date_hierarchy = "uploaded_at"
    readonly_fields = [f.name for f in BankStatement._meta.fields if f.name != "id"]

    def get_urls(self):
        upload = self.admin_site.admin_view(lambda request: upload_view(self, request))
        return [path("upload/", upload, name="banking_bankstatement_upload"), *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        return upload_view(self, request)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BankTransaction)
class BankTransactionAdmin(admin.ModelAdmin):
    list_display = ["date", "amount", "direction", "payer_name", "payer_account", "memo", "status", "bills", "reason"]
    list_filter = ["status", "direction", "date"]
    search_fields = ["payer_name", "payer_account", "memo", "bank_reference"]
    date_hierarchy = "date"
    list_select_related = ["statement"]
    readonly_fields = [f.name for f in BankTransaction._meta.fields if f.name not in ("id", "dedupe_key")] + ["bills"]
    exclude = ["payments"]

    def get_urls(self):
        unmatched = self.admin_site.admin_view(lambda request: unmatched_view(self, request))
        return [path("unmatched/", unmatched, name="banking_banktransaction_unmatched"), *super().get_urls()]

    @admin.display(description=_("bills paid"))
    def bills(self, obj):
        parts = [f"{p.bill.number if p.bill_id else _('credit')} {money_text(p.amount)}" for p in obj.payments.all()]
        return ", ".join(parts) or "—"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("payments__bill")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "unmatched_url": reverse("admin:banking_banktransaction_unmatched")}
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CsvProfile)
class CsvProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "encoding", "columns_text"]
    search_fields = ["name"]

    @admin.display(description=_("columns"))
    def columns_text(self, obj):
        return format_html("<code>{}</code>", "; ".join(f"{k}={v}" for k, v in obj.columns.items()))

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["columns"].validators.append(_columns_valid)
        return form


def _columns_valid(value) -> None:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValidationError(_("Give an object of role → column header."))
    unknown = set(value) - {*ROLES, *OPTIONAL_ROLES}
    if unknown:
        raise ValidationError(_("Unknown role: %(role)s.") % {"role": sorted(unknown)[0]})
    if not value.get("date") or not value.get("amount"):
        raise ValidationError(_("Name at least the date and the amount columns."))


class PayerAccountForm(forms.ModelForm):
    class Meta:
        model = PayerAccount
        fields = ["account", "payer_name", "customer"]

    def clean_account(self):
        account = self.cleaned_data["account"]
        if not account_key(account):
            raise ValidationError(_("Give the payer's account number."))
        taken = PayerAccount.objects.filter(account_key=account_key(account)).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("This account is already remembered (%(payer)s).") % {"payer": taken.first()})
        return account


@admin.register(PayerAccount)
class PayerAccountAdmin(admin.ModelAdmin):
    form = PayerAccountForm
    list_display = ["account", "payer_name", "customer", "created_by", "created_at"]
    search_fields = ["account", "payer_name", "customer__code", "customer__name"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
