"""A local Bot API server for tests: records every call and answers like Telegram (pytest-httpserver)."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug import Request, Response

TOKEN = "123456:TEST-token_for-goatedvips"
ADMIN_FLAGS = (  # the other rights of a ChatMemberAdministrator, all required by the Bot API's schema
    "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
    "can_delete_stories", "can_send_welcome_messages",
)  # fmt: skip
BOT_ID = 123456
HOLD_SECONDS_MAX = 20  # a held call is answered after this anyway, so a failing test never hangs the server


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
    rate_limited: int = 0  # how many of the next sendMessage calls answer 429 "retry after `retry_after` seconds"
    retry_after: int = 1
    edited: dict = field(default_factory=dict)  # (chat, message) -> the text an edit left there
    admins: dict = field(default_factory=dict)  # chat -> {user id: may restrict members}; the rest are members
    # While set, every sendMessage waits for the event (Telegram on a bad day, for as long as a test needs).
    hold: threading.Event | None = None
    clock: Callable[[], float] = time.monotonic  # what `Call.at` reads; a test may pass its own
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def handle(self, request: Request) -> Response:
        method = request.path.rsplit("/", 1)[-1]
        params = dict(request.form) if request.form else (request.get_json(silent=True) or {})
        with self.lock:
            self.calls.append(Call(method, params, self.clock()))
        chat_id = int(params.get("chat_id", 0) or 0)
        if method == "sendMessage" and self.hold is not None:
            self.hold.wait(timeout=HOLD_SECONDS_MAX)
        if method == "sendMessage" and self.rate_limited > 0:
            with self.lock:
                self.rate_limited -= 1
            return _reply({"ok": False, "error_code": 429, "description": "Too Many Requests: retry after "
                           f"{self.retry_after}", "parameters": {"retry_after": self.retry_after}}, 429)  # fmt: skip
        if method == "sendMessage" and self.failing > 0:
            with self.lock:
                self.failing -= 1
            return _reply({"ok": False, "error_code": 502, "description": "Bad Gateway"}, 502)
        if method == "sendMessage" and chat_id in self.blocked:
            return _reply(
                {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}, 403
            )
        if method == "editMessageText":
            where = (chat_id, int(params.get("message_id", 0) or 0))
            if self.edited.get(where) == params.get("text"):  # Telegram refuses an edit that changes nothing
                return _reply({"ok": False, "error_code": 400,
                               "description": "Bad Request: message is not modified: specified new message content "
                               "and reply markup are exactly the same"}, 400)  # fmt: skip
            self.edited[where] = params.get("text")
            return _ok(True)
        if method == "getChatMember":
            user_id = int(params.get("user_id", 0))
            user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
            rights = self.admins.get(chat_id, {})
            if user_id not in rights:
                return _ok({"status": "member", "user": user})
            flags = dict.fromkeys(ADMIN_FLAGS, False)
            return _ok({"status": "administrator", "user": user, **flags, "can_restrict_members": rights[user_id]})
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
    text: str,
    *,
    user_id: int,
    chat_type: str = "private",
    username: str = "player",
    first_name: str = "Goat",
    chat_id: int | None = None,
    reply_to_user: int | None = None,
    new_members: list[int] | None = None,
) -> dict:
    """An update with a message from `user_id`: in their private chat, or in a group (`chat_type`, `chat_id`),
    optionally replying to a message of `reply_to_user`, or announcing `new_members` joining."""
    if chat_id is None:
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
            **({"reply_to_message": {
                "message_id": next(_update_ids), "date": int(time.time()), "chat": {"id": chat_id, "type": chat_type},
                "from": {"id": reply_to_user, "is_bot": False, "first_name": f"Member{reply_to_user}"}, "text": "spam",
            }} if reply_to_user else {}),
            **({"new_chat_members": [{"id": m, "is_bot": False, "first_name": f"Newbie{m}"} for m in new_members]}
               if new_members else {}),
        },
    }  # fmt: skip


def button(data: str, *, user_id: int, chat_id: int | None = None, message_id: int | None = None) -> dict:
    """A press of an inline button by `user_id` on the bot's message `message_id` in `chat_id` (default: the
    presser's private chat)."""
    chat = chat_id if chat_id is not None else user_id
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "from": {"id": user_id, "is_bot": False, "first_name": "Staff", "username": "staffer"},
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": message_id if message_id is not None else next(_update_ids),
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private" if chat > 0 else "supergroup"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "GoatedVIPs"},
                "text": "request",
            },
        },
    }
