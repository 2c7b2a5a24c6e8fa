"""The v1 API root (links to each resource and to the schema and docs) and the account export."""

from __future__ import annotations

from django.urls import NoReverseMatch
from django.utils.decorators import method_decorator
from django_ratelimit.decorators import ratelimit
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from goatedvips.export import account_export

EXPORT_RATE = "5/h"  # an export reads every table about the account
# Named routes listed by the API root, in display order.
ROOT_LINKS = {
    "leaderboard": "api:leaderboard",
    "races": "api:race-list",
    "current_race": "api:race-current",
    "bonus_codes": "api:bonus-code-list",
    "wheel": "api:wheel",
    "support_tickets": "api:ticket-list",
    "notifications": "api:notification-list",
    "me": "api:me",
    "raffles": "api:raffle-list",
    "auth_token": "api:auth-token",
    "schema": "schema",
    "docs": "swagger-ui",
}


class ApiRootView(APIView):
    """Index of the v1 API: links to each resource and to the schema and docs."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer("ApiRoot", {"name": serializers.CharField(), "links": serializers.DictField()})
    )
    def get(self, request):
        links = {}
        for key, name in ROOT_LINKS.items():
            try:
                links[key] = reverse(name, request=request)
            except NoReverseMatch:  # a subsystem that is switched off or not built yet
                continue
        return Response({"name": "GoatedVIPs API", "version": "v1", "links": links})


@method_decorator(ratelimit(group="account-export", key="user", rate=EXPORT_RATE, block=True), name="get")
class AccountExportView(APIView):
    """Everything stored about your account, as one JSON document (goatedvips/export.py says what is in it)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: OpenApiResponse(description="The export document"),
                              401: OpenApiResponse(description="Not signed in"),
                              429: OpenApiResponse(description="At most a few exports an hour")})  # fmt: skip
    def get(self, request):
        response = Response(account_export(request.user))
        response["Content-Disposition"] = f'attachment; filename="goatedvips-export-{request.user.pk}.json"'
        response["Cache-Control"] = "no-store"
        return response
