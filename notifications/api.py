"""JSON API for a player's own notifications: list (optionally unread only) and mark read."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer
from core.pagination import parse_bounded_int
from notifications import selectors, services

MAX_LIMIT = 100


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    url = serializers.CharField()
    created_at = serializers.DateTimeField()
    read = serializers.SerializerMethodField()

    def get_read(self, note) -> bool:
        return note.read_at is not None


class NotificationListSerializer(serializers.Serializer):
    unread = serializers.IntegerField(help_text="Unread notifications of the signed-in user")
    count = serializers.IntegerField(help_text="Notifications matching the query (before limit/offset)")
    results = NotificationSerializer(many=True)


class ReadRequestSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=1000)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, data):
        if not data.get("all") and not data.get("ids"):
            raise serializers.ValidationError('Send {"ids": [...]} or {"all": true}.')
        return data


class ReadResponseSerializer(serializers.Serializer):
    updated = serializers.IntegerField()
    unread = serializers.IntegerField()


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad query or body"),
    401: OpenApiResponse(ErrorSerializer, description="Sign in first"),
}


class NotificationListView(APIView):
    """Your notifications, newest first; `?unread=1` for unread ones only."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("unread", {"type": "integer", "enum": [0, 1]}, description="1: unread only"),
            OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 25}),
            OpenApiParameter("offset", {"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0}),
        ],
        responses={200: NotificationListSerializer, **ERRORS},
    )
    def get(self, request):
        unread_only = parse_bounded_int(request.query_params.get("unread", "0"), "unread", 0, 1) == 1
        limit = parse_bounded_int(request.query_params.get("limit", "25"), "limit", 1, MAX_LIMIT)
        offset = parse_bounded_int(request.query_params.get("offset", "0"), "offset", 0, 10_000_000)
        notes = selectors.notifications_for(request.user, unread_only=unread_only)
        body = {
            "unread": selectors.notifications_unread_count(request.user),
            "count": notes.count(),
            "results": NotificationSerializer(notes[offset : offset + limit], many=True).data,
        }
        return Response(body)


class NotificationReadView(APIView):
    """Mark some of your notifications read (`{"ids": [...]}`) or all of them (`{"all": true}`)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=ReadRequestSerializer, responses={200: ReadResponseSerializer, **ERRORS})
    def post(self, request):
        data = ReadRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.notifications_mark_read(
            request.user, ids=data.validated_data.get("ids"), everything=data.validated_data["all"]
        )
        return Response({"updated": updated, "unread": selectors.notifications_unread_count(request.user)})
