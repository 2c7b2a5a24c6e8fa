"""ASGI entry point: HTTP through Django (the page cache and the leaderboard API's fast path in front), WebSockets
through Channels.

WebSocket connections are only accepted from allowed hosts (AllowedHostsOriginValidator) and carry the
Django session (AuthMiddlewareStack) so consumers know the signed-in user.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goatedvips.settings")

# Django must be set up before anything imports models (consumers do).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from goatedvips.fastpath import LeaderboardFastPath  # noqa: E402
from goatedvips.pagecache import AnonymousPageCache  # noqa: E402
from goatedvips.routing import websocket_urlpatterns  # noqa: E402

# In front of Django, answering only what they can answer exactly as Django would: the hottest pages for visitors
# without cookies (Django's last answer, for up to PAGE_CACHE_SECONDS), GET /api/v1/leaderboard/ from memory.
http_app = django_asgi_app
if settings.PAGE_CACHE_SECONDS > 0:
    http_app = AnonymousPageCache(http_app)
if settings.LEADERBOARD_FAST_PATH:
    http_app = LeaderboardFastPath(http_app)

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# A web process holds one consumer per open socket; with Python's default thresholds a full (generation 2)
# collection ran every few events and walked them all: pauses of 80-250 ms with 500 sockets, the whole p99 of a
# fan-out (bench/fanout.py, docs/performance.md). Objects loaded at start-up never die: freeze them out of every
# collection, and collect the young generation less often (the cost of each pass stays small).
gc.collect()
gc.freeze()
gc.set_threshold(50_000, 20, 100)
