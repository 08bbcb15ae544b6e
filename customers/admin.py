"""Admin for customers, contracts, projects, keys and portal users (thin: writes call services)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from common.admin_export import export_as_csv, export_as_xlsx
from customers import services
from customers.audit import audit_record, changes
from customers.models import ApiKey, ApiToken, AuditEvent, Contract, Customer, InvoiceTitle, PortalUser, Project
from customers.validators import check_tax_id


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "code",
            "name",
            "is_active",
            "tax_id",
            "tax_id_override",
            "address",
            "phone",
            "bank_name",
            "bank_account",
            "email",
            "billing_cc",
        ]

    def clean(self):
        data = super().clean()
        result = check_tax_id(data.get("tax_id", ""))
        if not result.valid and not data.get("tax_id_override"):
            self.add_error(
                "tax_id", result.message + " " + str(_("Tick “tax id check overridden” to accept it anyway."))
            )
        elif result.valid:
            data["tax_id"] = result.normalized
        return data


class ProjectInline(admin.TabularInline):
    model = Project
    extra = 0
    fields = ["code", "name", "is_active"]


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = ["key_id", "name", "project", "secret_hint", "created_at", "revoked_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # keys are created from the API key page so the secret can be shown once


class ContractInline(admin.TabularInline):
    model = Contract
    extra = 0
    fields = ["number", "status", "starts_on", "ends_on", "price_currency", "discount_percent"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class InvoiceTitleInline(admin.StackedInline):
    model = InvoiceTitle
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerForm
    list_display = ["code", "name", "tax_id", "email", "is_active", "created_at"]
    actions = [export_as_csv, export_as_xlsx]
    list_filter = ["is_active", "tax_id_override", "created_at"]
    search_fields = ["code", "name", "tax_id", "email"]
    date_hierarchy = "created_at"
    inlines = [ContractInline, ProjectInline, ApiKeyInline, InvoiceTitleInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "is_active"]}),
        (_("Tax and bank"), {"fields": ["tax_id", "tax_id_override", "address", "phone", "bank_name", "bank_account"]}),
        (_("Billing contacts"), {"fields": ["email", "billing_cc"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj else []

    def save_model(self, request, obj, form, change):
        if check_tax_id(obj.tax_id).valid:
            obj.tax_id_override = False  # nothing to override
        if "tax_id_override" in form.changed_data or not obj.tax_id_override:
            obj.tax_id_override_by = request.user if obj.tax_id_override else None
        super().save_model(request, obj, form, change)
        if not change and not obj.invoice_titles.exists():
            services.invoice_title_default_create(customer=obj)


class ContractForm(forms.ModelForm):
    class Meta:
        model = Contract
        fields = [
            "customer",
            "number",
            "status",
            "starts_on",
            "ends_on",
            "signed_on",
            "payment_terms_days",
            "price_currency",
            "discount_percent",
            "fixed_exchange_rate",
            "minimum_monthly_commitment",
            "vat_rate",
            "invoice_type",
            "invoice_timing",
            "requires_confirmation",
            "bill_per_project",
            "notes",
        ]

    def clean(self):
        data = super().clean()
        customer, starts_on, ends_on = data.get("customer"), data.get("starts_on"), data.get("ends_on")
        if customer and starts_on and data.get("status") == Contract.Status.ACTIVE:
            try:
                services.contract_overlap_check(customer, starts_on, ends_on, exclude_pk=self.instance.pk)
            except ValidationError as exc:
                self.add_error(None, exc)
        return data


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    form = ContractForm
    list_display = [
        "number",
        "customer",
        "status",
        "starts_on",
        "ends_on",
        "price_currency",
        "discount_percent",
        "minimum_monthly_commitment",
        "invoice_type",
        "bill_per_project",
    ]
    actions = [export_as_csv, export_as_xlsx]
    list_filter = ["status", "price_currency", "invoice_type", "invoice_timing", "bill_per_project"]
    search_fields = ["number", "customer__code", "customer__name"]
    date_hierarchy = "starts_on"
    autocomplete_fields = ["customer"]
    list_select_related = ["customer"]

    def save_model(self, request, obj, form, change):
        # The form has validated (overlap, dates); the audit trail records what changed.
        before = services.contract_terms(Contract.objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)
        if change:
            services.contract_changed_record(contract=obj, before=before, by=request.user)
        else:
            audit_record(
                AuditEvent.Action.CONTRACT_CREATED, obj, request.user, changes=changes({}, services.contract_terms(obj))
            )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail cannot be edited, added to or pruned from the admin."""

    list_display = ["at", "action", "target", "actor", "what_changed"]
    list_filter = ["action", "at"]
    search_fields = ["target", "actor__username"]
    date_hierarchy = "at"
    list_select_related = ["actor"]
    actions = [export_as_csv, export_as_xlsx]

    @admin.display(description=_("what changed"))
    def what_changed(self, obj: AuditEvent) -> str:
        return "; ".join(f"{name}: {old} → {new}" for name, (old, new) in obj.facts.get("changes", {}).items())

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "customer", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "customer__code", "customer__name"]
    autocomplete_fields = ["customer"]
    list_select_related = ["customer"]


class ApiKeyChangeForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["external_id"]

    def clean_external_id(self):
        return services.api_key_external_id_clean(self.cleaned_data.get("external_id"))


class ApiKeyCreateForm(ApiKeyChangeForm):
    class Meta:
        model = ApiKey
        fields = ["project", "name", "external_id"]

    def clean_project(self):
        # Checked here too so the admin shows a form error instead of "added successfully".
        project = self.cleaned_data["project"]
        if not project.is_active:
            raise ValidationError(_("The project is archived; keys cannot be added to it."))
        return project


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["key_id", "name", "external_id", "customer", "project", "status", "created_at", "revoked_at"]
    list_filter = [
        ("revoked_at", admin.EmptyFieldListFilter),
        ("external_id", admin.EmptyFieldListFilter),
        "created_at",
    ]
    search_fields = ["key_id", "name", "external_id", "customer__code", "project__code"]
    list_select_related = ["customer", "project"]
    actions = [export_as_csv, export_as_xlsx, "revoke_selected"]
    autocomplete_fields = ["project"]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = ApiKeyCreateForm if obj is None else ApiKeyChangeForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["project", "name", "external_id"]
        return [
            "key_id",
            "name",
            "external_id",
            "customer",
            "project",
            "secret_hint",
            "created_at",
            "created_by",
            "revoked_at",
            "revoked_by",
        ]

    def get_readonly_fields(self, request, obj=None):
        # Only the gateway mapping is editable on a key's page (revoke it from the list).
        return [] if obj is None else [f for f in self.get_fields(request, obj) if f != "external_id"]

    @admin.display(description=_("status"))
    def status(self, obj: ApiKey) -> str:
        return _("active") if obj.is_active else _("revoked")

    def save_model(self, request, obj, form, change):
        if change:
            if "external_id" in form.changed_data:
                services.api_key_set_external_id(key=obj, external_id=obj.external_id, by=request.user)
            return
        try:
            key, secret = services.api_key_create(
                project=obj.project, name=obj.name, external_id=obj.external_id, by=request.user
            )
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            return
        # The admin logs and links the object it passed in: make it the created key.
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(key, field.attname))
        obj._state.adding = False
        # The one and only time the secret is shown.
        self.message_user(
            request,
            format_html(
                _("Key {} created. Copy the secret now — it will not be shown again: <code>{}</code>"),
                key.key_id,
                secret,
            ),
            messages.WARNING,
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # usage refers to keys; revoke instead

    @admin.action(description=_("Revoke selected keys"))
    def revoke_selected(self, request, queryset):
        for key in queryset:
            services.api_key_revoke(key=key, by=request.user)
            self.message_user(request, _("%(key)s revoked.") % {"key": key.key_id}, messages.SUCCESS)


@admin.register(PortalUser)
class PortalUserAdmin(admin.ModelAdmin):
    list_display = ["user", "customer", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "customer__code", "customer__name"]
    autocomplete_fields = ["customer", "user"]
    list_select_related = ["user", "customer"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["token_id", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["token_id", "user__username", "name"]
    readonly_fields = ["token_id", "user", "name", "created_at", "last_used_at"]
    fields = ["token_id", "user", "name", "created_at", "last_used_at", "revoked_at"]

    def has_add_permission(self, request) -> bool:
        return False  # tokens come from `manage.py create_api_token`, which shows them once

    def get_readonly_fields(self, request, obj=None):
        # Revocation is final: once revoked, nothing of the token can be changed (no revival).
        if obj is not None and obj.revoked_at is not None:
            return self.fields
        return self.readonly_fields
