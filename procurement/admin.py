"""Django's user admin with one more action: unlock a sign-in that django-axes locked out."""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

User = get_user_model()


class ProcurementUserAdmin(UserAdmin):
    actions = ["unlock_sign_in"]

    @admin.action(description=_("Unlock sign-in (forget failed logins)"), permissions=["change"])
    def unlock_sign_in(self, request, queryset):
        """Forget the failed logins of the selected users from every address, so that a
        locked-out user can sign in again at once instead of after the cool-off hour."""
        removed = sum(axes_reset(username=username) for username in queryset.values_list("username", flat=True))
        users = queryset.count()
        self.message_user(
            request,
            gettext("Users unlocked: %(users)d (failed-login records removed: %(attempts)d).")
            % {"users": users, "attempts": removed},
            messages.SUCCESS,
        )


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, ProcurementUserAdmin)
