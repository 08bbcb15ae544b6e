from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcurementConfig(AppConfig):
    name = "procurement"
    verbose_name = _("Procurement Center")

    def ready(self):
        from django.contrib import admin

        # The admin's header and <title>: 采购中心 in Chinese, "Procurement Center" in English.
        admin.site.site_header = _("Procurement Center")
        admin.site.site_title = _("Procurement Center")
