"""The API's one error shape: ``{"detail": "...", "errors": {...}}``.

``errors`` maps a field name (or ``non_field_errors``) to a list of messages; it is
``{}`` when the error concerns the request as a whole. Messages follow the request's
language (Accept-Language; Simplified Chinese by default).
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters import FilterSet
from django_filters.utils import translate_validation
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class DatabaseUnavailable(exceptions.APIException):
    """The database went away mid-request (a failover, a killed connection): nothing of the
    request was committed, and the same request can be sent again (ingestion and payments
    are idempotent)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is briefly unavailable; nothing was saved. Send the same request again."
    default_code = "database_unavailable"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "too_large"


def _flatten(detail) -> dict | list | str:
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


def django_validation_error_to_drf(error: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError({k: [m for e in v for m in e.messages] for k, v in error.error_dict.items()})
    return exceptions.ValidationError({"non_field_errors": error.messages})


def exception_handler(exc, context):
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable during %s: %s", context.get("request"), exc)
        exc = DatabaseUnavailable(
            _("The database is briefly unavailable; nothing was saved. Send the same request again.")
        )
    elif isinstance(exc, DjangoValidationError):
        exc = django_validation_error_to_drf(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        if not isinstance(errors, dict):
            errors = {"non_field_errors": errors if isinstance(errors, list) else [errors]}
        fields = ", ".join(errors)
        body = {"detail": _("Invalid input in: %(fields)s.") % {"fields": fields}, "errors": errors}
    else:
        detail = exc.detail if hasattr(exc, "detail") else str(exc)
        body = {
            "detail": str(_flatten(detail)) if not isinstance(detail, dict) else _("Request failed."),
            "errors": _flatten(detail) if isinstance(detail, dict) else {},
        }
    headers = dict(response.headers.items())
    if isinstance(exc, DatabaseUnavailable):
        headers["Retry-After"] = "1"
    return Response(body, status=response.status_code, headers=headers)


def filtered(filterset_class: type[FilterSet], request: Request, queryset: QuerySet) -> QuerySet:
    """The queryset narrowed by the request's query parameters; a bad one is a 400 naming it."""
    filterset = filterset_class(request.query_params, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    return filterset.qs


def query(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    """A report's query parameters, validated (a bad one is a 400 naming it)."""
    serializer = serializer_class(data=request.query_params.dict())  # "?x=" means x is "", not absent
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
