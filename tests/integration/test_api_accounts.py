from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest

from mtcore.accounts.linking import AccountChanges, update_account
from mtcore.accounts.models import Account, Platform
from mtcore.accounts.repository import AccountsRepository, get_accounts_repository
from mtcore.accounts.schedule import get_sync_schedule_repository
from mtcore.aws import dynamodb_client
from mtcore.settings import get_settings
from mtcore.sync.state import get_sync_state_repository
from tests.conftest import LogCapture
from tests.integration.conftest import Api

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def _link(user_id: str, account_id: str, **changes: object) -> Account:
    fields: dict[str, object] = {
        "id": account_id,
        "user_id": user_id,
        "metaapi_account_id": f"meta-{account_id}",
        "name": f"{user_id} {account_id}",
        "platform": Platform.MT5,
        "balance": Decimal("10000.29"),
        "equity": Decimal("10012.57"),
        "leverage": Decimal(500),
        "created_at": NOW,
        "updated_at": NOW,
    }
    account = Account(**(fields | changes))
    get_accounts_repository().link(account)
    return account


def test_health_needs_no_user(api: Api) -> None:
    answer = api.call("GET", "/api/health")

    assert answer.status == 200
    assert answer.body == {"status": "ok", "service": "mt-backend", "version": "0.1.0"}


def test_a_new_user_has_no_accounts(api: Api) -> None:
    answer = api.call("GET", "/api/metatrader/accounts", user="newcomer")

    assert answer.status == 200
    assert answer.body == {"items": [], "nextToken": None}


def test_each_user_sees_only_their_own_accounts(api: Api) -> None:
    _link("alice", "a1")
    _link("alice", "a2")
    _link("bob", "b1")

    alice = api.call("GET", "/api/metatrader/accounts", user="alice").body
    bob = api.call("GET", "/api/metatrader/accounts", user="bob").body

    assert [item["id"] for item in alice["items"]] == ["a1", "a2"]
    assert [item["id"] for item in bob["items"]] == ["b1"]


def test_money_round_trips_exactly(api: Api) -> None:
    _link("alice", "a1", balance=Decimal("10000.29"), free_margin=Decimal("0.01"))

    item = api.call("GET", "/api/metatrader/accounts", user="alice").body["items"][0]
    items = boto3.client("dynamodb").scan(TableName=get_settings().table_name)["Items"]
    stored = next(item for item in items if item["entity"]["S"] == "ACCOUNT")

    assert item["balance"] == 10000.29
    assert item["freeMargin"] == 0.01
    assert item["leverage"] == 500
    assert stored["balance"] == {"N": "10000.29"}
    assert "userId" not in item


def test_pages_follow_next_token_and_stay_with_their_owner(api: Api) -> None:
    for number in range(3):
        _link("alice", f"a{number}")

    first = api.call("GET", "/api/metatrader/accounts", user="alice", query={"limit": "2"}).body
    second = api.call(
        "GET", "/api/metatrader/accounts", user="alice", query={"limit": "2", "nextToken": first["nextToken"]}
    ).body
    stolen = api.call("GET", "/api/metatrader/accounts", user="bob", query={"nextToken": first["nextToken"]})

    assert [item["id"] for item in first["items"]] == ["a0", "a1"]
    assert [item["id"] for item in second["items"]] == ["a2"]
    assert stolen.status == 422
    assert stolen.body["details"][0]["field"] == "query.nextToken"


def test_without_a_user_the_answer_is_401_json(api: Api) -> None:
    answer = api.call("GET", "/api/metatrader/accounts")

    assert answer.status == 401
    assert answer.body["code"] == "UNAUTHORIZED"
    assert "Bearer" in answer.body["message"]


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_a_bad_limit_is_422_naming_the_field(api: Api, limit: str) -> None:
    answer = api.call("GET", "/api/metatrader/accounts", user="alice", query={"limit": limit})

    assert answer.status == 422
    assert answer.body["code"] == "VALIDATION_ERROR"
    assert [problem["field"] for problem in answer.body["details"]] == ["query.limit"]


def test_an_unknown_route_is_404_json(api: Api) -> None:
    answer = api.call("GET", "/api/metatrader/nothing-here", user="alice")

    assert answer.status == 404
    assert answer.body == {"code": "NOT_FOUND", "message": "No route GET /api/metatrader/nothing-here"}


def test_an_unexpected_failure_is_500_json_without_a_trace(
    api: Api, monkeypatch: pytest.MonkeyPatch, logs: LogCapture
) -> None:
    monkeypatch.setenv("TABLE_NAME", "table-that-does-not-exist")

    answer = api.call("GET", "/api/metatrader/accounts", user="alice")

    assert answer.status == 500
    assert answer.body == {
        "code": "INTERNAL_ERROR",
        "message": "Something went wrong on our side; it has been logged",
    }
    assert "Traceback" not in json.dumps(answer.body)
    # The cause is in the log only.
    assert [record["exception_name"] for record in logs.records()] == ["ResourceNotFoundException"]


def test_answers_carry_cors_headers_for_the_configured_origin(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://app.example")

    allowed = api.call("GET", "/api/metatrader/accounts", headers={"Origin": "https://app.example"})
    foreign = api.call("GET", "/api/health", headers={"Origin": "https://evil.example"})

    assert allowed.status == 401  # errors too, so the browser can read them
    assert allowed.headers["Access-Control-Allow-Origin"] == ["https://app.example"]
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_logs_carry_the_request_id_as_correlation_id(api: Api, logs: LogCapture) -> None:
    api.call("GET", "/api/metatrader/accounts", user="alice", query={"nextToken": "forged"})

    refused = [record for record in logs.records() if record["message"] == "request refused"]
    assert len(refused) == 1
    assert refused[0]["errorCode"] == "VALIDATION_ERROR"
    assert refused[0]["correlation_id"] == api.last_request_id


def test_a_settings_change_keeps_what_a_sync_wrote_meanwhile(api: Api) -> None:
    # Given the API read the account, then a sync wrote new balances before the API wrote
    stale = _link("alice", "a1")
    syncs, now = get_sync_state_repository(), datetime.now(UTC)
    leased = syncs.take_lease("alice", "a1", "a-sync", now=now, until=now + timedelta(seconds=60))
    assert leased is not None
    written = {"balance": Decimal("12345.67"), "equity": Decimal("12000")}
    assert syncs.finish(leased.account, "a-sync", leased.state, written, synced_at=now)

    class ReadBeforeTheSync(AccountsRepository):
        def get(self, user_id: str, account_id: str) -> Account:
            return stale

    repository = get_accounts_repository()
    updated = update_account(
        "alice",
        "a1",
        AccountChanges(name="Main account"),
        repository=ReadBeforeTheSync(dynamodb_client(), get_settings().table_name),
        schedule=get_sync_schedule_repository(),
    )

    stored = repository.get("alice", "a1")
    assert (stored.name, stored.balance, stored.equity) == (
        "Main account",
        Decimal("12345.67"),
        Decimal("12000"),
    )
    assert updated == stored
