"""The forms of the reconciliation page: its period, and the upload of a provider export."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.periods import PeriodFormField
from common.uploads import MAX_UPLOAD_BYTES
from workspace.models import Provider

UPLOAD_TOO_LARGE = _("The file is larger than 20 MB; export fewer days at a time.")


class PeriodForm(forms.Form):
    """The page's ``?period=YYYY-MM`` (blank: the last closed period)."""

    period = PeriodFormField(label=_("period"), required=False)


class ProviderCostUploadForm(forms.Form):
    provider = forms.ChoiceField(label=_("provider"), choices=Provider.choices)
    file = forms.FileField(
        label=_("export file"),
        help_text=_("OpenAI costs or completions usage, Anthropic cost report: JSON as the API answers, or CSV."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(UPLOAD_TOO_LARGE)
        return upload
