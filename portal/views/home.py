"""The portal's overview (``/portal/``): month to date at a glance."""

from django.shortcuts import render

from portal.access import portal_view


@portal_view()
def home(request):
    return render(request, "portal/home.html", {})
