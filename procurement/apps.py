from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

# What each staff group may do in the admin. Permissions exist only after every app has
# migrated, so they are granted on post_migrate (idempotent), not in a data migration.
GROUP_PERMISSIONS = {
    "finance": ["customers", "billing", "invoices", "banking", "presales"],
    "presales": [],  # presales works on its staff pages (/staff/presales/); in the admin it reads
}
PRESALES_VIEW = [
    ("billing", "priceversion"),
    ("billing", "modelalias"),
    ("presales", "estimate"),
    ("presales", "workload"),
    ("presales", "estimateoption"),
    ("presales", "proposalversion"),
    ("presales", "proposal"),
    ("presales", "proposaltemplate"),
]
# Finance may look at the beat schedule (month close, reminders) but not change it: the
# schedule is declared in code, and an accidental edit would move the month close.
VIEW_ONLY = {"finance": ["django_celery_beat"]}


def grant_staff_permissions(**kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    for name, app_labels in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label__in=app_labels)
        if name == "presales":
            for app_label, model in PRESALES_VIEW:
                permissions = permissions | Permission.objects.filter(
                    content_type__app_label=app_label, content_type__model=model, codename__startswith="view_"
                )
        group.permissions.add(*permissions)
        for app_label in VIEW_ONLY.get(name, []):
            in_app = Permission.objects.filter(content_type__app_label=app_label)
            group.permissions.add(*in_app.filter(codename__startswith="view_"))
            # Earlier releases granted everything here: take the write permissions back.
            group.permissions.remove(*in_app.exclude(codename__startswith="view_"))


def sync_beat_schedule(**kwargs) -> None:
    from procurement.schedule import beat_schedule_sync

    beat_schedule_sync()


class ProcurementConfig(AppConfig):
    name = "procurement"
    verbose_name = _("Procurement Center")

    def ready(self):
        from django.contrib import admin

        # The admin's header and <title>: 采购中心 in Chinese, "Procurement Center" in English.
        admin.site.site_header = _("Procurement Center")
        admin.site.site_title = _("Procurement Center")
        # Every app's post_migrate (idempotent): the last one sees every permission created.
        post_migrate.connect(grant_staff_permissions, dispatch_uid="procurement.grant_staff_permissions")
        post_migrate.connect(sync_beat_schedule, dispatch_uid="procurement.sync_beat_schedule")
