from django.urls import path

from accounts import consumers

websocket_urlpatterns = [path("ws/notifications/", consumers.NotificationConsumer.as_asgi())]
