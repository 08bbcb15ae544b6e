"""API keys (``/portal/keys/``): the customer's keys by project; an admin creates one (its
secret shown once, on the answer page only) and revokes one after a confirmation page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from billing.metering.selectors import keys_last_used
from common.admin_forms import errors_onto_form
from customers import services
from customers.access import MANAGE_ROLES, READ_USAGE_ROLES
from customers.models import ApiKey
from portal.access import forbidden, portal_view


class KeyForm(forms.Form):
    project = forms.ChoiceField(label=gettext_lazy("Project"))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.projects = {p.code: p for p in customer.projects.filter(is_active=True).order_by("code")}
        self.fields["project"].choices = [(code, f"{p.name} ({code})") for code, p in self.projects.items()]


def _projects_with_keys(customer) -> list[dict]:
    last_used = keys_last_used(customer)
    keys = customer.api_keys.select_related("project").order_by("project__code", "-created_at")
    projects: dict[int, dict] = {}
    for key in keys:
        group = projects.setdefault(key.project_id, {"project": key.project, "keys": []})
        group["keys"].append({"key": key, "last_used": last_used.get(key.pk)})
    return list(projects.values())


@never_cache
@require_http_methods(["GET", "POST"])
@portal_view(READ_USAGE_ROLES)
def keys(request):
    """GET: every key of the customer. POST (admin): create one and show its secret once."""
    customer = request.portal.customer
    manages = request.portal.role in MANAGE_ROLES
    if request.method == "POST" and not manages:
        return forbidden(request)
    form = KeyForm(request.POST or None, customer=customer) if manages else None
    if request.method == "POST" and form.is_valid():
        try:
            key, secret = services.api_key_create(
                project=form.projects[form.cleaned_data["project"]], name=form.cleaned_data["name"], by=request.user
            )
        except ValidationError as exc:
            errors_onto_form(form, exc)
        else:
            # The one page that ever shows the secret: not cached, not kept anywhere.
            return render(request, "portal/key_created.html", {"key": key, "secret": secret}, status=201)
    return render(
        request, "portal/keys.html", {"projects": _projects_with_keys(customer), "form": form, "manages": manages}
    )


@require_http_methods(["GET", "POST"])
@portal_view(MANAGE_ROLES)
def key_revoke(request, key_id: str):
    """GET: "revoke key X?"; POST: revoke it (a revoked key stays revoked)."""
    key = get_object_or_404(ApiKey.objects.select_related("project"), customer=request.portal.customer, key_id=key_id)
    if request.method == "POST":
        services.api_key_revoke(key=key, by=request.user)
        messages.success(request, _("The key %(key)s is revoked; calls with it are refused.") % {"key": key.key_id})
        return redirect("portal:keys")
    return render(request, "portal/key_revoke.html", {"key": key})
