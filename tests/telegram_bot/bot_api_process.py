"""A Bot API server in a process of its own, for killing and restarting under a running `runbot`.

    python -m tests.telegram_bot.bot_api_process --port P --sent FILE --update-id N --text "/help"

It answers getMe and deleteWebhook, hands out one update (a private message from user 1001 with `--text`) to
getUpdates until the bot confirms it with a larger offset, long-polls one second otherwise, and appends every
sendMessage it receives to `--sent` as a JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from tests.telegram_bot.fake_telegram import BOT_ID

USER = 1001


class Handler(BaseHTTPRequestHandler):
    server_version = "FakeBotAPI/1"

    def _params(self) -> dict:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind = self.headers.get("Content-Type", "")
        if "json" in kind:
            return json.loads(body or b"{}")
        if "multipart" in kind:  # aiogram sends form-data: name/value parts
            params, boundary = {}, kind.split("boundary=")[1].encode()
            for part in body.split(b"--" + boundary):
                head, _, value = part.partition(b"\r\n\r\n")
                if b'name="' in head:
                    name = head.split(b'name="')[1].split(b'"')[0].decode()
                    params[name] = value.rstrip(b"\r\n").decode()
            return params
        return dict(parse_qsl(body.decode()))

    def do_POST(self):
        method = self.path.rsplit("/", 1)[-1]
        params = self._params()
        opts = self.server.opts
        if method == "getMe":
            result = {"id": BOT_ID, "is_bot": True, "first_name": "GoatedVIPs", "username": "GoatedVIPsBot"}
        elif method == "getUpdates":
            offset = int(params.get("offset") or 0)
            if offset <= opts.update_id:
                result = [{"update_id": opts.update_id, "message": {
                    "message_id": opts.update_id, "date": int(time.time()), "chat": {"id": USER, "type": "private"},
                    "from": {"id": USER, "is_bot": False, "first_name": "Goat"}, "text": opts.text,
                    "entities": [{"type": "bot_command", "offset": 0, "length": len(opts.text.split()[0])}],
                }}]  # fmt: skip
            else:
                time.sleep(1)
                result = []
        elif method == "sendMessage":
            with open(opts.sent, "a") as out:
                out.write(json.dumps(params) + "\n")
            result = {"message_id": int(time.time()), "date": int(time.time()), "chat": {"id": USER, "type": "private"},
                      "text": params.get("text", "")}  # fmt: skip
        else:
            result = True
        body = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sent", required=True)
    parser.add_argument("--update-id", type=int, required=True)
    parser.add_argument("--text", required=True)
    opts = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    server.opts = opts
    server.serve_forever()


if __name__ == "__main__":
    main()
