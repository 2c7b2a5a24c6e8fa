from django.urls import path

from giveaways import consumers

websocket_urlpatterns = [path("ws/raffles/<int:raffle_id>/", consumers.RaffleConsumer.as_asgi())]
