from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GatewaysConfig(AppConfig):
    """Usage read from the gateways resellers run (new-api / one-api logs) into the one
    ingestion service; see README, "Connecting your gateway"."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "gateways"
    verbose_name = _("Gateway connectors")
