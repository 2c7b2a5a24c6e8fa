"""The JSON API's error shape: every error is `{"error": {"code", "message", "fields"?}}` with the right status."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django_ratelimit.exceptions import Ratelimited
from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ServiceError

logger = logging.getLogger(__name__)

_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_body(status: int, message: str, code: str | None = None, fields: dict | None = None) -> dict:
    body: dict = {"code": code or _CODES.get(status, "error"), "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _flatten(detail) -> str:
    if isinstance(detail, list) and detail:
        return _flatten(detail[0])
    if isinstance(detail, dict) and detail:
        return _flatten(next(iter(detail.values())))
    return str(detail)


def exception_handler(exc, context):
    """Every API error becomes ``{"error": {"code", "message", "fields"?}}`` with the right status."""
    if isinstance(exc, Ratelimited):
        message = "Too many requests. Please wait a minute and try again."
        return Response(error_body(429, message, "rate_limited"), status=429)
    if isinstance(exc, ServiceError):
        return Response(error_body(exc.status_code, exc.message, exc.code, exc.fields), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else None
        message = "; ".join(exc.messages) if exc.messages else "Invalid input."
        return Response(error_body(400, message, "invalid", fields), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500

    status = response.status_code
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            fields = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()}
            message = "Invalid input: " + "; ".join(f"{k}: {v[0]}" for k, v in fields.items())
        else:
            fields = None
            message = _flatten(detail)
        response.data = error_body(status, message, "invalid", fields)
    else:
        code = getattr(exc, "default_code", None) if isinstance(exc, exceptions.APIException) else None
        if isinstance(exc, exceptions.Throttled):
            code = "rate_limited"
        response.data = error_body(status, _flatten(getattr(exc, "detail", str(exc))), code or _CODES.get(status))
    return response


ErrorSerializer = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorBody",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()), required=False
                ),
            },
        )
    },
)


PUBLIC_REVALIDATE = "public, no-cache"


class PublicCacheMixin:
    """Public read-only API views: successful GETs may be kept by browsers and shared proxies, which revalidate
    them each time with the ETag (ConditionalGetMiddleware answers 304 when nothing changed)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            response["Cache-Control"] = PUBLIC_REVALIDATE
        return response
