from __future__ import annotations

import pytest

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e


def test_health_is_public(local_stack: RunningStack) -> None:
    answer = local_stack.session.get(f"{local_stack.url}/api/health", timeout=10)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["status"] == "ok"


def test_two_users_each_get_their_own_empty_account_list(local_stack: RunningStack) -> None:
    for user in ("alice", "bob"):
        answer = local_stack.session.get(
            f"{local_stack.url}/api/metatrader/accounts",
            headers={"Authorization": f"Bearer {local_stack.token(user)}"},
            timeout=10,
        )
        assert answer.status_code == 200, user
        assert answer.json() == {"items": [], "nextToken": None}


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic YWxpY2U6cHc="])
def test_without_a_valid_token_the_answer_is_401_json(
    local_stack: RunningStack, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    answer = local_stack.session.get(
        f"{local_stack.url}/api/metatrader/accounts", headers=headers, timeout=10
    )

    assert answer.status_code == 401
    assert answer.json()["code"] == "UNAUTHORIZED"


def test_a_token_signed_by_someone_else_is_refused(local_stack: RunningStack) -> None:
    import jwt

    forged = jwt.encode(
        {"sub": "alice", "iss": "mt-backend-local", "exp": 4102444800},
        "a-guessed-signing-key-of-32-bytes!",
        algorithm="HS256",
    )

    answer = local_stack.session.get(
        f"{local_stack.url}/api/metatrader/accounts",
        headers={"Authorization": f"Bearer {forged}"},
        timeout=10,
    )

    assert answer.status_code == 401


def test_invalid_input_is_422_naming_the_field(local_stack: RunningStack) -> None:
    answer = local_stack.session.get(
        f"{local_stack.url}/api/metatrader/accounts",
        params={"limit": "1000"},
        headers={"Authorization": f"Bearer {local_stack.token('alice')}"},
        timeout=10,
    )

    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert body["details"][0]["field"] == "query.limit"


def test_dev_token_requests_are_validated(local_stack: RunningStack) -> None:
    answer = local_stack.session.post(f"{local_stack.url}/api/dev/token", json={"userId": ""}, timeout=10)

    assert answer.status_code == 422
    assert answer.json()["details"][0]["field"] == "body.userId"


def test_unknown_paths_are_404_json(local_stack: RunningStack) -> None:
    outside = local_stack.session.get(f"{local_stack.url}/nowhere", timeout=10)
    inside = local_stack.session.get(
        f"{local_stack.url}/api/metatrader/nowhere",
        headers={"Authorization": f"Bearer {local_stack.token('alice')}"},
        timeout=10,
    )

    assert (outside.status_code, outside.json()["code"]) == (404, "NOT_FOUND")
    assert (inside.status_code, inside.json()["code"]) == (404, "NOT_FOUND")


def test_browser_preflight_and_answers_allow_the_configured_origin(local_stack: RunningStack) -> None:
    origin = {"Origin": "http://localhost:5173"}
    preflight = local_stack.session.options(
        f"{local_stack.url}/api/metatrader/accounts",
        headers={**origin, "Access-Control-Request-Method": "GET"},
        timeout=10,
    )
    answer = local_stack.session.get(f"{local_stack.url}/api/metatrader/accounts", headers=origin, timeout=10)

    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert answer.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"


def test_openapi_and_docs_are_served(local_stack: RunningStack) -> None:
    spec = local_stack.session.get(f"{local_stack.url}/api/openapi.json", timeout=10)
    docs = local_stack.session.get(f"{local_stack.url}/api/docs", timeout=10)

    assert "/api/metatrader/accounts" in spec.json()["paths"]
    assert docs.status_code == 200
    assert "/api/openapi.json" in docs.text


def test_ctrl_c_stops_everything_cleanly(local_stack: RunningStack) -> None:
    # Runs last in this module: it stops the shared stack.
    code, output = local_stack.stop()

    assert code == 0
    assert "Stopping the local stack" in output
    assert "Traceback" not in output
    assert "local stack is up" in output
