from django.urls import path

from giveaways import api

urlpatterns = [
    path("raffles/", api.RaffleListView.as_view(), name="raffle-list"),
    path("raffles/<int:raffle_id>/", api.RaffleDetailView.as_view(), name="raffle-detail"),
    path("raffles/<int:raffle_id>/entries/", api.RaffleEntriesView.as_view(), name="raffle-entries"),
    path("raffles/<int:raffle_id>/enter/", api.RaffleEnterView.as_view(), name="raffle-enter"),
]
