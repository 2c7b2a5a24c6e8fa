"""JSON API for rewards: bonus codes, the wheel."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django_ratelimit.decorators import ratelimit
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer
from vip import selectors, services

# Documented in docs/rewards.md.
CLAIM_RATE = "10/m"
SPIN_RATE = "5/m"
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input (the wheel is not set up yet)"),
    401: OpenApiResponse(ErrorSerializer, description="Sign in first"),
    403: OpenApiResponse(
        ErrorSerializer,
        description="Refused; error.code is one of email_unconfirmed, not_verified, wager_too_low, already_spun, "
        "already_claimed, limit_reached, expired",
    ),
    404: OpenApiResponse(ErrorSerializer, description="No such code"),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests"),
}


class BonusCodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    required_wager = serializers.DecimalField(max_digits=14, decimal_places=2)
    expires_at = serializers.DateTimeField(allow_null=True)
    remaining = serializers.IntegerField(allow_null=True)
    claimed = serializers.BooleanField()


class ClaimSerializer(serializers.Serializer):
    code = serializers.CharField(source="code.code")
    amount = serializers.DecimalField(source="code.amount", max_digits=14, decimal_places=2)
    claimed_at = serializers.DateTimeField()


class BonusCodeListView(APIView):
    """Active, unexpired codes the signed-in user may claim, with whether they claimed each already."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: BonusCodeSerializer(many=True), 401: ERRORS[401]})
    def get(self, request):
        return Response(BonusCodeSerializer(selectors.bonus_codes_for(request.user), many=True).data)


@method_decorator(
    ratelimit(group="bonus-claim", key="user_or_ip", rate=CLAIM_RATE, method="POST", block=True), name="post"
)
class BonusCodeClaimView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={201: ClaimSerializer, **ERRORS})
    def post(self, request, code: str):
        claim = services.bonus_code_claim(request.user, code)
        return Response(ClaimSerializer(claim).data, status=status.HTTP_201_CREATED)


class SegmentSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    label = serializers.CharField()
    color = serializers.CharField()
    chance = serializers.SerializerMethodField()

    def get_chance(self, segment) -> float:
        return round(segment.weight / self.context["total"], 6)


class RefusalSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="email_unconfirmed, not_verified or already_spun")
    message = serializers.CharField(help_text="What to do next, for people")


class WheelSerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    reason = RefusalSerializer(source="refusal", allow_null=True, help_text="Why you cannot spin (null if you can)")
    next_spin_at = serializers.CharField(allow_null=True)
    server_seed_hash = serializers.CharField(help_text="SHA-256 of the seed your next spin uses (revealed after).")
    nonce = serializers.IntegerField()
    segments = serializers.SerializerMethodField()

    def get_segments(self, state) -> list[dict]:
        total = sum(s.weight for s in state.segments) or 1
        return SegmentSerializer(state.segments, many=True, context={"total": total}).data


class SpinRequestSerializer(serializers.Serializer):
    client_seed = serializers.CharField(required=False, allow_blank=True, max_length=64)


class SpinSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    spin_date = serializers.DateField()
    segment = serializers.CharField(source="segment.label")
    position = serializers.IntegerField(source="segment.position")
    reward_code = serializers.CharField(source="reward_code.code", allow_null=True, default=None)
    reward_amount = serializers.DecimalField(source="segment.reward_amount", max_digits=14, decimal_places=2)
    server_seed = serializers.CharField()
    server_seed_hash = serializers.CharField()
    client_seed = serializers.CharField()
    nonce = serializers.IntegerField()
    roll = serializers.IntegerField()


class WheelView(APIView):
    """Eligibility, the segments with their chances, and the committed hash of your next server seed."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: WheelSerializer, 401: ERRORS[401]})
    def get(self, request):
        return Response(WheelSerializer(services.wheel_state(request.user)).data)


@method_decorator(
    ratelimit(group="wheel-spin", key="user_or_ip", rate=SPIN_RATE, method="POST", block=True), name="post"
)
class WheelSpinView(APIView):
    """Spin once per UTC day; the server picks the outcome and reveals the seed."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=SpinRequestSerializer, responses={201: SpinSerializer, **ERRORS})
    def post(self, request):
        body = SpinRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        spin = services.wheel_spin(request.user, body.validated_data.get("client_seed"))
        return Response(SpinSerializer(spin).data, status=status.HTTP_201_CREATED)


class WheelHistoryView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: SpinSerializer(many=True), 401: ERRORS[401]})
    def get(self, request):
        return Response(SpinSerializer(selectors.wheel_history(request.user), many=True).data)
