"""The signed-in player's payouts in the JSON API."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer
from core.pagination import parse_bounded_int
from payouts.models import Payout
from payouts.selectors import payouts_for_user

BAD_INPUT = OpenApiResponse(ErrorSerializer, description="Bad query parameter")
NOT_SIGNED_IN = OpenApiResponse(ErrorSerializer, description="Sign in first")


class PayoutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    source = serializers.CharField(help_text="race or raffle")
    race = serializers.SerializerMethodField(help_text="The race the prize was won in (null for a raffle prize).")
    raffle = serializers.SerializerMethodField(help_text="The raffle the prize was won in (null for a race prize).")
    rank = serializers.IntegerField(source="place", help_text="The rank in the race or the position drawn.")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    status = serializers.CharField()
    destination = serializers.CharField()
    reference = serializers.SerializerMethodField()
    paid_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()

    @extend_schema_field({"type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}})
    def get_race(self, payout):
        return {"id": payout.race_id, "title": payout.race.title} if payout.race_id else None

    @extend_schema_field({"type": "object", "nullable": True,
                          "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}})  # fmt: skip
    def get_raffle(self, payout):
        return {"id": payout.raffle_id, "title": payout.raffle.title} if payout.raffle_id else None

    def get_reference(self, payout) -> str:
        return payout.reference if payout.status == Payout.Status.PAID else ""


class PayoutListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = PayoutSerializer(many=True)


class MyPayoutsView(APIView):
    """Your prizes and where their payment stands (pending, approved, paid, failed, cancelled), newest first."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}),
            OpenApiParameter("offset", {"type": "integer", "minimum": 0, "default": 0}),
        ],
        responses={200: PayoutListSerializer, 400: BAD_INPUT, 401: NOT_SIGNED_IN},
    )
    def get(self, request):
        limit = parse_bounded_int(request.query_params.get("limit", "25"), "limit", 1, 100)
        offset = parse_bounded_int(request.query_params.get("offset", "0"), "offset", 0, 10_000_000)
        payouts = payouts_for_user(request.user)
        results = PayoutSerializer(payouts[offset : offset + limit], many=True).data
        return Response({"count": payouts.count(), "results": results})
