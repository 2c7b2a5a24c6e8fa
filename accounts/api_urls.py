from django.urls import path

from accounts import api

urlpatterns = [
    path("auth/token/", api.TokenObtainView.as_view(), name="auth-token"),
    path("me/", api.MeView.as_view(), name="me"),
    path("me/self-exclusion/", api.SelfExclusionView.as_view(), name="me-self-exclusion"),
]
