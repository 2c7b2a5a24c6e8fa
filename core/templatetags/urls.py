"""`{% url %}` with each reversal remembered in the process: the same syntax and output as Django's tag.

Loaded as a builtin after Django's own (settings.TEMPLATES), so it replaces the default `url` tag in every template.
Django's tag reverses the pattern on every render: about 0.1 ms a link on a slow machine, and a signed-in page
has fifteen links in its header and footer, a notifications page one more per notification. The URL of a view
name and arguments cannot change while the process runs (the URLconf is loaded once), so reversals whose arguments
are plain strings and numbers are kept (bounded LRU, keyed by the script prefix and URLconf as `reverse` is);
anything else is reversed each time, exactly as before. tests/core/test_url_tag.py compares the two tags.
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = template.Library()


def _plain(value) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


@lru_cache(maxsize=20_000)
def _reverse(view_name, args: tuple, kwargs: tuple, current_app, script_prefix: str, urlconf) -> str:
    return reverse(view_name, args=args, kwargs=dict(kwargs), current_app=current_app)


class RememberedURLNode(URLNode):
    def render(self, context) -> str:
        args = tuple(arg.resolve(context) for arg in self.args)
        kwargs = tuple((k, v.resolve(context)) for k, v in self.kwargs.items())
        view_name = self.view_name.resolve(context)
        try:  # the current app as Django's tag finds it (the admin sets request.current_app)
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        plain = isinstance(view_name, str) and all(_plain(a) for a in args) and all(_plain(v) for _, v in kwargs)
        try:
            if plain:
                url = _reverse(view_name, args, kwargs, current_app, get_script_prefix(), get_urlconf())
            else:
                url = reverse(view_name, args=list(args), kwargs=dict(kwargs), current_app=current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
            url = ""
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token) -> RememberedURLNode:
    node = django_url(parser, token)  # Django's parsing, errors and all
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
