"""Render deploy/nginx.conf: the balancer's one config, for production and for the local scaled topology.

    python scripts/nginx_conf.py --upstream 10.0.0.11:8000 --upstream 10.0.0.12:8000 --server-name example.com \
        --static-root /srv/goatedvips/staticfiles --cert fullchain.pem --key privkey.pem > /etc/nginx/nginx.conf
    python scripts/nginx_conf.py --local [--run]   # Procfile.scaled: var/nginx, a self-signed certificate, :8000/:8443

With --local everything nginx writes (pid, temp files, the access log, the certificate) lives under the prefix
(NGINX_PREFIX, default var/nginx), the ports come from PORT and TLS_PORT, the upstreams are the two uvicorn
processes of Procfile.scaled and the static files STATIC_ROOT (default staticfiles/). --run then replaces this
process with nginx in the foreground (`nginx -p PREFIX -c nginx.conf -g 'daemon off;'`), as honcho wants it.
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx.conf"
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
LOCAL_UPSTREAMS = ["127.0.0.1:8001", "127.0.0.1:8002"]  # web1, web2 in Procfile.scaled


def render(values: dict[str, str], upstreams: list[str], template: Path = TEMPLATE) -> str:
    """The template with every double-braced name filled in; a name without a value is an error, never empty."""
    servers = "\n".join(f"        server {address} max_fails=3 fail_timeout=5s;" for address in upstreams)
    values = {**values, "upstream_servers": servers}
    missing = sorted(set(PLACEHOLDER.findall(template.read_text())) - set(values))
    if missing or not upstreams:
        raise SystemExit(f"nginx_conf: no value for {', '.join(missing) or 'upstream'}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template.read_text())


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost (made once, kept in var/, never committed)."""
    cert, key = directory / "local.crt", directory / "local.key"
    if not (cert.exists() and key.exists()):
        directory.mkdir(parents=True, exist_ok=True)
        names = "subjectAltName=DNS:localhost,IP:127.0.0.1"
        command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365", "-subj", "/CN=localhost",
                   "-addext", names, "-keyout", str(key), "-out", str(cert)]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True)  # noqa: S603 (fixed arguments, openssl from PATH)
    return cert, key


def local_values(prefix: Path, http_port: str, https_port: str) -> dict[str, str]:
    for sub in ("temp", "logs"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    cert, key = self_signed(prefix / "tls")
    static_root = Path(os.environ.get("STATIC_ROOT") or ROOT / "staticfiles")
    user = pwd.getpwuid(os.getuid()).pw_name
    return {
        # As root nginx would hand its workers to "nobody"; here they stay the user who started it.
        "user": f"{user} {grp.getgrgid(os.getgid()).gr_name}",
        "pid": str(prefix / "nginx.pid"),
        "error_log": "stderr",
        "access_log": f"{prefix / 'logs' / 'access.log'} edge buffer=64k flush=5s",
        "temp": str(prefix / "temp"),
        "mime_types": "/etc/nginx/mime.types",
        "http_listen": f"127.0.0.1:{http_port}",
        "https_listen": f"127.0.0.1:{https_port}",
        "server_name": "localhost 127.0.0.1",
        "ssl_certificate": str(cert),
        "ssl_certificate_key": str(key),
        "static_root": str(static_root.resolve()),
    }


def production_values(args: argparse.Namespace) -> dict[str, str]:
    return {
        "user": "www-data",
        "pid": "/run/nginx.pid",
        "error_log": "/var/log/nginx/error.log",
        "access_log": "/var/log/nginx/access.log edge",
        "temp": "/var/lib/nginx",
        "mime_types": "/etc/nginx/mime.types",
        "http_listen": "80",
        "https_listen": "443",
        "server_name": args.server_name,
        "ssl_certificate": args.cert,
        "ssl_certificate_key": args.key,
        "static_root": args.static_root.rstrip("/"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local", action="store_true", help="the local scaled topology (var/nginx, self-signed)")
    parser.add_argument("--run", action="store_true", help="with --local: render, then exec nginx in the foreground")
    parser.add_argument("--upstream", action="append", help="a web process host:port (repeat)")
    parser.add_argument("--server-name", default="_")
    parser.add_argument("--static-root", default="/srv/goatedvips/staticfiles")
    parser.add_argument("--cert", default="/etc/ssl/certs/goatedvips.pem")
    parser.add_argument("--key", default="/etc/ssl/private/goatedvips.key")
    parser.add_argument("--prefix", default=os.environ.get("NGINX_PREFIX", "var/nginx"))
    parser.add_argument("--http-port", default=os.environ.get("PORT", "8000"))
    parser.add_argument("--https-port", default=os.environ.get("TLS_PORT", "8443"))
    args = parser.parse_args()
    if not args.local:
        sys.stdout.write(render(production_values(args), args.upstream or []))
        return
    prefix = (ROOT / args.prefix).resolve()
    conf = prefix / "nginx.conf"
    conf.write_text(render(local_values(prefix, args.http_port, args.https_port), args.upstream or LOCAL_UPSTREAMS))
    if args.run:
        sys.stdout.flush()
        command = ["nginx", "-p", f"{prefix}/", "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]
        os.execvp("nginx", command)  # noqa: S606, S607 (Debian's nginx from PATH, as honcho would run it)
    print(conf)


if __name__ == "__main__":
    main()
