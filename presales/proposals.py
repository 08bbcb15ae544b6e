"""Proposals: numbered, versioned offers made from an estimate, and their acceptance.

A version is frozen when it is made: its terms, its chosen options (rows of the estimate,
which never change either) and the SLA/support/terms text copied from the active
``ProposalTemplate``. Posting again for the same estimate makes the next version; none is
ever edited, so a version that was sent is the version the prospect has.

Accepting makes the customer and a draft contract through the customers services (USCC
check, unique code and number, no overlap with an active contract) from the accepted
version's terms, and links both back to the proposal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.periods import business_day
from billing.pricing.cost import vat_amount
from common.errors import Conflict
from common.numbering import sequence_next
from customers import services as customer_services
from customers.models import Contract, Customer
from customers.validators import check_tax_id
from presales.models import NOTES_MAX, Estimate, Proposal, ProposalCounter, ProposalTemplate, ProposalVersion


@dataclass(frozen=True)
class Choice:
    workload: str
    provider: str
    model: str


def proposal_number_next(*, on: date) -> str:
    """``PROP-YYYY-NNNN``: the year's next number from its counter row, locked (no gaps)."""
    return f"PROP-{on.year:04d}-{sequence_next(ProposalCounter, year=on.year):04d}"


def _chosen_options(estimate: Estimate, chosen: list[Choice]):
    options = {(o.workload.name, o.provider, o.model): o for o in estimate.options.select_related("workload")}
    found, errors, workloads = [], {}, set()
    for i, choice in enumerate(chosen):
        option = options.get((choice.workload, choice.provider, choice.model))
        if option is None:
            errors[f"chosen[{i}]"] = [
                _("The estimate has no option %(model)s for the workload %(workload)s.")
                % {"model": f"{choice.provider}/{choice.model}", "workload": choice.workload}
            ]
        elif choice.workload in workloads:
            errors[f"chosen[{i}]"] = [
                _("Choose one model per workload: %(workload)s is chosen twice.") % {"workload": choice.workload}
            ]
        else:
            workloads.add(choice.workload)
            found.append(option)
    if not chosen:
        errors["chosen"] = [_("Choose at least one option.")]
    if errors:
        raise ValidationError(errors)
    return found


@transaction.atomic
def proposal_version_create(
    *,
    estimate: Estimate,
    valid_until: date,
    chosen: list[Choice],
    payment_terms_days: int = 30,
    invoice_type: str = "special",
    notes: str = "",
    by=None,
) -> ProposalVersion:
    """The estimate's proposal (numbered on its first version) gets its next version."""
    if len(notes) > NOTES_MAX:
        raise ValidationError(
            {
                "notes": [
                    _("Notes are at most %(limit)s characters (%(length)s given).")
                    % {"limit": NOTES_MAX, "length": len(notes)}
                ]
            }
        )
    estimate = Estimate.objects.select_for_update().get(pk=estimate.pk)
    options = _chosen_options(estimate, chosen)
    today = business_day(timezone.now())
    if valid_until < today:
        raise ValidationError({"valid_until": [_("The validity date is in the past.")]})
    proposal = Proposal.objects.filter(estimate=estimate).first()
    if proposal is None:
        proposal = Proposal.objects.create(estimate=estimate, number=proposal_number_next(on=today))
    elif proposal.accepted_at is not None:
        raise Conflict(_("Proposal %(number)s is accepted; it takes no new version.") % {"number": proposal.number})
    last = proposal.versions.order_by("-version").values_list("version", flat=True).first() or 0
    template = ProposalTemplate.objects.filter(is_active=True).order_by("name").first()
    amount = sum((o.monthly_amount for o in options), Decimal(0))
    vat = sum((o.monthly_vat for o in options), Decimal(0))
    year_amount = sum((o.first_year_amount for o in options), Decimal(0))
    year_vat = vat_amount(year_amount, estimate.vat_rate)
    version = ProposalVersion.objects.create(
        proposal=proposal,
        version=last + 1,
        valid_until=valid_until,
        payment_terms_days=payment_terms_days,
        invoice_type=invoice_type,
        notes=notes,
        sla_text=template.sla_text if template else "",
        support_text=template.support_text if template else "",
        terms_text=template.terms_text if template else "",
        monthly_amount=amount,
        monthly_vat=vat,
        monthly_total=amount + vat,
        first_year_amount=year_amount,
        first_year_vat=year_vat,
        first_year_total=year_amount + year_vat,
        created_by=by if getattr(by, "pk", None) else None,
    )
    version.options.set(options)
    return version


def _one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return date(day.year + 1, 3, 1)


def _price_currency(version: ProposalVersion) -> str:
    currencies = {o.currency for o in version.options.all()}
    return Contract.Currency.CNY if currencies == {"CNY"} else Contract.Currency.USD


def _quoted_rate(version: ProposalVersion, estimate) -> Decimal | None:
    """The exchange rate the proposal quoted: the offered fixed rate, else the one rate its
    USD options were priced at (the contract keeps it, so the first bill matches the quote);
    None for a CNY proposal."""
    if estimate.fixed_exchange_rate is not None:
        return estimate.fixed_exchange_rate
    rates = {o.exchange_rate for o in version.options.all() if o.currency != "CNY"}
    return rates.pop() if len(rates) == 1 else None


@transaction.atomic
def proposal_accept(
    *, proposal: Proposal, customer_code: str, tax_id: str, contract_number: str, starts_on: date, by=None
) -> tuple[Customer, Contract]:
    """The prospect becomes a customer (or an existing customer with the same tax id gets the
    contract) with a draft contract on the latest version's terms, for twelve months."""
    proposal = Proposal.objects.select_for_update().select_related("estimate").get(pk=proposal.pk)
    if proposal.accepted_at is not None:
        raise Conflict(_("Proposal %(number)s is already accepted.") % {"number": proposal.number})
    version = proposal.versions.order_by("-version").first()
    estimate = proposal.estimate
    code = customer_code.strip().upper()
    customer = Customer.objects.filter(code=code).first()
    if customer is None:
        customer = customer_services.customer_create(code=code, name=estimate.prospect, tax_id=tax_id, by=by)
    elif customer.tax_id != check_tax_id(tax_id).normalized:
        raise ValidationError({"customer_code": [_("Customer %(code)s exists with another tax id.") % {"code": code}]})
    ends_on = _one_year_after(starts_on) - timedelta(days=1)
    customer_services.contract_overlap_check(customer, starts_on, ends_on)
    contract = customer_services.contract_create(
        customer=customer,
        number=contract_number,
        starts_on=starts_on,
        ends_on=ends_on,
        status=Contract.Status.DRAFT,
        payment_terms_days=version.payment_terms_days,
        price_currency=_price_currency(version),
        discount_percent=estimate.discount_percent,
        fixed_exchange_rate=_quoted_rate(version, estimate),
        vat_rate=estimate.vat_rate,
        invoice_type=version.invoice_type,
        notes=_("From proposal %(number)s v%(version)s.") % {"number": proposal.number, "version": version.version},
    )
    proposal.accepted_at = timezone.now()
    proposal.accepted_version = version.version
    proposal.customer = customer
    proposal.contract = contract
    proposal.save(update_fields=["accepted_at", "accepted_version", "customer", "contract"])
    return customer, contract


@transaction.atomic
def proposal_template_save(*, template: ProposalTemplate, **fields) -> ProposalTemplate:
    """Save a template; the one saved as used becomes the only one new versions copy."""
    for key, value in fields.items():
        setattr(template, key, value)
    template.full_clean()
    template.save()
    if template.is_active:
        ProposalTemplate.objects.filter(is_active=True).exclude(pk=template.pk).update(is_active=False)
    return template
