"""WebSocket URL patterns of every app, gathered in one place for the ASGI router."""

from giveaways.routing import websocket_urlpatterns as giveaways_ws
from notifications.routing import websocket_urlpatterns as notifications_ws
from overlays.routing import websocket_urlpatterns as overlays_ws
from races.routing import websocket_urlpatterns as races_ws
from support.routing import websocket_urlpatterns as support_ws

websocket_urlpatterns: list = [*races_ws, *giveaways_ws, *notifications_ws, *support_ws, *overlays_ws]
