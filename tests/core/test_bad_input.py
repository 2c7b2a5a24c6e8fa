"""Bad input of every kind, sent everywhere: never a 5xx (docs/security.md). Runs on SQLite and PostgreSQL; on
PostgreSQL a NUL byte that reached the database would fail the query, which is exactly what this guards.

Every route (walked from the URL configuration) gets OPTIONS, a foreign Host, and its path and query parameters
filled with NUL bytes, lone surrogates, 10,000-character values and wrong types; every documented API body field
and every page form field gets the same, plus 1,000-deep JSON and bodies of the wrong shape.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from giveaways.models import Raffle
from tests.factories import BonusCodeFactory, StaffFactory, SupportTicketFactory, UserFactory, WagerRaceFactory

NUL, SURROGATE = "a\x00b", "\ud800"
BAD_TEXT = [NUL, SURROGATE, "x" * 10_000, "-1", "1e999", "[]", "<script>alert(1)</script>", "' OR 1=1 --"]
# As they appear in a URL: NUL percent-encoded, a surrogate as the UTF-8 bytes no decoder accepts.
BAD_URL = ["ab%00cd", "%ED%A0%80", "x" * 3000, "-1", "%FF%FE", "..%2F..%2Fetc"]
QUERY_NAMES = [
    "period", "limit", "offset", "q", "page", "type", "status", "uid", "n", "unread", "next", "assigned",
    "server_seed", "client_seed", "nonce", "format", "o", "p", "race__id__exact", "status__exact",
]  # fmt: skip
DEEP = "[" * 1000 + "]" * 1000


def _routes() -> list[tuple[str, list[str]]]:
    """(path template with {} for each parameter, parameter names) for every URL pattern."""
    out: list[tuple[str, list[str]]] = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            text = str(p.pattern)
            text = text.lstrip("^").rstrip("$").replace("\\Z", "")
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + text)
            elif isinstance(p, URLPattern):
                names = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)", prefix + text)
                template = re.sub(r"<(?:\w+:)?\w+>|\(\?P<\w+>[^)]*\)", "{}", prefix + text)
                if "(" in template or "\\" in template or "[" in template:
                    continue  # an unusual regex (static files): not a route of ours to fill in
                out.append(("/" + template, [a or b for a, b in names]))

    walk(get_resolver().url_patterns, "")
    return sorted({(t, tuple(n)) for t, n in out})


ROUTES = _routes()


def _sample(template: str, names) -> str:
    values = {"race_id": "1", "ticket_id": "1", "object_id": "1", "id": "1", "code": "HELLO1", "uid": "u1",
              "raffle_id": "1"}  # fmt: skip
    return template.format(*(values.get(n, "x") for n in names))


@pytest.fixture
def world(db):
    """Something behind most routes, and a client of each kind."""
    WagerRaceFactory(pk=1)
    start = timezone.now()
    Raffle.objects.create(pk=1, title="Fuzz raffle", starts_at=start, ends_at=start + timedelta(days=1),
                          prize_pool=Decimal("10"))  # fmt: skip
    BonusCodeFactory(code="HELLO1")
    player = UserFactory(username="fuzzer", email_verified=True, verification_status="verified")
    SupportTicketFactory(pk=1, user=player)
    staff = StaffFactory(username="fuzz-root")
    clients = {"anonymous": Client(raise_request_exception=False)}
    for name, user in (("player", player), ("staff", staff)):
        clients[name] = Client(raise_request_exception=False)
        clients[name].force_login(user)
    return clients


def _check(failures: list, response, what: str) -> None:
    if response.status_code >= 500:
        failures.append(f"{response.status_code} {what}")


# Every route × three clients × a dozen requests: about a minute alone, two while CI runs its suites at once; in
# PARTS parts (every PARTS-th route), so pytest-xdist spreads them over its workers.
PARTS = 6


@pytest.mark.django_db
@pytest.mark.timeout(240)
@pytest.mark.parametrize("part", range(PARTS))
def test_every_route_answers_options_a_foreign_host_and_bad_parameters_without_a_5xx(world, part):
    routes = ROUTES[part::PARTS]
    failures: list[str] = []
    for template, names in routes:
        path = _sample(template, names)
        for who, client in world.items():
            _check(failures, client.options(path), f"OPTIONS {path} ({who})")
            for value in BAD_URL[:3]:
                query = "&".join(f"{name}={value}" for name in QUERY_NAMES)
                _check(failures, client.get(f"{path}?{query}"), f"GET {path}?…={value[:12]} ({who})")
        for i, _name in enumerate(names):
            for value in BAD_URL:
                parts = [("1" if n.endswith("id") else "x") for n in names]
                parts[i] = value
                bad = template.format(*parts)
                for method in ("get", "post"):
                    response = getattr(world["player"], method)(bad)
                    _check(failures, response, f"{method.upper()} {bad[:80]}")
    with override_settings(DEBUG=False):
        for template, names in routes:
            path = _sample(template, names)
            response = world["anonymous"].get(path, HTTP_HOST="evil.example")
            _check(failures, response, f"GET {path} Host: evil.example")
            if response.status_code < 500:
                assert response.status_code == 400, (path, response.status_code)
    assert failures == []


def _schema(client) -> dict:
    return client.get("/api/schema/", {"format": "json"}).json()


def _fill(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "HELLO1" if m.group(1) == "code" else "1", path)


@pytest.mark.django_db
def test_every_documented_api_body_and_query_parameter_refuses_bad_values_without_a_5xx(world):
    failures: list[str] = []
    schema = _schema(world["anonymous"])
    client = world["player"]
    for path, operations in schema["paths"].items():
        url = _fill(path)
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            for value in [*BAD_TEXT[:4], "", "0"]:
                encoded = "%ED%A0%80" if value == SURROGATE else quote(value, safe="")
                query = "&".join(f"{name}={encoded}" for name in params)
                _check(failures, getattr(client, method)(f"{url}?{query}"), f"{method.upper()} {url}?…={value[:10]}")
            body_ref = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            fields = []
            if body_ref:
                name = body_ref.get("$ref", "").rsplit("/", 1)[-1]
                fields = list(schema["components"]["schemas"].get(name, {}).get("properties", {}))
            bodies = [DEEP, "[1, 2]", '"text"', "42", "null", "{not json", json.dumps({"x": NUL})]
            for field in fields:
                bodies += [json.dumps({field: v}) for v in [*BAD_TEXT, 7, True, None, [1], {"a": 1}]]
            if method not in ("post", "put", "patch"):
                continue
            for body in bodies:
                response = getattr(client, method)(url, body, content_type="application/json")
                _check(failures, response, f"{method.upper()} {url} body {body[:40]!r}")
                if response.status_code < 500 and (body == DEEP or NUL in body):
                    assert response.status_code in (400, 403, 404, 405, 409, 429), (url, body[:40])
    assert failures == []


PAGE_FORMS = [
    ("/accounts/login/", ["username", "password"]),
    ("/accounts/register/", ["username", "email", "password1", "password2", "adult", "terms"]),
    ("/accounts/terms/", ["adult", "terms", "next"]),
    ("/accounts/break/not-a-link/", ["period", "password"]),
    ("/accounts/password-reset/", ["email"]),
    ("/accounts/newsletter/", ["email", "next"]),
    ("/accounts/settings/", ["section", "profile-display_name", "profile-bio", "profile-profile_color"]),
    ("/accounts/settings/", ["section", "claim-goated_name"]),
    ("/accounts/telegram/login/", ["id", "first_name", "username", "auth_date", "hash"]),
    ("/accounts/2fa/", ["token", "next"]),
    ("/support/new/", ["subject", "description", "priority"]),
    ("/support/1/", ["body"]),
    ("/wheel/spin/", ["client_seed"]),
    ("/bonus-codes/HELLO1/claim/", ["code"]),
    ("/leaderboard/", ["q", "period", "page"]),
    ("/wheel/verify/", ["server_seed", "client_seed", "nonce"]),
]


def _form(fields: list[str], value: str) -> str:
    """A url-encoded form body; a lone surrogate goes as the invalid UTF-8 bytes a hostile client would send."""
    encoded = "%ED%A0%80" if value == SURROGATE else quote(value, safe="")
    section = "claim" if "claim-goated_name" in fields else "profile"
    return "&".join(f"{f}={section if f == 'section' else encoded}" for f in fields)


@pytest.mark.django_db
def test_every_page_form_refuses_bad_values_without_a_5xx(world):
    failures: list[str] = []
    for who in ("anonymous", "player", "staff"):
        client = world[who]
        for url, fields in PAGE_FORMS:
            for value in BAD_TEXT:
                body = _form(fields, value)
                response = client.post(url, body, content_type="application/x-www-form-urlencoded")
                _check(failures, response, f"POST {url} ({who}) {value[:10]!r}")
                if value == NUL and response.status_code < 500 and response.status_code not in (302, 405, 429):
                    assert response.status_code in (400, 403, 404), (url, who, response.status_code)
                _check(failures, client.get(f"{url}?{body}"), f"GET {url} ({who}) {value[:10]!r}")
    assert failures == []
