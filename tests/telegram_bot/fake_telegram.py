"""A local Bot API server for tests: records every call and answers like Telegram (pytest-httpserver)."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field

from werkzeug import Request, Response

TOKEN = "123456:TEST-token_for-goatedvips"
BOT_ID = 123456


@dataclass
class Call:
    method: str
    params: dict
    at: float


@dataclass
class FakeTelegram:
    calls: list[Call] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    failing: int = 0  # how many of the next sendMessage calls answer 502 (Telegram having a bad moment)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def handle(self, request: Request) -> Response:
        method = request.path.rsplit("/", 1)[-1]
        params = dict(request.form) if request.form else (request.get_json(silent=True) or {})
        with self.lock:
            self.calls.append(Call(method, params, time.monotonic()))
        chat_id = int(params.get("chat_id", 0) or 0)
        if method == "sendMessage" and self.failing > 0:
            with self.lock:
                self.failing -= 1
            return _reply({"ok": False, "error_code": 502, "description": "Bad Gateway"}, 502)
        if method == "sendMessage" and chat_id in self.blocked:
            return _reply(
                {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}, 403
            )
        if method == "getMe":
            return _ok({"id": BOT_ID, "is_bot": True, "first_name": "GoatedVIPs", "username": "GoatedVIPsBot"})
        if method in ("sendMessage", "editMessageReplyMarkup"):
            return _ok(
                {
                    "message_id": next(self.ids),
                    "date": int(time.time()),
                    "chat": {"id": chat_id or 1, "type": "private"},
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "GoatedVIPs"},
                    "text": params.get("text", ""),
                }
            )
        return _ok(True)  # answerCallbackQuery, deleteWebhook, setWebhook...

    def sent(self, chat_id: int | None = None) -> list[str]:
        return [
            c.params.get("text", "")
            for c in self.calls
            if c.method == "sendMessage" and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)
        ]

    def last(self, chat_id: int) -> str:
        texts = self.sent(chat_id)
        assert texts, f"nothing was sent to {chat_id}; calls: {[c.method for c in self.calls]}"
        return texts[-1]

    def wait_for(self, chat_id: int, containing: str, timeout: float = 10.0) -> str:
        """The first message to `chat_id` containing `containing`, waiting for work done in the background."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for text in self.sent(chat_id):
                if containing in text:
                    return text
            time.sleep(0.02)
        raise AssertionError(f"no message to {chat_id} containing {containing!r}; sent: {self.sent(chat_id)}")


def _ok(result) -> Response:
    return _reply({"ok": True, "result": result})


def _reply(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def install(httpserver) -> FakeTelegram:
    fake = FakeTelegram()
    httpserver.expect_request(re.compile(rf"^/bot{re.escape(TOKEN)}/\w+$")).respond_with_handler(fake.handle)
    return fake


_update_ids = itertools.count(1)


def message(
    text: str, *, user_id: int, chat_type: str = "private", username: str = "player", first_name: str = "Goat"
) -> dict:
    chat_id = user_id if chat_type == "private" else -1000 - user_id
    entities = []
    if text.startswith("/"):
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_update_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type, **({"title": "Goat fans"} if chat_type != "private" else {})},
            "from": {"id": user_id, "is_bot": False, "first_name": first_name, "username": username},
            "text": text,
            "entities": entities,
        },
    }


def button(data: str, *, user_id: int) -> dict:
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "from": {"id": user_id, "is_bot": False, "first_name": "Staff", "username": "staffer"},
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": next(_update_ids),
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "GoatedVIPs"},
                "text": "request",
            },
        },
    }
