from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    """Finance staff pages (/staff/): the dashboard, and provider cost against billed revenue."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "workspace"
    verbose_name = _("Finance workspace")
