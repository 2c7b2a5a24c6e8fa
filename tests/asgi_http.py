"""One HTTP request straight into an ASGI application, for tests of the layers in front of Django."""

from __future__ import annotations

import asyncio


async def asgi_request(
    app, path: str, headers: list[tuple[bytes, bytes]], query: bytes = b"", method: str = "GET"
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """(status, headers as sent, body) of `app`'s answer; the client never disconnects while it is sent."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query, "headers": list(headers),
        "client": ("10.0.0.9", 50000), "server": ("testserver", 80),
    }  # fmt: skip
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():
        if messages:
            return messages.pop()
        await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], start["headers"], body
