"""The site's ASGI application with a raw ASGI "hello" beside it, for bench/leaderboard_http.py.

`/bench/hello/` is answered by the smallest possible ASGI app (a fixed JSON body) in the same server process, the
ceiling any path through this server can reach; everything else is the real application.
"""

from goatedvips.asgi import application as site

HELLO = b'{"hello":"world"}'


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/bench/hello/":
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(HELLO)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": HELLO})
        return
    await site(scope, receive, send)
