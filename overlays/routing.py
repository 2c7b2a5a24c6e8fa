from django.urls import path

from overlays import consumers

websocket_urlpatterns = [
    path("ws/overlay/<str:token>/", consumers.OverlayConsumer.as_asgi()),
]
