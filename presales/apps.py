from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PresalesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "presales"
    verbose_name = _("Presales")
