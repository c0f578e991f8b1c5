"""Shared API pieces: the JSON error format, the bounded JSON parser, strict instants.

Nothing under ``/api/`` answers HTML or a 500 for what a client sends: the
parser bounds a body's size and depth, Django's own refusals (a bad Host, an
oversized body) and unknown URLs answer JSON like DRF's errors.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import ActionNotAllowed, Conflict, InvalidTransition
from .parsers import BodyTooLarge
from .validators import parse_instant

# The years and the shape ``parse_instant`` accepts, said in the schema too.
INSTANT_SCHEMA = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^(199[0-9]|20[0-9]{2})-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$",
}


@extend_schema_field(INSTANT_SCHEMA)
class InstantField(serializers.DateTimeField):
    """An instant with its zone, in a plausible range (``coordination.validators.parse_instant``).

    DRF's own field takes a time without a zone as local time and any offset
    Python can hold; PostgreSQL then refuses what Python took.
    """

    def to_internal_value(self, value):
        try:
            return parse_instant(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


# The error answers every endpoint's schema names (``errors(401, 404)``): the bodies
# ``exception_handler`` below produces.
ERRORS = {
    400: OpenApiResponse(description="Invalid input: `detail` and the offending fields."),
    401: OpenApiResponse(description="Not authenticated."),
    403: OpenApiResponse(description="The role may not do this."),
    404: OpenApiResponse(description="Missing, or outside the caller's scope (same body)."),
    409: OpenApiResponse(description="Not allowed in the current state: `detail` and `state`."),
    429: OpenApiResponse(description="Too many requests (writes, or lookups per token); see `Retry-After`."),
}


def errors(*codes: int) -> dict:
    """The schema's error responses for ``codes`` (``extend_schema(responses={200: ..., **errors(401)})``)."""
    return {code: ERRORS[code] for code in codes}


def exception_handler(exc, context):
    """Every error is JSON with ``detail``; validation errors name their fields.

    Domain exceptions map to their statuses: a forbidden transition or a
    different second result is 409 with the current state; Django validation
    from an action is 400, like a serializer's.
    """
    if isinstance(exc, InvalidTransition):
        return Response({"detail": str(exc), "state": exc.current}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ActionNotAllowed):
        exc = exceptions.PermissionDenied(str(exc))
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response({"detail": "Invalid input.", **errors}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(str(exceptions.ParseError.default_detail))
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict | list) and "detail" not in response.data:
        fields = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": "Invalid input.", **fields}
    return response


def _under_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception=None):
    """Django's refusals before any view (a Host not allowed, a body too large): JSON under /api/."""
    if _under_api(request):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse({"detail": str(BodyTooLarge.default_detail)}, status=413)
        return JsonResponse({"detail": "Bad request."}, status=400)
    from .views import error_400

    return error_400(request, exception)


def permission_denied(request, exception=None):
    """A 403 raised outside DRF (e.g. a CSRF refusal): JSON under /api/, the friendly page elsewhere."""
    if _under_api(request):
        return JsonResponse({"detail": str(exceptions.PermissionDenied.default_detail)}, status=403)
    from .views import error_403

    return error_403(request, exception)


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: JSON under /api/ (a session client without the token), our page elsewhere."""
    if _under_api(request):
        return JsonResponse({"detail": "CSRF check failed."}, status=403)
    from .views import error_403_csrf

    return error_403_csrf(request, reason)


def not_found(request, exception=None):
    """Unknown URLs under /api/ answer JSON like a missing object; pages keep their HTML 404."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404)
    from .views import error_404

    return error_404(request, exception)


def server_error(request):
    """A bug under /api/ still answers JSON (the error is logged by Django)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(exceptions.APIException.default_detail)}, status=500)
    from .views import error_500

    return error_500(request)
