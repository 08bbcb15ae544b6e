"""Signing in to and out of the portal (Django's auth views with the portal's templates)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.urls import reverse, reverse_lazy

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


class PortalPasswordResetView(auth_views.PasswordResetView):
    """``/portal/password-reset/``: Django's reset by e-mail, written in the reader's language.
    The page says the same whether or not the address is known, so it reveals no accounts."""

    template_name = "portal/password_reset_form.html"
    email_template_name = "portal/emails/password_reset.txt"
    subject_template_name = "portal/emails/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password-reset-done")


class PortalPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"


class PortalPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password-reset-complete")


class PortalPasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"


def locked_out(request, response=None, credentials=None):
    """django-axes's answer once a username has failed too often from one address (the
    portal's and the admin's login): 429 with a page in the reader's language saying when to
    try again and how to get back in sooner."""
    cool_off = settings.AXES_COOLOFF_TIME
    context = {"minutes": int(cool_off.total_seconds() // 60), "failure_limit": settings.AXES_FAILURE_LIMIT}
    return render(request, "portal/locked_out.html", context, status=429)
