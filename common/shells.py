"""The two UI shells' one access rule (templates/staff/base.html, templates/portal/base.html).

Every server-rendered page wears :func:`page_view` with its audience and its test:

- signed out → the audience's own login page, with ``next`` (staff: the admin's login;
  customers: the portal's);
- signed in but not admitted (wrong group, wrong role) → 403, the page written in the
  reader's language inside the audience's shell (a refusal raised deeper, Django's
  ``PermissionDenied``, gets the same page through :func:`forbidden_for_path`).

The tests themselves live with the apps that know the groups and roles
(``customers.access``); this module knows no group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url


@dataclass(frozen=True)
class Audience:
    name: str
    login_url: str  # URL name of the audience's sign-in page
    forbidden_template: str  # the 403 page in the audience's shell
    path_prefix: str  # where its pages live


STAFF = Audience("staff", "admin:login", "staff/forbidden.html", "/staff/")
CUSTOMERS = Audience("portal", "portal:login", "portal/forbidden.html", "/portal/")

# A view's test: True lets it run, False answers 403, a response answers with that response
# (e.g. the portal sending staff on to the admin).
Admit = Callable[[HttpRequest], "bool | HttpResponse"]


def forbidden(request: HttpRequest, audience: Audience, message: str | None = None) -> HttpResponse:
    """The 403 page, in the reader's language, inside ``audience``'s shell."""
    return render(request, audience.forbidden_template, {"message": message}, status=403)


def forbidden_for_path(request: HttpRequest, message: str | None = None) -> HttpResponse | None:
    """The shell's 403 for a page under one of the shells' paths; None elsewhere."""
    for audience in (STAFF, CUSTOMERS):
        if request.path.startswith(audience.path_prefix):
            return forbidden(request, audience, message)
    return None


def login_redirect(request: HttpRequest, audience: Audience) -> HttpResponse:
    return redirect_to_login(request.get_full_path(), resolve_url(audience.login_url))


def page_view(audience: Audience, admit: Admit, *, message: str | None = None) -> Callable:
    """Let the decorated view run for a signed-in user ``admit`` lets in; ``message`` (lazy,
    so in the reader's language) says on the 403 page why not."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return login_redirect(request, audience)
            verdict = admit(request)
            if verdict is True:
                return view(request, *args, **kwargs)
            if isinstance(verdict, HttpResponse):
                return verdict
            return forbidden(request, audience, message)

        wrapped.audience = audience  # read by the tests that sweep every page
        return wrapped

    return decorator
