"""Which client address rate limits count against.

X-Forwarded-For is only believed for the number of proxy hops we run ourselves (TRUSTED_PROXY_HOPS): the
right-most entries are written by our proxies, anything left of them is client-controlled and spoofable.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# Requests whose address cannot be read share one bucket: stricter, never unlimited.
UNKNOWN_CLIENT = "0.0.0.0"  # noqa: S104 (a bucket name, not a bind address)


def _valid(ip: str) -> str | None:
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    hops = settings.TRUSTED_PROXY_HOPS
    if hops > 0:
        forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            ip = _valid(forwarded[-hops])
            if ip:
                return ip
    return _valid(request.META.get("REMOTE_ADDR") or "") or UNKNOWN_CLIENT
