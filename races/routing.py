from django.urls import path

from races import consumers

websocket_urlpatterns = [
    path("ws/leaderboard/", consumers.LeaderboardConsumer.as_asgi()),
    path("ws/races/<int:race_id>/", consumers.RaceConsumer.as_asgi()),
]
