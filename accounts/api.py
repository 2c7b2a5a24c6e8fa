"""JSON API for accounts: API tokens and the signed-in user."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django_ratelimit.decorators import ratelimit
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import erasure, privacy, selectors, selfexclusion, services
from accounts.models import SelfExclusion
from core.api import ErrorSerializer
from core.ratelimit import password_brake
from races.feed.names import display_of


class TokenRequestSerializer(serializers.Serializer):
    # Credentials are taken as typed: a username of spaces is a wrong username (401-style answer), not bad input.
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(
        max_length=64,
        required=False,
        default="",
        allow_blank=True,
        help_text="Staff accounts (STAFF_2FA): the code from the app.",
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


@method_decorator(ratelimit(key="ip", rate="10/m", method="POST", block=True), name="post")
class TokenObtainView(APIView):
    """Exchange a username and password for an API token (`Authorization: Token <key>`). Staff accounts (with
    STAFF_2FA on) also send `otp`, the code from their authenticator app (or a recovery code)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="Bad credentials or input; `otp_required` or `otp_invalid` for a staff account",
            ),
            403: OpenApiResponse(
                ErrorSerializer,
                description="`two_factor_not_enrolled`: a staff account without the second factor set up",
            ),
            429: OpenApiResponse(
                ErrorSerializer,
                description="Too many attempts (10 a minute per IP, and per username whatever the address)",
            ),
        },
        auth=[],
    )
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        password_brake(request._request, data.validated_data["username"])  # shared with the sign-in forms
        token = services.api_token_obtain(request=request._request, **data.validated_data)
        return Response({"token": token})


class PlayerRefSerializer(serializers.Serializer):
    uid = serializers.CharField()
    name = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    display_name = serializers.CharField()
    bio = serializers.CharField()
    profile_color = serializers.CharField()
    show_stats = serializers.BooleanField()
    email_verified = serializers.BooleanField()
    verification_status = serializers.CharField()
    telegram_username = serializers.CharField()
    telegram_linked = serializers.SerializerMethodField()
    player = PlayerRefSerializer(allow_null=True)
    name_display = serializers.SerializerMethodField(
        help_text="How your Goated name appears to others: full, masked or hidden (null without a linked player)."
    )
    self_excluded_until = serializers.DateTimeField(allow_null=True, help_text="Self-excluded until then (or null).")
    is_staff = serializers.BooleanField()

    def get_name_display(self, user) -> str | None:
        choice = privacy.name_display_of(user)
        return None if choice is None else display_of(choice)

    def get_telegram_linked(self, user) -> bool:
        return user.telegram_id is not None


class EraseRequestSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


NOT_SIGNED_IN = OpenApiResponse(ErrorSerializer, description="Not signed in")


class MePatchSerializer(serializers.Serializer):
    name_display = serializers.ChoiceField(choices=privacy.NAME_DISPLAYS)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields) if isinstance(self.initial_data, dict) else set()
        if unknown:
            raise serializers.ValidationError({name: ["Not a field you can change here."] for name in sorted(unknown)})
        return attrs


class MeView(APIView):
    """The signed-in user's own account."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: MeSerializer, 401: OpenApiResponse(ErrorSerializer, description="Not signed in")})
    def get(self, request):
        return Response(MeSerializer(selectors.user_profile(request.user.pk)).data)

    @extend_schema(
        request=EraseRequestSerializer,
        responses={204: None, 400: OpenApiResponse(ErrorSerializer, description="Wrong or missing password"),
                   401: NOT_SIGNED_IN, 429: OpenApiResponse(ErrorSerializer, description="Too many password attempts")},
    )  # fmt: skip
    def delete(self, request):
        """Erase your personal data (docs/privacy.md): the account can no longer sign in; payouts, claims and
        audit rows stay under a pseudonym."""
        data = EraseRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        password_brake(request, request.user.get_username())
        erasure.account_erase(request.user, password=data.validated_data["password"])
        return Response(status=204)

    @extend_schema(
        request=MePatchSerializer,
        responses={200: MeSerializer, 400: OpenApiResponse(ErrorSerializer, description="Bad value"),
                   401: NOT_SIGNED_IN,
                   409: OpenApiResponse(ErrorSerializer, description="not_linked: no Goated player linked")},
    )  # fmt: skip
    def patch(self, request):
        data = MePatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        privacy.name_display_set(request.user, data.validated_data["name_display"])
        return Response(MeSerializer(selectors.user_profile(request.user.pk)).data)


class SelfExclusionRequestSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=SelfExclusion.Period.values)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class SelfExclusionSerializer(serializers.Serializer):
    period = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True, help_text="Null: permanent.")


class SelfExclusionView(APIView):
    """Step away: no rewards, entries, promotional or race messages, and a hidden name for the period (1d, 7d, 30d,
    180d, permanent). It cannot be shortened or lifted early. Your password confirms it."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=SelfExclusionRequestSerializer,
        responses={201: SelfExclusionSerializer, 400: OpenApiResponse(ErrorSerializer, description="Bad input"),
                   401: NOT_SIGNED_IN,
                   409: OpenApiResponse(ErrorSerializer, description="cannot_shorten"),
                   429: OpenApiResponse(ErrorSerializer, description="Too many password attempts")},
    )  # fmt: skip
    def post(self, request):
        data = SelfExclusionRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        password_brake(request, request.user.get_username())
        exclusion = selfexclusion.self_exclusion_start(
            request.user, data.validated_data["period"], password=data.validated_data["password"]
        )
        return Response(SelfExclusionSerializer(exclusion).data, status=201)
