"""Results pushed to us by provider backends (see invoices.backends.nuonuo for the format)."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ParseError, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from invoices.backends.nuonuo import SUCCESS_CODE, InvoiceResult, NuonuoBackend, signature_valid
from invoices.models import Invoice


class NuonuoCallback(APIView):
    """The platform's signed result for one order; applying it again changes nothing."""

    authentication_classes: list = []  # the HMAC signature is the authentication
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        body = request._request.body  # the raw bytes the signature covers
        if not signature_valid(
            app_key=getattr(settings, "NUONUO_APP_KEY", ""),
            secret=getattr(settings, "NUONUO_APP_SECRET", ""),
            method="POST",
            path=request.path,
            headers=request.headers,
            body=body,
        ):
            raise PermissionDenied("Bad or missing signature.")
        try:
            payload = json.loads(body)
            result = InvoiceResult.from_payload(payload)
        except (ValueError, AttributeError) as exc:
            raise ParseError("The body is not a result item.") from exc
        invoice = Invoice.objects.filter(order_number=result.order_number, backend=NuonuoBackend.name).first()
        if invoice is None:
            raise Http404
        NuonuoBackend().apply_result(invoice=invoice, result=result)
        return Response({"code": SUCCESS_CODE, "describe": "OK"})
