"""JSON API for accounts: API tokens and the signed-in user."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django_ratelimit.decorators import ratelimit
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from core.api import ErrorSerializer
from core.ratelimit import password_brake


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(
        max_length=64, required=False, default="", help_text="Staff accounts (STAFF_2FA): the code from the app."
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
    is_staff = serializers.BooleanField()

    def get_telegram_linked(self, user) -> bool:
        return user.telegram_id is not None


class MeView(APIView):
    """The signed-in user's own account."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: MeSerializer, 401: OpenApiResponse(ErrorSerializer, description="Not signed in")})
    def get(self, request):
        return Response(MeSerializer(selectors.user_profile(request.user.pk)).data)
