from django.urls import path

from races import views

app_name = "races"

urlpatterns = [
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("races/", views.race_index, name="index"),
    path("races/current/", views.race_current, name="current"),
    path("races/<int:race_id>/", views.race_detail, name="detail"),
    path("races/<int:race_id>/join/", views.race_join_view, name="join"),
    path("players/<str:uid>/", views.player_profile, name="player"),
]
