"""Writes for customers, contracts, projects, keys, portal users and API tokens.

Each service is keyword-only, runs in one transaction and raises
``django.core.exceptions.ValidationError`` keyed by field name for bad input; the API
turns that into a 400 naming the field, the admin into form errors.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.tasks import enqueue_on_commit
from customers.audit import audit_record, changes
from customers.models import (
    ApiKey,
    ApiToken,
    AuditEvent,
    Contract,
    Customer,
    InvoiceTitle,
    PortalUser,
    Project,
    secret_digest,
)
from customers.selectors import contracts_overlapping_active
from customers.validators import check_tax_id

User = get_user_model()

FINANCE_GROUP = "finance"
PRESALES_GROUP = "presales"
GATEWAY_GROUP = "gateway"

CUSTOMER_FIELDS = ("name", "tax_id", "address", "phone", "bank_name", "bank_account", "email", "billing_cc")


def _clean_tax_id(value: str, *, override: bool, field: str = "tax_id") -> str:
    result = check_tax_id(value)
    if not result.valid and not override:
        raise ValidationError({field: [result.message]})
    return result.normalized


def _full_clean(obj, *, exclude: list[str] | None = None) -> None:
    obj.full_clean(exclude=exclude, validate_unique=True, validate_constraints=False)


@transaction.atomic
def customer_create(
    *, code: str, name: str, tax_id: str = "", tax_id_override: bool = False, by=None, **fields: Any
) -> Customer:
    code = code.strip().upper()
    if Customer.objects.filter(code=code).exists():
        raise ValidationError({"code": [_("A customer with the code %(code)s already exists.") % {"code": code}]})
    customer = Customer(
        code=code,
        name=name.strip(),
        tax_id=_clean_tax_id(tax_id, override=tax_id_override),
        tax_id_override=tax_id_override and not check_tax_id(tax_id).valid,
        tax_id_override_by=by if tax_id_override else None,
        **{k: v for k, v in fields.items() if k in CUSTOMER_FIELDS},
    )
    _full_clean(customer)
    customer.save()
    invoice_title_default_create(customer=customer)
    return customer


def invoice_title_default_create(*, customer: Customer) -> InvoiceTitle:
    """The customer's default 发票抬头, copied from its legal details (editable later)."""
    return InvoiceTitle.objects.create(
        customer=customer,
        name=customer.name,
        tax_id=customer.tax_id,
        tax_id_override=customer.tax_id_override,
        address=customer.address,
        phone=customer.phone,
        bank_name=customer.bank_name,
        bank_account=customer.bank_account,
        email=customer.email,
        is_default=True,
    )


@transaction.atomic
def customer_update(*, customer: Customer, by=None, tax_id_override: bool | None = None, **fields: Any) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    for key, value in fields.items():
        if key in CUSTOMER_FIELDS:
            setattr(customer, key, value)
    if tax_id_override is not None:
        customer.tax_id_override = tax_id_override
        customer.tax_id_override_by = by if tax_id_override else None
    if "tax_id" in fields or tax_id_override is not None:
        customer.tax_id = _clean_tax_id(customer.tax_id, override=customer.tax_id_override)
    _full_clean(customer)
    customer.save()
    return customer


def contract_overlap_check(
    customer: Customer,
    starts_on: date,
    ends_on: date | None,
    *,
    exclude_pk: int | None = None,
    field: str = "starts_on",
) -> None:
    """Refuse dates that overlap an active contract of ``customer`` (two active contracts never
    cover one day): the one check of the API, the admin's contract form and a presales
    acceptance, raising the same message on ``field``."""
    clash = contracts_overlapping_active(customer, starts_on, ends_on, exclude_pk=exclude_pk).first()
    if clash is not None:
        raise ValidationError(
            {
                field: [
                    _("These dates overlap the active contract %(number)s (%(start)s – %(end)s).")
                    % {"number": clash.number, "start": clash.starts_on, "end": clash.ends_on or "…"}
                ]
            }
        )


@transaction.atomic
def contract_create(
    *, customer: Customer, number: str, starts_on: date, ends_on: date | None = None, by=None, **terms: Any
) -> Contract:
    # Lock the customer so two concurrent creations cannot both pass the overlap check.
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    number = number.strip()
    if Contract.objects.filter(number=number).exists():
        raise ValidationError(
            {"number": [_("A contract with the number %(number)s already exists.") % {"number": number}]}
        )
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": [_("The contract cannot end before it starts.")]})
    if terms.get("minimum_monthly_commitment") is None:
        terms.pop("minimum_monthly_commitment", None)
    if terms.get("vat_rate") is None:
        terms.pop("vat_rate", None)
    contract = Contract(customer=customer, number=number, starts_on=starts_on, ends_on=ends_on, **terms)
    _full_clean(contract, exclude=["customer"])
    if contract.status == Contract.Status.ACTIVE:
        contract_overlap_check(customer, starts_on, ends_on)
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError as exc:
        if "contract_active_no_overlap" in str(exc):
            raise ValidationError({"starts_on": [_("These dates overlap another active contract.")]}) from exc
        raise
    audit_record(AuditEvent.Action.CONTRACT_CREATED, contract, by, changes=changes({}, contract_terms(contract)))
    return contract


# The terms of a contract that decide what a customer pays (recorded when they change).
MONEY_TERMS = (
    "status",
    "starts_on",
    "ends_on",
    "price_currency",
    "discount_percent",
    "fixed_exchange_rate",
    "minimum_monthly_commitment",
    "vat_rate",
    "payment_terms_days",
    "invoice_type",
    "bill_per_project",
    "monthly_service_fee",
    "credit_limit",
    "suspend_after_overdue_days",
)


def contract_terms(contract: Contract) -> dict[str, Any]:
    return {name: getattr(contract, name) for name in MONEY_TERMS if hasattr(contract, name)}


def contract_changed_record(*, contract: Contract, before: dict[str, Any], by=None) -> None:
    """After a contract was changed (the admin's form): what of its money terms changed."""
    changed = changes(before, contract_terms(contract))
    if changed:
        audit_record(AuditEvent.Action.CONTRACT_CHANGED, contract, by, changes=changed)


@transaction.atomic
def contract_set_status(*, contract: Contract, status: str) -> Contract:
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if status == Contract.Status.ACTIVE and contract.status != status:
        contract_overlap_check(
            contract.customer, contract.starts_on, contract.ends_on, exclude_pk=contract.pk, field="status"
        )
    contract.status = status
    contract.save(update_fields=["status", "updated_at"])
    return contract


@transaction.atomic
def project_create(*, customer: Customer, code: str, name: str) -> Project:
    code = code.strip()
    if Project.objects.filter(customer=customer, code=code).exists():
        raise ValidationError(
            {"code": [_("This customer already has a project with the code %(code)s.") % {"code": code}]}
        )
    project = Project(customer=customer, code=code, name=name.strip())
    _full_clean(project, exclude=["customer"])
    project.save()
    return project


def _new_key_id() -> str:
    return "ak_" + secrets.token_hex(10)


@transaction.atomic
def api_key_external_id_clean(value: str | None) -> str | None:
    """An external id as stored: stripped, None when empty; a clear error otherwise."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > 128:
        raise ValidationError({"external_id": [_("At most 128 characters.")]})
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ValidationError({"external_id": [_("Must not contain spaces or control characters.")]})
    return value


def api_key_create(*, project: Project, name: str, external_id: str | None = None, by=None) -> tuple[ApiKey, str]:
    """Create a key; returns it with its secret, which is never available again."""
    if not project.is_active:
        raise ValidationError({"project": [_("The project is archived; keys cannot be added to it.")]})
    secret = "sk_" + secrets.token_urlsafe(32)
    key = ApiKey(
        customer_id=project.customer_id,
        project=project,
        name=name.strip(),
        key_id=_new_key_id(),
        secret_digest=secret_digest(secret),
        secret_hint=secret[-4:],
        external_id=api_key_external_id_clean(external_id),
        created_by=by if getattr(by, "pk", None) else None,
    )
    _full_clean(key, exclude=["customer", "project"])
    try:
        with transaction.atomic():
            key.save()
    except IntegrityError as exc:  # a concurrent key took the same external id
        raise ValidationError({"external_id": [_("Another API key already has this external id.")]}) from exc
    return key, secret


@transaction.atomic
def api_key_set_external_id(*, key: ApiKey, external_id: str | None, by=None) -> ApiKey:
    """Map a key to the gateway's own id for it (None unmaps); audited, as it decides whose
    bill a gateway's usage lands on."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    value = api_key_external_id_clean(external_id)
    if value == key.external_id:
        return key
    if value is not None and ApiKey.objects.filter(external_id=value).exclude(pk=key.pk).exists():
        raise ValidationError({"external_id": [_("Another API key already has this external id.")]})
    before = key.external_id
    key.external_id = value
    try:
        with transaction.atomic():
            key.save(update_fields=["external_id"])
    except IntegrityError as exc:
        raise ValidationError({"external_id": [_("Another API key already has this external id.")]}) from exc
    audit_record(AuditEvent.Action.API_KEY_MAPPED, key, by, changes={"external_id": [before, value]})
    return key


@transaction.atomic
def api_key_revoke(*, key: ApiKey, by=None) -> ApiKey:
    """Revoke a key. Revoking twice keeps the first time stamp: a revoked key stays revoked."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.revoked_by = by if getattr(by, "pk", None) else None
        key.save(update_fields=["revoked_at", "revoked_by"])
    return key


def api_key_authenticate(*, key_id: str, secret: str) -> ApiKey | None:
    """The active key for (key_id, secret), or None. Constant-time secret comparison."""
    key = ApiKey.objects.filter(key_id=key_id).select_related("customer", "project").first()
    if key is None:
        secret_digest(secret)  # spend the same time whether or not the key exists
        return None
    if not key.check_secret(secret) or key.revoked_at is not None:
        return None
    return key


@transaction.atomic
def portal_user_create(*, customer: Customer, username: str, email: str, password: str | None, role: str) -> PortalUser:
    """A portal user. Without a password the login has none yet (an invitation: the user
    chooses it through the link portal_user_invite mails)."""
    from django.contrib.auth.password_validation import validate_password

    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": [_("The username %(username)s is taken.") % {"username": username}]})
    _check_role(role)
    user = User(username=username, email=email)
    if password is None:
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return PortalUser.objects.create(user=user, customer=customer, role=role)


def _check_role(role: str) -> None:
    if role not in PortalUser.Role.values:
        raise ValidationError(
            {"role": [_("Role must be one of: %(roles)s.") % {"roles": ", ".join(PortalUser.Role.values)}]}
        )


def invitation_kwargs(user) -> dict[str, str]:
    """The ``uidb64`` and ``token`` of the link where an invited ``user`` chooses a password:
    Django's password-reset token, so the link stops working once a password is set (or
    after PASSWORD_RESET_TIMEOUT). The portal owns the page; callers reverse its URL."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    return {"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)}


def _invitation_username(customer: Customer, email: str) -> str:
    """The invitee's username: the address, or — when some login outside this customer
    already uses it — the address led by the customer's code (then numbered), so that the
    invitation goes through the same way whoever else has a login."""
    candidates = [email, f"{customer.code.lower()}.{email}"]
    candidates += [f"{customer.code.lower()}{n}.{email}" for n in range(2, 100)]
    for candidate in candidates:
        if not User.objects.filter(username__iexact=candidate).exists():
            return candidate
    raise ValidationError({"email": [_("This address cannot be invited; ask us for help.")]})


@transaction.atomic
def portal_user_invite(
    *, customer: Customer, email: str, role: str, link_for: Callable[[User], str], username: str | None = None
) -> PortalUser:
    """Invite ``email`` to the customer's portal: a user without a password and, once
    committed, an e-mail (sent by a worker, customers.tasks.mail_send) in the inviter's
    language with the link to the page where they choose one. ``link_for(user)``: that
    page's absolute URL (the portal's, built from invitation_kwargs).

    Whether the address has a login elsewhere — another customer's, our staff's — is never
    told: only this customer's own users are refused ("already a user of this portal");
    otherwise the invitee gets a login of their own (username: the address, or the address
    led by the customer's code when it is taken). At most LIMITS["invitation-customer"]
    invitations per customer an hour."""
    from django.core.validators import validate_email

    from customers.throttle import LIMITS, throttle_allow

    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    if PortalUser.objects.filter(customer=customer, user__email__iexact=email).exists():
        raise ValidationError({"email": [_("Someone with this e-mail address already has a login.")]})
    if not throttle_allow("invitation-customer", str(customer.pk)):
        limit, _window = LIMITS["invitation-customer"]
        raise ValidationError(
            {"email": [_("At most %(limit)d invitations an hour; try again later.") % {"limit": limit}]}
        )
    if username is None:
        username = _invitation_username(customer, email)
    member = portal_user_create(customer=customer, username=username, email=email, password=None, role=role)
    link = link_for(member.user)
    subject = _("Your login to the %(customer)s customer portal") % {"customer": customer.name}
    body = _(
        "You have been invited to the customer portal of %(customer)s as %(role)s.\n\n"
        "Choose your password here (the link works once):\n%(link)s\n\nYour username: %(username)s\n"
    ) % {"customer": customer.name, "role": member.get_role_display(), "link": link, "username": member.user.username}
    enqueue_on_commit("customers.tasks.mail_send", subject, body, [email])
    return member


def password_reset_send(
    *, email: str, domain: str, use_https: bool, language: str, email_template_name: str, subject_template_name: str
) -> int:
    """Django's password-reset e-mail to each active account with a usable password and
    this ``email`` (run by a worker: customers.tasks.password_reset_mail); how many were sent."""
    from django.contrib.auth.forms import PasswordResetForm
    from django.utils import translation

    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(form.cleaned_data["email"]))
    with translation.override(language):
        form.save(
            domain_override=domain,
            use_https=use_https,
            email_template_name=email_template_name,
            subject_template_name=subject_template_name,
        )
    return len(users)


@transaction.atomic
def portal_user_change(
    *, member: PortalUser, by: PortalUser | None, role: str | None = None, is_active: bool | None = None
) -> PortalUser:
    """Change a portal user's role or switch their login off or on. An administrator cannot
    demote or deactivate themselves, and a customer always keeps one active administrator."""
    # The customer's administrators locked: two admins demoting each other at once cannot
    # both see "another admin remains".
    admins = list(
        PortalUser.objects.select_for_update()
        .filter(customer_id=member.customer_id, role=PortalUser.Role.ADMIN, user__is_active=True)
        .values_list("pk", flat=True)
    )
    member = PortalUser.objects.select_related("user").get(pk=member.pk)
    if role is not None:
        _check_role(role)
    field = "role" if role not in (None, PortalUser.Role.ADMIN) else "is_active"
    removes_admin = member.pk in admins and ((role is not None and role != PortalUser.Role.ADMIN) or is_active is False)
    if removes_admin and by is not None and by.pk == member.pk:
        message = (
            _("You cannot change your own role.") if field == "role" else _("You cannot deactivate your own login.")
        )
        raise ValidationError({field: [message]})
    if removes_admin and admins == [member.pk]:
        raise ValidationError(
            {
                field: [
                    _("%(user)s is the last administrator; make someone else administrator first.")
                    % {"user": member.user.username}
                ]
            }
        )
    if role is not None and role != member.role:
        member.role = role
        member.save(update_fields=["role"])
    if is_active is not None and is_active != member.user.is_active:
        member.user.is_active = is_active
        member.user.save(update_fields=["is_active"])
    return member


@transaction.atomic
def api_token_create(*, user, name: str = "") -> tuple[ApiToken, str]:
    """Create an API token for ``user``; returns it with the token string, shown once."""
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, token_id=token_id, secret_digest=secret_digest(secret))
    return token, f"pc_{token_id}_{secret}"


@transaction.atomic
def gateway_identity_create(*, name: str) -> tuple[ApiToken, str]:
    """A gateway identity: a user in group ``gateway`` that cannot log in, with a new token."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("A gateway needs a name.")]})
    username = name if name.startswith("gateway-") else f"gateway-{name}"
    user, created = User.objects.get_or_create(username=username, defaults={"is_active": True})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    elif not user.groups.filter(name=GATEWAY_GROUP).exists():
        raise ValidationError(
            {"name": [_("The user %(username)s exists and is not a gateway.") % {"username": username}]}
        )
    user.groups.add(Group.objects.get_or_create(name=GATEWAY_GROUP)[0])
    return api_token_create(user=user, name=f"gateway {name}")


TITLE_FIELDS = (
    "name",
    "tax_id",
    "address",
    "phone",
    "bank_name",
    "bank_account",
    "email",
    "invoice_type",
    "is_default",
)


@transaction.atomic
def invoice_title_save(
    *,
    customer: Customer,
    title: InvoiceTitle | None = None,
    tax_id_override: bool = False,
    staff: bool = False,
    **fields,
) -> InvoiceTitle:
    """Create or change a 发票抬头. The tax id is checked (staff may override a failing check);
    a special invoice needs the tax id, and 地址电话 / 开户行及账号 are printed in pairs."""
    title = title or InvoiceTitle(customer=customer)
    for key, value in fields.items():
        if key in TITLE_FIELDS:
            setattr(title, key, value.strip() if isinstance(value, str) else value)
    if tax_id_override and not staff:
        raise ValidationError(
            {"tax_id_override": [_("Only our finance staff can accept a tax id that fails the check.")]}
        )
    title.tax_id = _clean_tax_id(title.tax_id, override=tax_id_override)
    title.tax_id_override = tax_id_override and not check_tax_id(title.tax_id).valid
    errors: dict[str, list[str]] = {}
    if title.invoice_type == "special" and not title.tax_id:
        errors["tax_id"] = [_("A special VAT invoice needs the buyer's tax id.")]
    for first, second in (("address", "phone"), ("bank_name", "bank_account")):
        if bool(getattr(title, first)) != bool(getattr(title, second)):
            missing = second if getattr(title, first) else first
            errors[missing] = [
                _("Printed together with %(other)s: give both or neither.")
                % {"other": first if missing == second else second}
            ]
    if errors:
        raise ValidationError(errors)
    _full_clean(title, exclude=["customer"])
    if title.is_default:
        InvoiceTitle.objects.filter(customer=customer, is_default=True).exclude(pk=title.pk).update(is_default=False)
    title.save()
    return title
