from django.urls import path

from payouts import api

urlpatterns = [
    path("me/payouts/", api.MyPayoutsView.as_view(), name="my-payouts"),
]
