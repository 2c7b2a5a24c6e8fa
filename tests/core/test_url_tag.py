"""`{% url %}` remembers its reversals (core/templatetags/urls.py) and renders exactly what Django's tag renders."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Engine, RequestContext, Template, TemplateSyntaxError
from django.test import RequestFactory
from django.urls import NoReverseMatch, set_script_prefix

CASES = [
    "{% url 'races:leaderboard' %}",
    "{% url 'races:player' uid %}",
    "{% url 'races:player' uid=uid %}",
    "{% url 'races:detail' 7 %}",
    "{% url 'races:detail' race_id=pk %}",
    "{% url name pk %}",
    "{% url 'races:player' '<b>&x' %}",
    "{% url 'races:detail' odd %}",
    "{% url 'no-such-view' as missing %}[{{ missing }}]",
    "{% url 'races:player' uid as link %}<a href='{{ link }}'>",
    "{% autoescape off %}{% url 'races:player' amp %}{% endautoescape %}",
]
VALUES = {"uid": "u 1&2", "pk": 7, "name": "races:detail", "odd": Decimal("7"), "amp": "a&b"}  # odd: not kept


def _django_engine() -> Engine:
    """Django's own `url` tag: an engine without our builtins."""
    return Engine(builtins=[])


@pytest.mark.parametrize("source", CASES)
def test_the_remembered_tag_renders_what_djangos_tag_renders(source):
    ours = Template(source).render(Context(VALUES))
    theirs = _django_engine().from_string(source).render(Context(VALUES))
    assert ours == theirs
    assert Template(source).render(Context(VALUES)) == ours  # and again, from the memory


def test_the_tag_is_ours_in_every_template():
    from core.templatetags.urls import RememberedURLNode

    assert isinstance(Template("{% url 'races:leaderboard' %}").nodelist[0], RememberedURLNode)


def test_a_missing_view_still_raises_and_bad_syntax_is_still_an_error():
    with pytest.raises(NoReverseMatch):
        Template("{% url 'no-such-view' %}").render(Context({}))
    with pytest.raises(TemplateSyntaxError):
        Template("{% url %}")


def test_the_script_prefix_and_the_current_app_are_honoured():
    template = Template("{% url 'races:player' uid %}")
    first = template.render(Context({"uid": "u1"}))
    try:
        set_script_prefix("/site/")
        assert template.render(Context({"uid": "u1"})) == "/site/players/u1/"
    finally:
        set_script_prefix("/")
    assert template.render(Context({"uid": "u1"})) == first == "/players/u1/"
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    source = "{% url 'admin:index' %}|{% url 'admin:app_list' 'races' %}"
    expected = _django_engine().from_string(source).render(RequestContext(request))
    assert Template(source).render(RequestContext(request)) == expected
    request.current_app = "elsewhere"  # an instance namespace that is not deployed: the default instance
    assert Template(source).render(RequestContext(request)) == expected == "/admin/|/admin/races/"
