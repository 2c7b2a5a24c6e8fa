import pytest
from rest_framework.authtoken.models import Token


def test_api_root_lists_the_resources(api_client):
    response = api_client.get("/api/v1/")
    body = response.json()
    assert response.status_code == 200
    assert body["version"] == "v1"
    assert body["links"]["me"] == "http://testserver/api/v1/me/"
    assert body["links"]["schema"] == "http://testserver/api/schema/"


@pytest.mark.django_db
def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/v1/me/" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


@pytest.mark.django_db
def test_token_is_issued_for_good_credentials(api_client, player_user, password):
    response = api_client.post("/api/v1/auth/token/", {"username": "lucky", "password": password}, format="json")
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=player_user).key}


@pytest.mark.django_db
def test_the_same_token_comes_back_on_a_second_login(api_client, player_user, password):
    first = api_client.post("/api/v1/auth/token/", {"username": "lucky", "password": password}, format="json")
    second = api_client.post("/api/v1/auth/token/", {"username": "lucky", "password": password}, format="json")
    assert first.json() == second.json()


@pytest.mark.django_db
def test_wrong_password_gets_a_clear_400(api_client, player_user):
    response = api_client.post("/api/v1/auth/token/", {"username": "lucky", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid_credentials", "message": "Unable to sign in with that username and password."}
    }


@pytest.mark.django_db
def test_missing_fields_are_named_in_the_error(api_client):
    response = api_client.post("/api/v1/auth/token/", {"username": "lucky"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {"password": ["This field is required."]}


@pytest.mark.django_db
def test_malformed_json_is_a_400_not_a_500(api_client):
    response = api_client.post("/api/v1/auth/token/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


@pytest.mark.django_db
def test_form_encoded_body_is_refused_with_415(api_client):
    response = api_client.post("/api/v1/auth/token/", {"username": "a", "password": "b"})
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.django_db
def test_token_login_is_rate_limited_per_ip(api_client, player_user):
    statuses = [
        api_client.post("/api/v1/auth/token/", {"username": "lucky", "password": "wrong"}, format="json").status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429
    last = api_client.post("/api/v1/auth/token/", {"username": "lucky", "password": "wrong"}, format="json")
    assert last.json()["error"]["code"] == "rate_limited"


@pytest.mark.django_db
def test_me_needs_authentication(api_client):
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_me_with_a_bad_token_is_401(api_client):
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


@pytest.mark.django_db
def test_me_with_a_token_shows_only_my_account(api_client, player_user, other_user):
    token = Token.objects.create(user=player_user)
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    body = response.json()
    assert response.status_code == 200
    assert body["username"] == "lucky"
    assert body["email"] == "lucky@example.com"
    assert body["player"] is None
    assert body["telegram_linked"] is False
    assert "rival" not in str(body)


@pytest.mark.django_db
def test_me_with_a_session_works_too(client, player_user):
    client.force_login(player_user)
    assert client.get("/api/v1/me/").json()["username"] == "lucky"


@pytest.mark.django_db
def test_unknown_api_path_is_a_json_404(client, settings):
    settings.DEBUG = False
    response = client.get("/api/v1/does-not-exist/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


@pytest.mark.django_db
def test_unknown_page_is_an_html_404(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


@pytest.mark.django_db
def test_wrong_method_is_a_json_405(player_api):
    response = player_api.put("/api/v1/me/")  # GET, PATCH and DELETE (erasure) only
    assert response.status_code == 405
    assert response.json() == {"error": {"code": "method_not_allowed", "message": 'Method "PUT" not allowed.'}}
