"""Submitting admin pages the way a browser does: the form as the page shows it, with a
few fields changed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django import forms
from django.db.models import Model
from django.urls import reverse


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _post_value(value):
    if value is None:
        return ""
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_post_value(v) for v in value]
    return str(value)


def _form_data(form: forms.BaseForm) -> dict:
    data: dict = {}
    for bound in form:
        name = form.add_prefix(bound.name)
        value = bound.value()
        field = bound.field
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
            continue
        if isinstance(field, forms.MultiValueField):
            parts = value if isinstance(value, list | tuple) else field.widget.decompress(value)
            for i, part in enumerate(parts):
                data[f"{name}_{i}"] = _post_value(part)
            continue
        if isinstance(field, forms.SplitDateTimeField):  # pragma: no cover - not used by these admins
            continue
        data[name] = _post_value(value)
    return data


def page_data(client, url: str, **changes) -> dict:
    """GET the admin add/change page at ``url`` and return its form data as a browser would
    post it (inline formsets included, unchanged), with ``changes`` applied."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    data = _form_data(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_form_data(formset.management_form))
        for form in formset.initial_forms:
            data.update(_form_data(form))
    data.update({k: _post_value(v) for k, v in changes.items()})
    return data


def action(client, model, name: str, objects, **extra):
    """Choose the action ``name`` for ``objects`` on the changelist (the first step)."""
    return client.post(
        admin_url(model, "changelist"),
        {"action": name, "_selected_action": [o.pk for o in objects], "index": "0", **extra},
    )


def confirm(client, model, name: str, objects, **fields):
    """Submit an action's confirmation page (the second step)."""
    return client.post(
        admin_url(model, "changelist"),
        {"action": name, "_selected_action": [o.pk for o in objects], "apply": "yes", **fields},
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]
