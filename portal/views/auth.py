"""Signing in to and out of the portal (Django's auth views with the portal's templates)."""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.translation import get_language

from common.tasks import enqueue
from customers.access import portal_membership
from customers.throttle import LIMITS, throttle_allow


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

    The request does the same whatever the address: it counts the request (at most 20 an hour
    from one client address — beyond, 429 — and 3 e-mails an hour to one address, beyond
    which nothing more is sent) and hands the address to a worker
    (customers.tasks.password_reset_mail), which looks the accounts up and sends. So the
    answer, and the time it takes, are the same for a known and an unknown address."""

    template_name = "portal/password_reset_form.html"
    email_template_name = "portal/emails/password_reset.txt"
    subject_template_name = "portal/emails/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password-reset-done")

    def form_valid(self, form):
        request = self.request
        if not throttle_allow("password-reset-client", get_client_ip_address(request) or "unknown"):
            limit, _window = LIMITS["password-reset-client"]
            return render(request, "portal/throttled.html", {"limit": limit}, status=429)
        email = form.cleaned_data["email"]
        if throttle_allow("password-reset-address", email):
            enqueue(
                "customers.tasks.password_reset_mail",
                email,
                request.get_host(),
                request.is_secure(),
                get_language(),
                [self.email_template_name, self.subject_template_name],
            )
        return HttpResponseRedirect(self.get_success_url())


class PortalPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"


def active_user_only(user):
    """A set-password link of a deactivated login is dead (Django's view does not check)."""
    return user if user is not None and user.is_active else None


class PortalPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password-reset-complete")

    def get_user(self, uidb64):
        return active_user_only(super().get_user(uidb64))


class PortalPasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"


def locked_out(request, response=None, credentials=None):
    """django-axes's answer once a username has failed too often from one address (the
    portal's and the admin's login): 429 with a page in the reader's language saying when to
    try again and how to get back in sooner."""
    cool_off = settings.AXES_COOLOFF_TIME
    context = {"minutes": int(cool_off.total_seconds() // 60), "failure_limit": settings.AXES_FAILURE_LIMIT}
    return render(request, "portal/locked_out.html", context, status=429)
