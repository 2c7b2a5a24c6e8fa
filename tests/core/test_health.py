import pytest
from django.test import override_settings

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_healthz_answers_without_touching_dependencies(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_readyz_reports_every_dependency_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "channel_layer": "ok"},
    }


@pytest.mark.django_db
def test_readyz_names_an_unreachable_cache_with_503(client):
    dead_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}}
    with override_settings(CACHES=dead_cache):
        response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["failing"] == ["cache"]
    assert body["checks"]["cache"] == "error"  # which part, never the driver's message (hosts, users)
    assert "ConnectionError" not in response.content.decode()
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_readyz_names_an_unreachable_channel_layer_with_503(client):
    dead_layer = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [DEAD_REDIS]}}}
    with override_settings(CHANNEL_LAYERS=dead_layer):
        response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["failing"] == ["channel_layer"]
    assert body["checks"]["channel_layer"] == "error"


def test_health_endpoints_refuse_writes(client):
    assert client.post("/healthz").status_code == 405
