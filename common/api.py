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
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import Conflict, DomainError, NotAllowed
from common.integers import UNBOUNDED, BadParameter, NotWholeNumber, whole_number

logger = logging.getLogger(__name__)


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


def _field_errors(detail) -> dict[str, list[str]]:
    """DRF's error detail as the contract's map, field → messages. A nested field's or a list
    item's messages stay under the top-level field, each led by its place in it
    (``{"thresholds": ["[1] Ensure this value is less than or equal to 1000."]}``)."""
    if not isinstance(detail, dict):
        return {"non_field_errors": _messages(detail)} if detail else {}
    return {str(field): _messages(value) for field, value in detail.items()}


def _messages(detail, place: str = "") -> list[str]:
    if isinstance(detail, dict):
        return [m for key, value in detail.items() for m in _messages(value, f"{place}[{key}]")]
    if isinstance(detail, list):
        if any(isinstance(item, (dict, list)) for item in detail):
            return [m for index, item in enumerate(detail) for m in _messages(item, f"{place}[{index}]")]
        return [f"{place} {item}" if place else str(item) for item in detail]
    return [f"{place} {detail}" if place else str(detail)]


def _message(detail) -> str:
    return " ".join(map(str, detail)) if isinstance(detail, list) else str(detail)


def django_validation_error_to_drf(error: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError({k: [m for e in v for m in e.messages] for k, v in error.error_dict.items()})
    return exceptions.ValidationError({"non_field_errors": error.messages})


class _Refused(exceptions.APIException):
    """A domain refusal on its way through DRF's handler (which sets the rollback and the
    headers); the body is the refusal's own message and field errors."""

    def __init__(self, error: DomainError, status_code: int):
        super().__init__(error.message)
        self.status_code = status_code
        self.error = error


def domain_error_to_drf(error: DomainError) -> exceptions.APIException:
    """A domain refusal as the API's answer: a conflict 409, a role's refusal 403 (without a
    reason, DRF's own sentence)."""
    if isinstance(error, NotAllowed):
        if not error.message and not error.errors:
            return exceptions.PermissionDenied()
        return _Refused(error, status.HTTP_403_FORBIDDEN)
    return _Refused(error, status.HTTP_409_CONFLICT if isinstance(error, Conflict) else status.HTTP_400_BAD_REQUEST)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        exc = domain_error_to_drf(exc)
    elif isinstance(exc, BadParameter):
        exc = exceptions.ValidationError({exc.name: [exc.message]})
    elif isinstance(exc, (OperationalError, InterfaceError)):
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
    if isinstance(exc, _Refused):
        body = {"detail": exc.error.message, "errors": exc.error.errors}
    elif isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail) or {"non_field_errors": [str(_("Invalid input."))]}
        fields = ", ".join(errors)
        body = {"detail": _("Invalid input in: %(fields)s.") % {"fields": fields}, "errors": errors}
    else:
        detail = exc.detail if hasattr(exc, "detail") else str(exc)
        body = {
            "detail": _("Request failed.") if isinstance(detail, dict) else _message(detail),
            "errors": _field_errors(detail) if isinstance(detail, dict) else {},
        }
    headers = dict(response.headers.items())
    if isinstance(exc, DatabaseUnavailable):
        headers["Retry-After"] = "1"
    return Response(body, status=response.status_code, headers=headers)


class WholeNumberField(serializers.IntegerField):
    """DRF's IntegerField, but a number sent as text is read by the one parser
    (``common.integers``): ``"٣"``, ``"³"`` or ``"1_0"`` are not numbers here (``int()`` takes
    two of them). A JSON number is taken as DRF takes it; ``min_value``/``max_value`` apply to both."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:  # a sign is read; a negative then meets min_value's own message
                data = whole_number(data, minimum=-UNBOUNDED, maximum=UNBOUNDED)
            except NotWholeNumber:
                self.fail("invalid")
        return super().to_internal_value(data)


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


# --- CSV by content negotiation (``Accept: text/csv``) or by ``?format=csv`` ----------------


class CSVRenderer(BaseRenderer):
    """A CSV body the view wrote (a ``str``), as ``text/csv``."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return data.encode(self.charset) if isinstance(data, str) else bytes(data)


class CSVOrJSON:
    """An APIView answering JSON or CSV: CSV when ``?format=csv`` asks for it, or when no
    ``format`` is given and the ``Accept`` header prefers ``text/csv``. The view returns
    ``Response(<CSV text>)`` for CSV; an error is always JSON in the contract's shape."""

    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]

    @staticmethod
    def wants_csv(request: Request) -> bool:
        asked = request.query_params.get("format")
        if asked:
            return asked == "csv"
        return isinstance(getattr(request, "accepted_renderer", None), CSVRenderer)

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response):
            csv_body = response.status_code < 400 and isinstance(response.data, str)
            if csv_body:
                request.accepted_renderer, request.accepted_media_type = CSVRenderer(), CSVRenderer.media_type
            elif isinstance(getattr(request, "accepted_renderer", None), CSVRenderer):
                request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


# --- The error answers in the OpenAPI schema -----------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "field name (or non_field_errors) → messages; {} when the error concerns the request as a whole",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail", "errors"],
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input; `errors` names each field.",
    "401": "No or an unknown token.",
    "403": "The token's user may not do this.",
    "404": "No such object (or one of another customer).",
    "409": "The request conflicts with the current state (nothing changed).",
    "413": "The request is too large.",
    "415": "The body is not in a media type this operation reads (or is malformed as one).",
    "503": "The database is briefly unavailable; nothing was saved, send the same request again.",
}


def error_responses_hook(result, generator, request, public):
    """drf-spectacular postprocessing: every operation lists the error answers it can give, in
    the one error shape (the schema used to show only the success)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = ["401", "403", "503"]
            if operation.get("parameters") or operation.get("requestBody"):
                codes.append("400")
            # A path naming an object, or a `customer` query naming a customer (one that does
            # not exist or is another's: 404, as for any object of another customer).
            customer_query = any(
                p.get("in") == "query" and p.get("name") == "customer" for p in operation.get("parameters", [])
            )
            if "{" in path or customer_query:
                codes.append("404")
            if method in ("post", "put", "patch", "delete"):
                codes.append("409")
                if "requestBody" in operation:
                    codes += ["413", "415"]
            for code in codes:
                operation["responses"].setdefault(code, {"description": ERROR_DESCRIPTIONS[code], "content": reference})
            # An error a view declares itself (e.g. a 404 for an object its body names) is
            # answered in the same shape.
            for code, answer in operation["responses"].items():
                if code[0] in "45" and not answer.get("content"):
                    answer["content"] = reference
    return result
