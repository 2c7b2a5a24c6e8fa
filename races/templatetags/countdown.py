"""`{% countdown until %}`: a race's start or end as a `<time>` the page's script counts down to.

It was an `{% include %}` with three `|date` filters: on a slow machine the race list spent a fifth of its time
there (each include and each filter looks up the language's formats). The same markup from one function
(tests/races/test_pages.py renders both and compares).
"""

from __future__ import annotations

from html import escape

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def countdown(until) -> SafeString:
    if not until:
        return mark_safe('<time class="countdown" data-countdown="" datetime=""> UTC</time>')
    shown = timezone.localtime(until) if timezone.is_aware(until) else until
    iso = escape(date_format(shown, "c"))
    text = escape(date_format(shown, "j M Y, H:i"))
    return mark_safe(f'<time class="countdown" data-countdown="{iso}" datetime="{iso}">{text} UTC</time>')  # noqa: S308
