"""The v1 API root: links to each resource and to the schema and docs."""

from __future__ import annotations

from django.urls import NoReverseMatch
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

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
