"""JSON API for races: list, current, detail with standings, results, progress history."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer, PublicCacheMixin
from core.errors import Conflict, NotFound
from core.pagination import parse_bounded_int
from races.feed.client import UID_RE
from races.feed.leaderboard import AROUND_MAX, PERIODS, leaderboard_around, leaderboard_page_json, player_ranks
from races.models import LeaderboardPeriod, RaceEntry, WagerRace
from races.selectors import races as selectors
from races.services.entries import race_join

MAX_STANDINGS = 100
BAD_INPUT = OpenApiResponse(ErrorSerializer, description="Bad query parameter")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such race")
NOT_SIGNED_IN = OpenApiResponse(ErrorSerializer, description="Sign in first")
REFUSED = OpenApiResponse(ErrorSerializer, description="Refused by the race's entry rules (the code says why)")


def _choice(request, name: str, choices, *, default: str | None = None) -> str | None:
    value = request.query_params.get(name, default)
    allowed = [c for c, _ in choices]
    if value is not None and value not in allowed:
        raise ValidationError({name: [f"Must be one of: {', '.join(allowed)}."]})
    return value


class PrizeRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    percent = serializers.DecimalField(max_digits=7, decimal_places=3)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class StandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    uid = serializers.CharField()
    name = serializers.CharField()
    wagered = serializers.DecimalField(max_digits=24, decimal_places=2)
    prize = serializers.DecimalField(max_digits=14, decimal_places=2)
    prize_eligible = serializers.BooleanField()


# The standings' fields, bound once: a race answer of 100 rows spent a third of its time building a serializer and
# its fields per row. `standings_data` gives the same representation as `StandingSerializer(rows, many=True).data`
# (tests/races/test_race_api.py compares them) from the same field classes.
_STANDING_FIELDS = tuple((name, field.to_representation) for name, field in StandingSerializer().fields.items())


def standings_data(rows) -> list[dict]:
    return [
        {name: None if (value := getattr(row, name)) is None else show(value) for name, show in _STANDING_FIELDS}
        for row in rows
    ]


class RaceSerializer(serializers.ModelSerializer):
    time_left_seconds = serializers.SerializerMethodField()

    class Meta:
        model = WagerRace
        fields = [
            "id",
            "title",
            "type",
            "status",
            "prize_pool",
            "start_date",
            "end_date",
            "min_wager",
            "prize_distribution",
            "recurrence",
            "entry",
            "max_participants",
            "time_left_seconds",
        ]

    def get_time_left_seconds(self, race) -> int:
        return selectors.race_time_left(race)


class RaceDetailSerializer(RaceSerializer):
    prizes = serializers.SerializerMethodField()
    standings_total = serializers.SerializerMethodField()
    standings = serializers.SerializerMethodField()

    class Meta(RaceSerializer.Meta):
        fields = [*RaceSerializer.Meta.fields, "rules", "description", "prizes", "standings_total", "standings"]

    @extend_schema_field(PrizeRowSerializer(many=True))
    def get_prizes(self, race):
        return PrizeRowSerializer(selectors.race_prize_rows(race), many=True).data

    def get_standings_total(self, race) -> int:
        return self.context["standings"][0]

    @extend_schema_field(StandingSerializer(many=True))
    def get_standings(self, race):
        return standings_data(self.context["standings"][1])


class ProgressEntrySerializer(serializers.Serializer):
    uid = serializers.CharField()
    name = serializers.CharField()
    wagered = serializers.DecimalField(max_digits=24, decimal_places=2)
    rank = serializers.IntegerField()


class ProgressSampleSerializer(serializers.Serializer):
    taken_at = serializers.DateTimeField()
    standings = serializers.SerializerMethodField()

    @extend_schema_field(ProgressEntrySerializer(many=True))
    def get_standings(self, sample):
        rows = [{"uid": u, "name": n, "wagered": w, "rank": r} for u, n, w, r in sample.standings]
        return ProgressEntrySerializer(rows, many=True).data


class ProgressSerializer(serializers.Serializer):
    race_id = serializers.IntegerField()
    samples = ProgressSampleSerializer(many=True)


STATUS_PARAM = OpenApiParameter("status", str, enum=[c for c, _ in WagerRace.Status.choices])
TYPE_PARAM = OpenApiParameter("type", str, enum=[c for c, _ in WagerRace.Type.choices])
STANDINGS_PARAMS = [
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_STANDINGS, "default": 50},
        description="Standings rows",
    ),
    OpenApiParameter(
        "offset", {"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0}, description="Rows to skip"
    ),
]


def _detail_response(request, race: WagerRace) -> Response:
    limit = parse_bounded_int(request.query_params.get("limit", "50"), "limit", 1, MAX_STANDINGS)
    offset = parse_bounded_int(request.query_params.get("offset", "0"), "offset", 0, 10_000_000)
    standings = selectors.race_standings(race, limit=limit, offset=offset)
    return Response(RaceDetailSerializer(race, context={"standings": standings}).data)


class RaceListView(PublicCacheMixin, ListAPIView):
    """Races, newest first; filter by `status` and `type`."""

    permission_classes = [AllowAny]  # public data

    serializer_class = RaceSerializer

    @extend_schema(parameters=[STATUS_PARAM, TYPE_PARAM], responses={200: RaceSerializer(many=True), 400: BAD_INPUT})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.race_list(
            status=_choice(self.request, "status", WagerRace.Status.choices),
            race_type=_choice(self.request, "type", WagerRace.Type.choices),
        )


class RaceCurrentView(PublicCacheMixin, APIView):
    """The live race of a type (default `monthly`) with its standings and prize table."""

    permission_classes = [AllowAny]  # public data

    @extend_schema(
        parameters=[TYPE_PARAM, *STANDINGS_PARAMS],
        responses={200: RaceDetailSerializer, 400: BAD_INPUT, 404: OpenApiResponse(ErrorSerializer, "No live race")},
    )
    def get(self, request):
        race_type = _choice(request, "type", WagerRace.Type.choices, default=WagerRace.Type.MONTHLY)
        race = selectors.race_current(race_type)
        if race is None:
            raise NotFound(f"No {race_type} race is live right now.")
        return _detail_response(request, race)


class RaceDetailView(PublicCacheMixin, APIView):
    """One race with its standings (live, or final once completed), prize table and time left."""

    permission_classes = [AllowAny]  # public data

    @extend_schema(parameters=STANDINGS_PARAMS, responses={200: RaceDetailSerializer, 400: BAD_INPUT, 404: NOT_FOUND})
    def get(self, request, race_id: int):
        return _detail_response(request, selectors.race_get(race_id))


class RaceResultsView(PublicCacheMixin, APIView):
    """Final standings and prizes of a completed race."""

    permission_classes = [AllowAny]  # public data

    @extend_schema(
        responses={
            200: StandingSerializer(many=True),
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="The race has not been finalized yet"),
        }
    )
    def get(self, request, race_id: int):
        race = selectors.race_get(race_id)
        if race.status != WagerRace.Status.COMPLETED:
            status = race.get_status_display().lower()
            raise Conflict(f"“{race.title}” is {status}; results exist once it is completed.", code="not_finalized")
        return Response(standings_data(selectors.race_results(race)))


class RaceProgressView(PublicCacheMixin, APIView):
    """Samples of the race's top players over time, for a rank-over-time chart."""

    permission_classes = [AllowAny]  # public data

    @extend_schema(responses={200: ProgressSerializer, 404: NOT_FOUND})
    def get(self, request, race_id: int):
        race = selectors.race_get(race_id)
        return Response(ProgressSerializer({"race_id": race.pk, "samples": selectors.race_progress(race)}).data)


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    uid = serializers.CharField()
    name = serializers.CharField()
    wagered = serializers.DecimalField(max_digits=24, decimal_places=2)
    tier = serializers.CharField(allow_null=True)


class LeaderboardSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=PERIODS)
    updated_at = serializers.DateTimeField(allow_null=True, help_text="When the feed data was fetched (last sync).")
    total = serializers.IntegerField(help_text="Ranked players in the period (those with a wager above zero).")
    results = LeaderboardRowSerializer(many=True)


LEADERBOARD_MAX_LIMIT = 100


class LeaderboardView(PublicCacheMixin, APIView):
    """Global ranks of a period, served from the cache the last successful sync refreshed."""

    permission_classes = [AllowAny]  # public data

    # Public data: no session or token parsing on the hottest endpoint.
    authentication_classes: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("period", str, enum=PERIODS, default=LeaderboardPeriod.MONTHLY.value),
            OpenApiParameter(
                "limit", {"type": "integer", "minimum": 1, "maximum": LEADERBOARD_MAX_LIMIT, "default": 25}
            ),
            OpenApiParameter("offset", {"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0}),
        ],
        responses={200: LeaderboardSerializer, 400: BAD_INPUT},
    )
    def get(self, request):
        period = _choice(request, "period", LeaderboardPeriod.choices, default=LeaderboardPeriod.MONTHLY.value)
        limit = parse_bounded_int(request.query_params.get("limit", "25"), "limit", 1, LEADERBOARD_MAX_LIMIT)
        offset = parse_bounded_int(request.query_params.get("offset", "0"), "offset", 0, 10_000_000)
        # Rows are cached already serialized: a warm request runs no query and no serializer.
        return HttpResponse(leaderboard_page_json(period, limit, offset), content_type="application/json")


# --- around a player ---------------------------------------------------------------------------------------------


AROUND_PARAMS = [
    OpenApiParameter(
        "uid",
        {"type": "string", "pattern": UID_RE.pattern},
        required=True,
        description="The player's Goated uid",
    ),
    OpenApiParameter(
        "n", {"type": "integer", "minimum": 0, "maximum": AROUND_MAX, "default": 5}, description="Rows either side"
    ),
]
UNKNOWN_UID = OpenApiResponse(ErrorSerializer, description="No player with that uid")


def _around_query(request) -> tuple[str, int]:
    uid = request.query_params.get("uid", "")
    if not uid.strip():
        raise ValidationError({"uid": ["Required: the player's Goated uid."]})
    if not UID_RE.match(uid):
        raise ValidationError({"uid": ["A Goated uid: 1 to 64 letters, digits, _ or -."]})
    return uid, parse_bounded_int(request.query_params.get("n", "5"), "n", 0, AROUND_MAX)


class LeaderboardAroundSerializer(LeaderboardSerializer):
    uid = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True, help_text="Null when the player wagered nothing this period.")


class LeaderboardAroundView(PublicCacheMixin, APIView):
    """A player's row on the leaderboard with `n` rows above and below (fewer at the ends)."""

    permission_classes = [AllowAny]  # public data
    authentication_classes: list = []

    @extend_schema(
        parameters=[OpenApiParameter("period", str, enum=PERIODS, default=LeaderboardPeriod.MONTHLY.value),
                    *AROUND_PARAMS],
        responses={200: LeaderboardAroundSerializer, 400: BAD_INPUT, 404: UNKNOWN_UID},
    )  # fmt: skip
    def get(self, request):
        period = _choice(request, "period", LeaderboardPeriod.choices, default=LeaderboardPeriod.MONTHLY.value)
        uid, n = _around_query(request)
        return Response(leaderboard_around(period, uid, n))


class RaceAroundSerializer(serializers.Serializer):
    race_id = serializers.IntegerField()
    status = serializers.CharField()
    standings_total = serializers.IntegerField()
    uid = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True, help_text="Null when the player has not wagered in the race.")
    standings = StandingSerializer(many=True)


class RaceAroundView(PublicCacheMixin, APIView):
    """A player's row in a race's standings (live, or final once completed) with `n` rows either side."""

    permission_classes = [AllowAny]  # public data

    @extend_schema(parameters=AROUND_PARAMS, responses={200: RaceAroundSerializer, 400: BAD_INPUT, 404: NOT_FOUND})
    def get(self, request, race_id: int):
        uid, n = _around_query(request)
        race = selectors.race_get(race_id)
        total, rank, rows = selectors.race_around(race, uid, n)
        body = {"race_id": race.pk, "status": race.status, "standings_total": total, "uid": uid, "rank": rank,
                "standings": rows}  # fmt: skip
        return Response(RaceAroundSerializer(body).data)


class PeriodRankSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True)
    wagered = serializers.DecimalField(max_digits=24, decimal_places=2)
    total = serializers.IntegerField()


class MyRaceRankSerializer(serializers.Serializer):
    race_id = serializers.IntegerField()
    title = serializers.CharField()
    rank = serializers.IntegerField()
    standings_total = serializers.IntegerField()
    wagered = serializers.DecimalField(max_digits=24, decimal_places=2)
    prize = serializers.DecimalField(max_digits=14, decimal_places=2)
    end_date = serializers.DateTimeField()


class MyRankSerializer(serializers.Serializer):
    linked = serializers.BooleanField(help_text="False until a Goated account is verified as yours.")
    uid = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    tier = serializers.CharField(allow_null=True)
    periods = serializers.DictField(child=PeriodRankSerializer(), help_text="By period: today, weekly, ...")
    races = MyRaceRankSerializer(many=True)


class MyRankView(APIView):
    """Your linked Goated account's rank in every leaderboard period and in each live race you are in."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: MyRankSerializer, 401: NOT_SIGNED_IN})
    def get(self, request):
        ranks = player_ranks(request.user.player_id) if request.user.player_id else None
        if ranks is None:
            body = {"linked": False, "uid": None, "name": None, "tier": None, "periods": {}, "races": []}
        else:
            body = {"linked": True, **ranks, "races": selectors.player_live_races(request.user.player_id)}
        return Response(MyRankSerializer(body).data)


# --- joining opt-in races ---------------------------------------------------------------------


class EntrySerializer(serializers.Serializer):
    race = serializers.IntegerField(source="race_id")
    player = serializers.CharField(source="player.uid")
    joined_at = serializers.DateTimeField()
    source = serializers.CharField()


class RaceJoinView(APIView):
    """Join an opt-in race with your linked Goated account. 409 with a code when refused: `not_opt_in`,
    `race_full`, `tier_too_low`, `race_over`, `not_linked`. Joining twice answers 200 with the same entry."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={201: EntrySerializer, 200: EntrySerializer, 401: NOT_SIGNED_IN,
                                            404: NOT_FOUND, 409: REFUSED})  # fmt: skip
    def post(self, request, race_id: int):
        before = RaceEntry.objects.filter(race_id=race_id, player_id=request.user.player_id).exists()
        entry = race_join(race_id, player=request.user.player, user=request.user, source=RaceEntry.Source.API)
        return Response(EntrySerializer(entry).data, status=200 if before else 201)
