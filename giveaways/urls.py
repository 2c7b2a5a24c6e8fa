from django.urls import path

from giveaways import views

app_name = "giveaways"

urlpatterns = [
    path("raffles/", views.raffle_index, name="index"),
    path("raffles/<int:raffle_id>/", views.raffle_detail, name="detail"),
    path("raffles/<int:raffle_id>/enter/", views.raffle_enter, name="enter"),
    path("raffles/<int:raffle_id>/verify/", views.raffle_verify, name="verify"),
]
