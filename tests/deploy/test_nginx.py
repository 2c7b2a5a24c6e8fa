"""The balancer's config (deploy/nginx.conf, rendered by scripts/nginx_conf.py): `nginx -t` accepts both renders,
and a real nginx in front of two echo upstreams forwards what the app relies on (X-Forwarded-Proto over TLS, the
client's address last in X-Forwarded-For, Host with its port, a request id), serves /static/ with long cache
headers and holds the sign-in endpoints to their edge rate limit. nginx is a requirement of the suite (.ci/run
installs Debian's package), never a reason to skip."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import nginx_conf  # noqa: E402 (scripts/ is not a package)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _nginx_t(conf: Path, prefix: Path) -> subprocess.CompletedProcess:
    return subprocess.run([NGINX, "-t", "-p", f"{prefix}/", "-c", str(conf), "-e", "stderr"],
                          capture_output=True, text=True, timeout=30)  # fmt: skip


def test_nginx_is_installed():
    assert Path(NGINX).exists(), "nginx is required (apt-get install nginx-light; .ci/run does it)"


def test_the_local_render_passes_nginx_t(tmp_path):
    values = nginx_conf.local_values(tmp_path, "18000", "18443")
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_conf.render(values, nginx_conf.LOCAL_UPSTREAMS))
    assert "{{" not in conf.read_text()
    result = _nginx_t(conf, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "tls" / "local.crt").exists()  # made by openssl, under the prefix (var/ in the topology)


def test_the_production_render_passes_nginx_t(tmp_path):
    cert, key = nginx_conf.self_signed(tmp_path / "tls")
    args = nginx_conf.argparse.Namespace(server_name="goatedvips.example", cert=str(cert), key=str(key),
                                         static_root="/srv/goatedvips/staticfiles/")  # fmt: skip
    values = nginx_conf.production_values(args)
    assert values["static_root"] == "/srv/goatedvips/staticfiles"
    text = nginx_conf.render(values, ["10.0.0.11:8000", "10.0.0.12:8000"])
    assert "server 10.0.0.11:8000 max_fails=3 fail_timeout=5s;" in text
    assert "listen 443 ssl http2 default_server;" in text
    # The paths nginx writes to at start are the system's; for the check they move under tmp_path.
    (tmp_path / "temp").mkdir()
    for path, moved in [("/run/nginx.pid", tmp_path / "nginx.pid"), ("/var/log/nginx/error.log", "stderr"),
                        ("/var/log/nginx/access.log", tmp_path / "access.log"), ("/var/lib/nginx", tmp_path / "temp"),
                        ("user www-data;", "")]:  # fmt: skip
        text = text.replace(path, str(moved))
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    result = _nginx_t(conf, tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_missing_value_is_an_error(tmp_path):
    with pytest.raises(SystemExit, match="no value for"):
        nginx_conf.render({}, ["127.0.0.1:8001"])
    with pytest.raises(SystemExit, match="upstream"):
        nginx_conf.render(nginx_conf.local_values(tmp_path, "1", "2"), [])


class _Echo(BaseHTTPRequestHandler):
    """An upstream that answers every request with the headers it received (and which upstream it is)."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"port": self.server.server_port, "path": self.path, **dict(self.headers)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def edge(tmp_path):
    """nginx in the foreground in front of two echo upstreams; yields (http port, https port)."""
    upstreams = [ThreadingHTTPServer(("127.0.0.1", 0), _Echo) for _ in range(2)]
    for server in upstreams:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    static = tmp_path / "static"
    static.mkdir()
    (static / "app.0123456789ab.css").write_text("body{}")
    (static / "robots.txt").write_text("User-agent: *\n")
    http_port, https_port = _free_port(), _free_port()
    values = {**nginx_conf.local_values(tmp_path, str(http_port), str(https_port)), "static_root": str(static)}
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_conf.render(values, [f"127.0.0.1:{s.server_port}" for s in upstreams]))
    nginx = subprocess.Popen([NGINX, "-p", f"{tmp_path}/", "-c", str(conf), "-e", "stderr", "-g", "daemon off;"],
                             stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                assert nginx.poll() is None, nginx.stderr.read().decode()
                assert time.monotonic() < deadline, "nginx did not start listening"
                time.sleep(0.05)
        yield http_port, https_port
    finally:
        nginx.terminate()
        nginx.wait(10)
        for server in upstreams:
            server.shutdown()


def _get(port: int, path: str, tls: bool = True, method: str = "GET", headers: dict | None = None):
    if tls:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=b"x=1" if method == "POST" else None, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def test_the_edge_forwards_what_the_app_reads(edge):
    http_port, https_port = edge
    spoofed = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Request-ID": "client-chosen-id"}
    response, body = _get(https_port, "/api/v1/leaderboard/", headers=spoofed)
    seen = json.loads(body)
    assert response.status == 200
    assert seen["X-Forwarded-Proto"] == "https"
    # TRUSTED_PROXY_HOPS=1: the right-most entry is the address nginx saw; the client's own entry stays left of it.
    assert seen["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
    assert seen["Host"] == f"127.0.0.1:{https_port}"
    assert len(seen["X-Request-ID"]) == 32  # nginx's $request_id, not the client's
    assert seen.get("Connection", "") == ""  # keep-alive to the upstream, not "close"
    # Plain HTTP says so: the app redirects it (SECURE_SSL_REDIRECT), whatever the client claimed.
    _response, body = _get(http_port, "/", tls=False, headers={"X-Forwarded-Proto": "https"})
    assert json.loads(body)["X-Forwarded-Proto"] == "http"


def test_websocket_upgrade_is_passed_on_and_requests_are_balanced(edge):
    _http_port, https_port = edge
    _response, body = _get(https_port, "/ws/leaderboard/", headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    seen = json.loads(body)
    assert (seen["Upgrade"], seen["Connection"]) == ("websocket", "upgrade")
    ports = {json.loads(_get(https_port, "/")[1])["port"] for _ in range(6)}
    assert len(ports) == 2  # round robin over both processes


def test_static_files_are_served_by_nginx_with_long_cache_headers(edge):
    _http_port, https_port = edge
    response, body = _get(https_port, "/static/app.0123456789ab.css")
    assert (response.status, body) == (200, b"body{}")
    assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    response, _body = _get(https_port, "/static/robots.txt")
    assert response.getheader("Cache-Control") == "public, max-age=3600"
    assert _get(https_port, "/static/missing.css")[0].status == 404  # never falls through to the app


def test_sign_in_posts_are_rate_limited_at_the_edge(edge):
    """30 a minute per address (one every 2 s) with a burst of 10: on a busy machine a slot may come back while the
    requests are sent, so the bound allows one more per 2 s of sending."""
    _http_port, https_port = edge
    started = time.monotonic()
    statuses = [_get(https_port, "/accounts/login/", method="POST")[0].status for _ in range(14)]
    elapsed = time.monotonic() - started
    assert statuses[:11] == [200] * 11  # one at the rate, then the burst of 10
    assert 429 in statuses
    assert statuses.count(200) <= 11 + int(elapsed / 2) + 1
    assert set(statuses) == {200, 429}
    assert _get(https_port, "/accounts/login/")[0].status == 200  # reading the form is not limited
    assert _get(https_port, "/api/v1/leaderboard/", method="POST")[0].status == 200  # other POSTs are not either
    shared = []  # one zone, one budget: right after a refused sign-in the token endpoint is refused too
    for _ in range(3):
        while _get(https_port, "/accounts/login/", method="POST")[0].status != 429:
            pass
        shared.append(_get(https_port, "/api/v1/auth/token/", method="POST")[0].status)
    assert 429 in shared
