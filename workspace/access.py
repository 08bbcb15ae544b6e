"""Who may open a staff page: finance staff (group ``finance``) and superusers.

Signed out → the sign-in page (``settings.LOGIN_URL``, which signs staff in too) with
``next``; signed in without the finance group (presales staff, portal users) → 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render, resolve_url

from customers.access import is_finance


def forbidden(request):
    return render(request, "workspace/forbidden.html", {"hide_nav": True}, status=403)


def finance_view(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))
        if not is_finance(request.user):
            return forbidden(request)
        return view(request, *args, **kwargs)

    return wrapped
