"""Text rules shared by every input and output: what can be stored, and Telegram's HTML with every value escaped."""

from __future__ import annotations

from html import escape

# Text PostgreSQL cannot store: NUL, and UTF-16 surrogates, which never stand alone in real text.
_UNSTORABLE = frozenset({chr(0), *map(chr, range(0xD800, 0xE000))})


def unstorable(text: str) -> bool:
    """Whether `text` holds a character no text column can store (NUL, a lone surrogate)."""
    return not _UNSTORABLE.isdisjoint(text)


def tg_html(template: str, *args, **values) -> str:
    """A Telegram message in HTML parse mode: `template` is ours (it may hold <b>, <i>, <code>), every value put
    into it is escaped, so a `<`, `&` or `>` in a name, title or code is shown as written and never breaks or
    changes the message. Like Django's format_html, for Telegram."""
    return template.format(*(escape(str(a)) for a in args), **{k: escape(str(v)) for k, v in values.items()})
