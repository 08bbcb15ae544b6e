"""Signing in to and out of the portal (Django's auth views with the portal's templates)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import reverse

from customers.access import portal_membership


class PortalLoginView(auth_views.LoginView):
    """``/portal/login/``: Django's form (``username``, ``password``, CSRF). Everyone lands on
    the page they asked for (``next``, checked by Django to be on this site); without one, a
    portal user sees the overview and staff without a portal membership the admin."""

    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        asked = self.get_redirect_url()
        if asked:
            return asked
        if portal_membership(self.request.user) is None and self.request.user.is_staff:
            return reverse("admin:index")
        return reverse("portal:home")


class PortalLogoutView(auth_views.LogoutView):
    next_page = "portal:login"
