"""Links we store and later send people to (a notification's "Open", a broadcast's link): pages of this site only.

A stored link is a path with a single leading "/". `//evil.example/x`, `/\\evil.example`, `https://...`,
`javascript:` and anything with a control character or whitespace are refused: browsers read several of those as
another host (an open redirect from our own "Open" button). Checked when a link is saved and again when we
redirect to it, since rows written before the check may hold anything.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.http import url_has_allowed_host_and_scheme

SITE_PATH_MAX = 200  # the columns that hold these links
SITE_PATH_HELP = "A page of this site, e.g. /races/12/"


def is_site_path(url: str) -> bool:
    """`url` is a path of this site: one leading "/", no host, no scheme, no whitespace or control character."""
    return (
        isinstance(url, str)
        and 0 < len(url) <= SITE_PATH_MAX
        and url.startswith("/")
        and not url.startswith(("//", "/\\"))
        and url.isprintable()
        and not any(ch.isspace() for ch in url)
        and url_has_allowed_host_and_scheme(url, allowed_hosts=set())
    )


def validate_site_path(url: str) -> None:
    """For forms and `Model.clean`: an empty link is fine, anything else must be a path of this site."""
    if url and not is_site_path(url):
        raise ValidationError(f"The link must be a page of this site, like /races/12/ (not {url[:60]!r}).")
