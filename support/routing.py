from django.urls import path

from support import consumers

websocket_urlpatterns = [path("ws/support/<int:ticket_id>/", consumers.TicketConsumer.as_asgi())]
