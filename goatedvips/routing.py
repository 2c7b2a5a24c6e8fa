"""WebSocket URL patterns of every app, gathered in one place for the ASGI router."""

from accounts.routing import websocket_urlpatterns as accounts_ws
from races.routing import websocket_urlpatterns as races_ws
from support.routing import websocket_urlpatterns as support_ws

websocket_urlpatterns: list = [*races_ws, *accounts_ws, *support_ws]
