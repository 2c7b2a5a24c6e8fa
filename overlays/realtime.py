"""The per-link socket group: revoking or rotating a link closes the sockets opened with its old token."""

from __future__ import annotations

import hashlib

from core import realtime


def overlay_group(token: str) -> str:
    """Every socket opened with `token` joins this group. It is named by a digest, never by the token itself
    (group names end up in logs and in Redis keys; the token is the link's only secret)."""
    return "overlay." + hashlib.sha256(f"overlay-link:{token}".encode()).hexdigest()[:24]


def overlay_close_announce(token: str) -> bool:
    """The link was revoked or its token rotated: its open sockets close (4404) and are refused on reconnect."""
    return realtime.send(overlay_group(token), "overlay.close")


def overlay_changed_announce(token: str) -> bool:
    """The link's options changed in admin: its sockets read the link again and send a fresh snapshot."""
    return realtime.send(overlay_group(token), "overlay.changed")
