"""Refuse, at the edge, what no view can look up: control characters in a URL.

PostgreSQL text cannot hold NUL, so a NUL that reaches a query (``/bills/a%00b/``,
``?customer=%00``) would end as a database error and a 500. No object's number, code or
filter value contains a control character (U+0000–U+001F, U+007F), so such a request is
answered before any view runs: a path → 404 (there is no such object), a query parameter
→ 400 naming the parameter. API answers use the contract's error shape.
"""

from __future__ import annotations

import re

from django.http import HttpResponseBadRequest, HttpResponseNotFound, JsonResponse
from django.utils.translation import gettext as _

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if CONTROL.search(request.path):
            if _is_api(request):
                return JsonResponse({"detail": _("Not found."), "errors": {}}, status=404)
            return HttpResponseNotFound(_("Not found."))
        for name, values in request.GET.lists():
            if CONTROL.search(name) or any(CONTROL.search(value) for value in values):
                message = _("Remove the control character from this value.")
                if _is_api(request):
                    field = CONTROL.sub("", name) or "query"
                    return JsonResponse(
                        {
                            "detail": _("Invalid input in: %(fields)s.") % {"fields": field},
                            "errors": {field: [message]},
                        },
                        status=400,
                    )
                return HttpResponseBadRequest(message)
        return self.get_response(request)
