from django.urls import path

from vip import api

urlpatterns = [
    path("bonus-codes/", api.BonusCodeListView.as_view(), name="bonus-code-list"),
    path("bonus-codes/<str:code>/claim/", api.BonusCodeClaimView.as_view(), name="bonus-code-claim"),
    path("wheel/", api.WheelView.as_view(), name="wheel"),
    path("wheel/spin/", api.WheelSpinView.as_view(), name="wheel-spin"),
    path("wheel/history/", api.WheelHistoryView.as_view(), name="wheel-history"),
]
