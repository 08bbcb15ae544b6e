"""Admin forms whose "save" is a service call.

The admin's add view runs inside one transaction, so a form may call the writing service
as the last step of its validation: a refusal (a ``ValidationError`` by field, or a domain ``Conflict``) is shown
beside the field it names and nothing is kept; success hands the admin the object the
service wrote, so its log entry, message and redirect refer to the real row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from common.errors import Conflict, refusal_text


def errors_onto_form(form: forms.BaseForm, exc: Exception, *, fields: dict[str, str] | None = None) -> None:
    """Put a service's refusal on the form: field errors beside their fields (``fields`` maps
    a service's argument name to the form's field name), anything else above the form."""
    fields = fields or {}
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        by_field = exc.error_dict
    elif isinstance(exc, Conflict):
        form.add_error(None, exc.message)
        by_field = exc.errors
    elif isinstance(exc, ValidationError):
        form.add_error(None, exc.messages)
        return
    else:
        raise exc
    for name, errors in by_field.items():
        target = fields.get(name, name)
        form.add_error(target if target in form.fields else None, errors)


class ServiceModelForm(forms.ModelForm):
    """A ModelForm that writes through ``perform(cleaned_data)`` instead of ``instance.save()``.

    ``perform`` returns the saved object; the admin then treats it as the form's result.
    """

    service_fields: dict[str, str] = {}

    def perform(self, data: dict):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _post_clean(self):
        # After every other check (fields, clean(), the model's own validation), so that a
        # form shown again with an error never has a service write behind it.
        super()._post_clean()
        if self.errors:
            return
        try:
            self.result = self.perform(self.cleaned_data)
        except (ValidationError, Conflict) as exc:
            errors_onto_form(self, exc, fields=self.service_fields)

    def save(self, commit: bool = True):
        self.save_m2m = lambda: None
        return self.result


def partial_form(form_class: type[forms.BaseForm], **extra):
    """The admin instantiates form classes itself: bind extra keyword arguments (the acting
    user) to the class it is given."""
    return type(form_class.__name__, (form_class,), {"__init__": _init_with(form_class, extra)})


def _init_with(form_class, extra):
    def __init__(self, *args, **kwargs):
        form_class.__init__(self, *args, **{**extra, **kwargs})

    return __init__


def action_with_form(
    modeladmin,
    request,
    queryset,
    *,
    form_class: type[forms.Form],
    title: str,
    submit_label: str,
    headings: list[str],
    row: Callable[[Any], list],
    perform: Callable[[Any, dict], str],
    intro: str = "",
    form_kwargs: dict | None = None,
):
    """A bulk admin action with a confirmation page: the selected objects (one table row
    each), a form (a reason, a type) with its errors beside each field, then ``perform`` on
    each object, reported one message per object (a refusal is an error message naming it)."""
    form_kwargs = form_kwargs or {}
    if request.POST.get("apply"):
        form = form_class(request.POST, **form_kwargs)
        if form.is_valid():
            for obj in queryset:
                try:
                    done = perform(obj, form.cleaned_data)
                except (ValidationError, Conflict) as exc:
                    modeladmin.message_user(request, f"{obj}: {refusal_text(exc)}", messages.ERROR)
                    continue
                modeladmin.message_user(request, done, messages.SUCCESS)
            return None  # back to the list, with the messages
    else:
        form = form_class(**form_kwargs)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "submit_label": submit_label,
        "form": form,
        "queryset": queryset,
        "headings": headings,
        "rows": [row(obj) for obj in queryset],
        "action": request.POST["action"],
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media + form.media,
    }
    return TemplateResponse(request, "admin/action_confirmation.html", context)
