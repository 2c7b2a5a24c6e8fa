from django.urls import path

from races import api

urlpatterns = [
    path("leaderboard/", api.LeaderboardView.as_view(), name="leaderboard"),
    path("leaderboard/around/", api.LeaderboardAroundView.as_view(), name="leaderboard-around"),
    path("races/", api.RaceListView.as_view(), name="race-list"),
    path("races/current/", api.RaceCurrentView.as_view(), name="race-current"),
    path("races/<int:race_id>/", api.RaceDetailView.as_view(), name="race-detail"),
    path("races/<int:race_id>/results/", api.RaceResultsView.as_view(), name="race-results"),
    path("races/<int:race_id>/progress/", api.RaceProgressView.as_view(), name="race-progress"),
    path("races/<int:race_id>/around/", api.RaceAroundView.as_view(), name="race-around"),
    path("races/<int:race_id>/join/", api.RaceJoinView.as_view(), name="race-join"),
    path("me/rank/", api.MyRankView.as_view(), name="my-rank"),
]
