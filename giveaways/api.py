"""JSON API of raffles and giveaways (DESIGN §7): lists, a raffle with its winners, its entries in draw order,
entering a giveaway."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django_ratelimit.decorators import ratelimit
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer, PublicCacheMixin
from core.errors import NotFound
from core.pagination import LimitOffsetPagination
from giveaways import selectors, services
from giveaways.models import Raffle

ENTER_RATE = "10/m"


class WinnerSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    uid = serializers.CharField()
    name = serializers.CharField(source="public", help_text="The public name (masked or hidden if they chose so).")
    tickets = serializers.IntegerField()
    prize = serializers.DecimalField(max_digits=14, decimal_places=2)


class RaffleSerializer(serializers.ModelSerializer):
    server_seed = serializers.CharField(source="seed_revealed", allow_null=True, help_text="Null until drawn.")
    entries_digest = serializers.SerializerMethodField(help_text="Null until drawn.")
    winners = serializers.SerializerMethodField()
    kind = serializers.SerializerMethodField(help_text="giveaway (enter once) or wager (tickets from wagers).")
    min_tier = serializers.CharField(source="min_tier.name", allow_null=True, default=None)

    class Meta:
        model = Raffle
        fields = [
            "id", "title", "description", "kind", "status", "starts_at", "ends_at", "prize_pool", "winners_count",
            "prize_distribution", "ticket_wager", "min_tier", "server_seed_hash", "server_seed", "entries_digest",
            "entries_count", "tickets_total", "drawn_at", "winners",
        ]  # fmt: skip

    def get_entries_digest(self, raffle) -> str | None:
        return raffle.entries_digest if raffle.status == Raffle.Status.DRAWN else None

    def get_kind(self, raffle) -> str:
        return "giveaway" if raffle.is_giveaway else "wager"

    def get_winners(self, raffle) -> list[dict]:
        return WinnerSerializer(selectors.raffle_winners(raffle), many=True).data


class RaffleEntrySerializer(serializers.Serializer):
    uid = serializers.CharField()
    name = serializers.CharField()
    tickets = serializers.IntegerField()


class EnteredSerializer(serializers.Serializer):
    raffle = serializers.IntegerField()
    tickets = serializers.IntegerField()


def _raffle(raffle_id: int) -> Raffle:
    raffle = selectors.raffle_get(raffle_id)
    if raffle is None:
        raise NotFound(f"Raffle {raffle_id} does not exist.")
    return raffle


NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such raffle")
BAD_INPUT = OpenApiResponse(ErrorSerializer, description="Bad query parameter")
STATUS_PARAM = OpenApiParameter("status", str, enum=list(Raffle.Status.values))


class RaffleListView(PublicCacheMixin, ListAPIView):
    """Raffles and giveaways, the latest ending first; `status` filters (upcoming, open, drawn, cancelled)."""

    permission_classes = [permissions.AllowAny]
    serializer_class = RaffleSerializer

    @extend_schema(parameters=[STATUS_PARAM], responses={200: RaffleSerializer(many=True), 400: BAD_INPUT})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        wanted = self.request.query_params.get("status")
        if wanted is not None and wanted not in Raffle.Status.values:
            raise serializers.ValidationError({"status": [f"One of {', '.join(Raffle.Status.values)}."]})
        return selectors.raffle_list(status=wanted)


class RaffleDetailView(PublicCacheMixin, APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: RaffleSerializer, 404: NOT_FOUND})
    def get(self, request, raffle_id: int):
        return Response(RaffleSerializer(_raffle(raffle_id)).data)


class RaffleEntriesView(PublicCacheMixin, APIView):
    """The entries in draw order (uid, code-point order): once drawn, exactly the hashed set; before, the live
    tickets of every player who counts."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", int, description="1 to 100 (default 25)"),
            OpenApiParameter("offset", int, description="0 to 10,000,000"),
        ],
        responses={200: RaffleEntrySerializer(many=True), 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def get(self, request, raffle_id: int):
        rows = selectors.raffle_entries(_raffle(raffle_id))
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(RaffleEntrySerializer(page, many=True).data)


@method_decorator(
    ratelimit(group="raffle-enter", key="user_or_ip", rate=ENTER_RATE, method="POST", block=True), name="post"
)
class RaffleEnterView(APIView):
    """Enter a giveaway (one ticket). 409 `already_entered`, `not_a_giveaway`, `raffle_closed`; 403 with the
    reward refusal codes."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=None,
        responses={
            201: EnteredSerializer,
            401: OpenApiResponse(ErrorSerializer, description="Sign in first"),
            403: OpenApiResponse(ErrorSerializer, description="email_unconfirmed, not_verified, wager_too_low"),
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="already_entered, not_a_giveaway, raffle_closed"),
        },
    )
    def post(self, request, raffle_id: int):
        entered = services.raffle_enter(raffle_id, request.user)
        return Response(EnteredSerializer(entered).data, status=status.HTTP_201_CREATED)
