"""Accounts the platform creates at MetaApi, and every account's deploy, undeploy, redeploy, test
and removal: the real API and provisioning handlers against moto and the simulator, driven by the
SDK's own account client, with the provisioning queue fed as Lambda feeds it."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests

from infra.local.resources import LocalResources
from tests.integration.conftest import Api, Simulator

ACCOUNTS = "/api/metatrader/accounts"
# The password under test: searched for everywhere it must never be.
PASSWORD = "Tr4der-Secret-Pass!"
NEW_ACCOUNT = {
    "name": "My MT5",
    "platform": "mt5",
    "server": "SimBroker-Demo",
    "login": "70001234",
    "password": PASSWORD,
    "broker": "Sim Broker Ltd",
}
SETTLED = {"READY", "FAILED", "UNDEPLOYED", "AWAITING_CREDENTIALS"}


@pytest.fixture
def fast(simulator: Simulator) -> Simulator:
    """MetaApi's creations and deployments take a few tenths of a second instead of seconds."""
    simulator.provisioning(creationSeconds=0.2, deploySeconds=0.3, undeploySeconds=0.2)
    return simulator


def follow(
    api: Api,
    poller: Any,
    account_id: str,
    *,
    user: str = "alice",
    until: set[str] = SETTLED,
    timeout: float = 20,
) -> dict[str, Any]:
    """Feed the provisioning worker until the account's status is one of `until`."""
    deadline = time.monotonic() + timeout
    while True:
        poller.poll_once()
        answer = api.call("GET", f"{ACCOUNTS}/{account_id}", user=user)
        assert answer.status == 200, answer.body
        if answer.body["provisioningStatus"] in until:
            body: dict[str, Any] = answer.body
            return body
        assert time.monotonic() < deadline, answer.body
        time.sleep(0.1)


def gone(api: Api, poller: Any, account_id: str, *, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while api.call("GET", f"{ACCOUNTS}/{account_id}", user="alice").status != 404:
        assert time.monotonic() < deadline
        poller.poll_once()
        time.sleep(0.1)


def created(api: Api, body: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
    # A draft's call would wait for the worker (run here by the tests) to have MetaApi make it.
    query = {"wait": "0"} if body and body.get("draft") else None
    answer = api.call(
        "POST", ACCOUNTS, user="alice", body=body or NEW_ACCOUNT, headers=headers or None, query=query
    )
    assert answer.status == 202, answer.body
    assert answer.headers["Location"] == [f"{ACCOUNTS}/{answer.body['id']}"]
    account: dict[str, Any] = answer.body
    return account


def ready_account(api: Api, poller: Any) -> dict[str, Any]:
    account = follow(api, poller, created(api)["id"])
    assert account["provisioningStatus"] == "READY", account
    return account


def password_secrets() -> list[str]:
    names = [secret["Name"] for secret in boto3.client("secretsmanager").list_secrets()["SecretList"]]
    return [name for name in names if "/provisioning/" in name]


def test_an_account_created_with_its_credentials_is_deployed_connected_and_ready(
    api: Api, fast: Simulator, provisioning_poller: Any
) -> None:
    answer = created(api)

    assert answer["provisioningStatus"] == "CREATING"
    assert answer["metaapiAccountId"] is None
    assert answer["createdByPlatform"] is True
    assert [step["step"] for step in answer["provisioning"]["steps"]] == ["accepted"]
    account = follow(api, provisioning_poller, answer["id"])

    assert account["provisioningStatus"] == "READY", account["provisioning"]
    steps = [step["step"] for step in account["provisioning"]["steps"]]
    assert steps[0] == "accepted"
    assert steps[-1] == "ready"
    assert {"creating", "created", "deploying"} <= set(steps)
    times = [step["at"] for step in account["provisioning"]["steps"]]
    assert times == sorted(times)
    assert account["state"] == "DEPLOYED"
    assert account["connectionStatus"] == "CONNECTED"
    assert account["balance"] == 10000
    assert account["currency"] == "USD"
    assert account["region"] == "london"
    assert account["lastSyncAt"] is not None
    [remote] = fast.all_accounts()
    assert remote["id"] == account["metaapiAccountId"]
    assert remote["metadata"] == {"userId": "alice", "accountId": account["id"]}
    assert remote["login"] == "70001234"
    assert fast.provisioning()["accountsCreated"] == 1
    assert password_secrets() == []
    listed = api.call("GET", ACCOUNTS, user="alice").body["items"]
    assert [item["id"] for item in listed] == [account["id"]]


def test_a_ready_account_trades(
    api: Api, fast: Simulator, provisioning_poller: Any, executor_poller: Any
) -> None:
    account = ready_account(api, provisioning_poller)

    answer = api.call(
        "POST",
        f"{ACCOUNTS}/{account['id']}/orders",
        user="alice",
        body={"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.01},
    )
    assert answer.status == 202, answer.body
    executor_poller.poll_once()
    trade = api.call("GET", f"{ACCOUNTS}/{account['id']}/trades/{answer.body['id']}", user="alice").body

    assert trade["status"] == "EXECUTED", trade
    assert fast.sim_positions(account["metaapiAccountId"])[0]["symbol"] == "BTCUSD"


def test_redelivered_and_interrupted_steps_create_one_metaapi_account(
    api: Api, fast: Simulator, provisioning_poller: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mtcore.accounts.repository import AccountsRepository

    sqs = boto3.client("sqs")
    queue_url = provisioning_poller.queue_url
    # A worker that dies right after MetaApi created the account, before it could record it.
    attach = AccountsRepository.attach
    interrupted: list[str] = []

    def dies_once(self: AccountsRepository, *args: Any, **kwargs: Any) -> Any:
        if not interrupted:
            interrupted.append("the step died")
            raise TimeoutError("Task timed out")
        return attach(self, *args, **kwargs)

    monkeypatch.setattr(AccountsRepository, "attach", dies_once)
    account_id = created(api)["id"]
    # Its message delivered again and again meanwhile, as SQS may.
    for _ in range(3):
        message = sqs.receive_message(
            QueueUrl=queue_url, VisibilityTimeout=0, MessageSystemAttributeNames=["All"]
        )
        for copy in message.get("Messages", []):
            sqs.send_message(
                QueueUrl=queue_url,
                MessageBody=copy["Body"],
                MessageGroupId=copy["Attributes"]["MessageGroupId"],
                MessageDeduplicationId=f"redelivery-{time.monotonic_ns()}",
            )
    account = follow(api, provisioning_poller, account_id)

    assert interrupted
    assert account["provisioningStatus"] == "READY", account["provisioning"]
    assert fast.provisioning()["accountsCreated"] == 1
    assert len(fast.all_accounts()) == 1


@pytest.mark.parametrize(
    ("change", "code", "reason"),
    [
        ({"password": "wrong"}, "CREDENTIALS_REFUSED", "the broker refused this login and password"),
        ({"server": "UnknownBroker-Demo"}, "SERVER_NOT_FOUND", "MetaApi does not know this broker server"),
    ],
    ids=["wrong password", "unknown server"],
)
def test_a_refused_creation_fails_with_its_reason_and_leaves_nothing_behind(
    api: Api, fast: Simulator, provisioning_poller: Any, change: dict[str, str], code: str, reason: str
) -> None:
    account = follow(api, provisioning_poller, created(api, {**NEW_ACCOUNT, **change})["id"])

    assert account["provisioningStatus"] == "FAILED"
    assert account["provisioning"]["code"] == code
    assert reason in account["provisioning"]["reason"]
    assert account["provisioning"]["steps"][-1]["step"] == "failed"
    assert fast.all_accounts() == []
    assert password_secrets() == []
    test = api.call("GET", f"{ACCOUNTS}/{account['id']}/test", user="alice").body
    expected = "credentials refused" if code == "CREDENTIALS_REFUSED" else "not created"
    assert test["verdict"] == expected
    trade = api.call(
        "POST",
        f"{ACCOUNTS}/{account['id']}/orders",
        user="alice",
        body={"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.01},
    )
    assert trade.status == 409
    assert trade.body["code"] == "ACCOUNT_NOT_READY"


def test_a_region_without_quota_fails_the_creation(
    api: Api, fast: Simulator, provisioning_poller: Any
) -> None:
    answer = fast.session.put(f"{fast.url}/_sim/regions/singapore", json={"maxAccounts": 0}, timeout=5)
    assert answer.status_code == 200, answer.text

    account = follow(api, provisioning_poller, created(api, {**NEW_ACCOUNT, "region": "singapore"})["id"])

    assert account["provisioningStatus"] == "FAILED"
    assert account["provisioning"]["code"] == "REGION_QUOTA_REACHED"
    assert "singapore" in account["provisioning"]["reason"]
    assert fast.all_accounts() == []


def test_a_deployment_that_never_connects_fails_and_its_metaapi_account_is_removed(
    api: Api, fast: Simulator, provisioning_poller: Any, new_container: Any
) -> None:
    new_container("PROVISIONING_CONNECT_TIMEOUT_S", "2")
    fast.provisioning(neverConnect=True)

    account = follow(api, provisioning_poller, created(api)["id"], timeout=30)

    assert account["provisioningStatus"] == "FAILED"
    assert account["provisioning"]["code"] == "NOT_CONNECTED"
    assert "did not connect to the broker" in account["provisioning"]["reason"]
    assert "the MetaApi account it had begun was removed" in account["provisioning"]["reason"]
    assert account["metaapiAccountId"] is None
    assert fast.all_accounts() == []
    assert fast.provisioning()["accountsDeleted"] == 1
    assert password_secrets() == []


def test_the_password_is_in_no_item_log_line_message_event_or_response(
    api: Api,
    fast: Simulator,
    provisioning_poller: Any,
    aws: LocalResources,
    account_event_listener: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from mtcore.observability import logger

    # The function's log lines as Lambda would ship them (JSON, every key), at DEBUG.
    lines = io.StringIO()
    shipped = logging.StreamHandler(lines)
    shipped.setFormatter(logger.registered_formatter)
    underlying = logging.getLogger(logger.name)
    underlying.addHandler(shipped)
    logger.setLevel("DEBUG")
    caplog.set_level(logging.INFO)
    sqs = boto3.client("sqs")
    answers = [
        api.call("POST", ACCOUNTS, user="alice", body=NEW_ACCOUNT, headers={"Idempotency-Key": "add-1"})
    ]
    answers.append(
        api.call("POST", ACCOUNTS, user="alice", body=NEW_ACCOUNT, headers={"Idempotency-Key": "add-1"})
    )
    account_id = answers[0].body["id"]
    queued = [
        message["Body"]
        for url in sqs.list_queues()["QueueUrls"]
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
    ]
    follow(api, provisioning_poller, account_id)
    answers += [
        api.call("GET", f"{ACCOUNTS}/{account_id}", user="alice"),
        api.call("GET", ACCOUNTS, user="alice"),
        api.call("GET", f"{ACCOUNTS}/{account_id}/test", user="alice"),
    ]
    events = account_event_listener()
    dynamodb = boto3.client("dynamodb")
    items = [
        item
        for name in dynamodb.list_tables()["TableNames"]
        for item in dynamodb.scan(TableName=name)["Items"]
    ]
    underlying.removeHandler(shipped)
    # Every other library's records too, their extra keys included.
    records = json.dumps([record.__dict__ for record in caplog.records], default=str)

    assert queued
    assert "AccountReady" in {event["detail-type"] for event in events}
    assert len(items) > 3
    assert answers[1].body["id"] == account_id
    for where, text in {
        "answers": json.dumps([answer.body for answer in answers]),
        "messages": json.dumps(queued),
        "events": json.dumps(events),
        "items": json.dumps(items),
        "log lines": lines.getvalue(),
        "log records": records,
    }.items():
        assert PASSWORD not in text, where
    # The logs were captured: the functions' JSON lines, and the records behind them.
    assert '"message":"account ready"' in lines.getvalue()
    assert '"message":"account creation accepted"' in lines.getvalue()
    assert "account ready" in records
    assert password_secrets() == []


def test_an_idempotency_key_answers_the_first_account_and_refuses_another_body(
    api: Api, fast: Simulator, provisioning_poller: Any
) -> None:
    first = created(api, NEW_ACCOUNT, **{"Idempotency-Key": "add-2"})
    again = created(api, {**NEW_ACCOUNT, "password": "a different one"}, **{"Idempotency-Key": "add-2"})
    other = api.call(
        "POST",
        ACCOUNTS,
        user="alice",
        body={**NEW_ACCOUNT, "login": "1"},
        headers={"Idempotency-Key": "add-2"},
    )

    assert again["id"] == first["id"]
    assert other.status == 422
    assert other.body["details"][0]["field"] == "header.Idempotency-Key"
    follow(api, provisioning_poller, first["id"])
    assert fast.provisioning()["accountsCreated"] == 1


def test_a_draft_is_answered_with_its_configuration_link_once_metaapi_has_made_it(
    api: Api, fast: Simulator, provisioning_poller: Any
) -> None:
    import threading

    stop = threading.Event()

    def worker_runs() -> None:  # the provisioning function, as Lambda runs it meanwhile
        while not stop.is_set():
            provisioning_poller.poll_once()
            time.sleep(0.05)

    running = threading.Thread(target=worker_runs)
    running.start()
    try:
        answer = api.call(
            "POST", ACCOUNTS, user="alice", body={"draft": True, "name": "Draft", "platform": "mt5"}
        )
    finally:
        stop.set()
        running.join()

    assert answer.status == 202, answer.body
    assert answer.body["provisioningStatus"] == "AWAITING_CREDENTIALS"
    assert answer.body["configurationLink"].startswith(fast.url)
    assert datetime.fromisoformat(answer.body["configurationLinkExpiresAt"]) > datetime.now(UTC) + timedelta(
        days=6
    )
    page = requests.get(answer.body["configurationLink"], timeout=5)
    assert 'name="password"' in page.text
    # Without waiting, the draft is answered as accepted; its link comes from GET …/configuration-link.
    quick = api.call(
        "POST",
        ACCOUNTS,
        user="alice",
        body={"draft": True, "name": "Another", "platform": "mt4"},
        query={"wait": "0"},
    )
    assert (quick.status, quick.body["provisioningStatus"]) == (202, "CREATING")
    assert quick.body["configurationLink"] is None
    linked = api.call(
        "POST", ACCOUNTS, user="alice", body={"metaapiAccountId": fast.account(metadata={"userId": "alice"})}
    )
    assert linked.status == 201
    assert "configurationLink" not in linked.body


def test_a_draft_is_configured_on_metaapis_page_then_deployed(
    api: Api, fast: Simulator, provisioning_poller: Any
) -> None:
    draft = created(api, {"draft": True, "name": "Draft", "platform": "mt4", "server": "SimBroker-Demo"})
    account = follow(api, provisioning_poller, draft["id"])
    assert account["provisioningStatus"] == "AWAITING_CREDENTIALS", account["provisioning"]
    assert fast.all_accounts()[0]["state"] == "DRAFT"

    link = api.call("GET", f"{ACCOUNTS}/{draft['id']}/configuration-link", user="alice")
    assert link.status == 200, link.body
    page = requests.get(link.body["configurationLink"], timeout=5)
    assert page.status_code == 200
    assert 'name="password"' in page.text
    refused = requests.post(
        link.body["configurationLink"], data={"login": "40001", "password": "wrong"}, timeout=5
    )
    assert refused.status_code == 400
    configured = requests.post(
        link.body["configurationLink"], data={"login": "40001", "password": "good"}, timeout=5
    )
    assert configured.status_code == 200
    account = follow(api, provisioning_poller, draft["id"], until={"READY", "FAILED"})

    assert account["provisioningStatus"] == "READY", account["provisioning"]
    assert account["login"] == "40001"
    assert {"configured", "deploying", "ready"} <= {step["step"] for step in account["provisioning"]["steps"]}


def test_undeploy_stops_trades_and_syncs_until_deployed_again(
    api: Api, fast: Simulator, provisioning_poller: Any
) -> None:
    account = ready_account(api, provisioning_poller)
    url = f"{ACCOUNTS}/{account['id']}"

    undeploying = api.call("POST", f"{url}/undeploy", user="alice")
    assert undeploying.status == 202
    assert undeploying.body["provisioningStatus"] == "UNDEPLOYING"
    assert follow(api, provisioning_poller, account["id"])["provisioningStatus"] == "UNDEPLOYED"
    trade = api.call(
        "POST",
        f"{url}/orders",
        user="alice",
        body={"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.01},
    )
    sync = api.call("POST", f"{url}/sync/full", user="alice")
    test = api.call("GET", f"{url}/test", user="alice").body

    assert (trade.status, trade.body["code"]) == (409, "ACCOUNT_UNDEPLOYED")
    assert (sync.status, sync.body["code"]) == (409, "ACCOUNT_UNDEPLOYED")
    assert test["verdict"] == "undeployed"
    assert test["state"] == "UNDEPLOYED"

    assert api.call("POST", f"{url}/deploy", user="alice").status == 202
    assert follow(api, provisioning_poller, account["id"])["provisioningStatus"] == "READY"
    test = api.call("GET", f"{url}/test", user="alice").body
    assert test["verdict"] == "connected"
    assert test["serverTime"] is not None
    assert test["roundTripMs"] > 0

    assert api.call("POST", f"{url}/redeploy", user="alice").status == 202
    redeployed = follow(api, provisioning_poller, account["id"])
    assert redeployed["provisioningStatus"] == "READY"
    assert redeployed["provisioning"]["operation"] == "redeploy"


def test_the_connection_test_tells_a_refused_login_and_a_lost_broker(
    api: Api, fast: Simulator, provisioning_poller: Any
) -> None:
    account = ready_account(api, provisioning_poller)
    url = f"{ACCOUNTS}/{account['id']}/test"
    broker = f"{fast.url}/_sim/accounts/{account['metaapiAccountId']}/broker"

    fast.session.put(broker, json={"credentialsValid": False}, timeout=5).raise_for_status()
    refused = api.call("GET", url, user="alice").body
    fast.session.put(
        broker, json={"credentialsValid": True, "reachable": False}, timeout=5
    ).raise_for_status()
    lost = api.call("GET", url, user="alice").body

    assert refused["verdict"] == "credentials refused"
    assert refused["connectionStatus"] == "DISCONNECTED_FROM_BROKER"
    assert lost["verdict"] == "disconnected from the broker"


def test_removing_from_metaapi_is_for_accounts_the_platform_created(
    api: Api, fast: Simulator, provisioning_poller: Any, linked: tuple[str, str]
) -> None:
    _, linked_id = linked
    account = ready_account(api, provisioning_poller)

    refused = api.call("DELETE", f"{ACCOUNTS}/{linked_id}", user="alice", query={"fromMetaApi": "true"})
    removing = api.call("DELETE", f"{ACCOUNTS}/{account['id']}", user="alice", query={"fromMetaApi": "true"})

    assert refused.status == 404
    assert removing.status == 202
    assert removing.body["provisioningStatus"] == "REMOVING"
    gone(api, provisioning_poller, account["id"])
    assert [remote["id"] for remote in fast.all_accounts()] == [linked[0]]
    assert api.call("GET", f"{ACCOUNTS}/{linked_id}", user="alice").status == 200


def test_an_account_being_created_is_not_unlinked_but_can_be_stopped_and_removed(
    api: Api, fast: Simulator, provisioning_poller: Any
) -> None:
    account_id = created(api)["id"]

    unlink = api.call("DELETE", f"{ACCOUNTS}/{account_id}", user="alice")
    deploy = api.call("POST", f"{ACCOUNTS}/{account_id}/deploy", user="alice")
    removing = api.call("DELETE", f"{ACCOUNTS}/{account_id}", user="alice", query={"fromMetaApi": "true"})

    assert (unlink.status, unlink.body["code"]) == (409, "PROVISIONING_IN_PROGRESS")
    assert (deploy.status, deploy.body["code"]) == (409, "ACCOUNT_NOT_READY")
    assert removing.status == 202
    gone(api, provisioning_poller, account_id)
    # What the creation had made is gone too, and so is the password.
    assert fast.all_accounts() == []
    assert password_secrets() == []


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("POST", "/deploy"),
        ("POST", "/undeploy"),
        ("POST", "/redeploy"),
        ("GET", "/test"),
        ("GET", "/configuration-link"),
        ("DELETE", "?fromMetaApi=true"),
    ],
)
def test_another_users_account_is_not_found_on_every_lifecycle_route(
    api: Api, fast: Simulator, provisioning_poller: Any, method: str, suffix: str
) -> None:
    account_id = created(api)["id"]
    path, _, query = suffix.partition("?")

    answer = api.call(
        method,
        f"{ACCOUNTS}/{account_id}{path}",
        user="bob",
        query=dict([query.split("=")]) if query else None,
    )

    assert answer.status == 404
    assert answer.body["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW_ACCOUNT, "password": None}, "body.password"),
        ({key: value for key, value in NEW_ACCOUNT.items() if key != "server"}, "body.server"),
        ({**NEW_ACCOUNT, "login": "12ab"}, "body.login"),
        ({**NEW_ACCOUNT, "platform": "mt6"}, "body.platform"),
        ({**NEW_ACCOUNT, "reliability": "extreme"}, "body.reliability"),
        ({"draft": True, "name": "Draft", "platform": "mt5", "password": "x"}, "body.password"),
        ({"metaapiAccountId": "abc", "server": "SimBroker-Demo"}, "body.server"),
        ({**NEW_ACCOUNT, "pasword": "typo"}, "body.pasword"),
    ],
    ids=["no password", "no server", "login not digits", "platform", "reliability", "draft with password",
         "link with server", "unknown field"],
)  # fmt: skip
def test_a_bad_account_body_is_a_422_naming_the_field_and_never_echoes_the_password(
    api: Api, body: dict[str, Any], field: str
) -> None:
    answer = api.call("POST", ACCOUNTS, user="alice", body=body)

    assert answer.status == 422, answer.body
    assert field in [problem["field"] for problem in answer.body["details"]]
    assert PASSWORD not in json.dumps(answer.body)


# The worker's steps at a later time: its clock moved on, MetaApi (the simulator) and AWS (moto) as
# they are. Each look is one delivery of the account's message, as `run` gets it from the queue.


def _worker(after: timedelta = timedelta(0), **changes: Any) -> Any:
    from mtcore.provisioning.worker import get_provisioning_worker

    return dataclasses.replace(get_provisioning_worker(), clock=lambda: datetime.now(UTC) + after, **changes)


def _stored(account_id: str) -> Any:
    from mtcore.accounts import get_accounts_repository

    return get_accounts_repository().get("alice", account_id)


def _look(worker: Any, account_id: str, *, looks: int = 1) -> None:
    from mtcore.provisioning.models import ProvisioningMessage

    job = _stored(account_id).provisioning
    message = ProvisioningMessage(account_id=account_id, user_id="alice", operation_id=job.operation_id)
    worker.run(message, receive_count=looks, sent_at=datetime.now(UTC))


def test_a_creation_given_up_on_that_metaapi_finishes_later_is_removed_from_metaapi(
    api: Api, simulator: Simulator
) -> None:
    from mtcore.redelivery import RetryLater

    simulator.provisioning(creationSeconds=1.0, deploySeconds=0.3)
    account_id = created(api)["id"]
    with pytest.raises(RetryLater):
        _look(_worker(), account_id)  # MetaApi took the creation: 202, come back later
    late = _worker(after=timedelta(minutes=16))

    # Out of time, but MetaApi may still finish it: asked once more, it is still creating.
    with pytest.raises(RetryLater):
        _look(late, account_id, looks=2)
    failing = _stored(account_id)
    assert failing.provisioning_status.value == "CREATING"
    assert (failing.provisioning.code, failing.provisioning.steps[-1].step) == ("CREATE_TIMEOUT", "failing")
    time.sleep(1.1)  # MetaApi finishes the account after all
    _look(late, account_id, looks=3)
    account = api.call("GET", f"{ACCOUNTS}/{account_id}", user="alice").body

    assert account["provisioningStatus"] == "FAILED"
    assert account["provisioning"]["code"] == "CREATE_TIMEOUT"
    assert account["provisioning"]["reason"] == (
        "MetaApi did not finish creating the account within 15 minutes; "
        "the MetaApi account it had begun was removed"
    )
    assert simulator.provisioning()["accountsCreated"] == 1
    assert simulator.all_accounts() == []
    assert password_secrets() == []


def test_a_removal_that_begins_while_a_creation_fails_is_carried_out_not_failed(
    api: Api, simulator: Simulator, provisioning_poller: Any
) -> None:
    from mtcore.redelivery import RetryLater

    simulator.provisioning(creationSeconds=0.3)
    account_id = created(api, {**NEW_ACCOUNT, "password": "wrong"})["id"]
    with pytest.raises(RetryLater):
        _look(_worker(), account_id)
    time.sleep(0.4)  # MetaApi has refused the login by now
    worker = _worker()
    provisioner_for = worker.provisioner_for

    class RemovedMeanwhile:
        """MetaApi's answer comes back just after the trader asked to remove the account."""

        def __init__(self, account: Any) -> None:
            self._real = provisioner_for(account)

        def create(self, body: dict[str, Any], *, transaction_id: str) -> Any:
            removing = api.call(
                "DELETE", f"{ACCOUNTS}/{account_id}", user="alice", query={"fromMetaApi": "true"}
            )
            assert removing.status == 202, removing.body
            return self._real.create(body, transaction_id=transaction_id)

    _look(dataclasses.replace(worker, provisioner_for=RemovedMeanwhile), account_id, looks=2)
    removing = _stored(account_id)

    # The removal that replaced the creation stands, unfailed, and finishes.
    assert removing.provisioning_status.value == "REMOVING"
    assert removing.provisioning.operation.value == "remove"
    assert removing.provisioning.reason is None
    gone(api, provisioning_poller, account_id)
    assert simulator.all_accounts() == []
    assert password_secrets() == []


def test_a_draft_waiting_for_its_credentials_outlives_a_metaapi_outage(
    api: Api, fast: Simulator, provisioning_poller: Any
) -> None:
    from mtcore.redelivery import RetryLater

    draft = created(api, {"draft": True, "name": "Draft", "platform": "mt4", "server": "SimBroker-Demo"})
    account = follow(api, provisioning_poller, draft["id"])
    assert account["provisioningStatus"] == "AWAITING_CREDENTIALS"
    fast.fault(account["metaapiAccountId"], "provisioning", "http_500")

    # 26 minutes on, still inside its 30-minute watch, MetaApi fails to answer.
    with pytest.raises(RetryLater):
        _look(_worker(after=timedelta(minutes=26)), draft["id"], looks=40)

    assert _stored(draft["id"]).provisioning_status.value == "AWAITING_CREDENTIALS"
    assert [remote["state"] for remote in fast.all_accounts()] == ["DRAFT"]
    assert fast.provisioning()["accountsDeleted"] == 0


def test_a_configuration_link_watches_a_draft_again_after_its_watch_ran_out(
    api: Api, fast: Simulator, provisioning_poller: Any
) -> None:
    from mtcore.accounts import get_accounts_repository

    draft = created(api, {"draft": True, "name": "Draft", "platform": "mt4", "server": "SimBroker-Demo"})
    follow(api, provisioning_poller, draft["id"])
    # The trader comes back after the watch ran out.
    stored = _stored(draft["id"])
    expired = stored.provisioning.model_copy(update={"watch_until": datetime.now(UTC) - timedelta(minutes=1)})
    get_accounts_repository().update(stored, {"provisioning": expired}, guarded=True)
    provisioning_poller.poll_once()  # the last look of the old watch: it has run out

    link = api.call("GET", f"{ACCOUNTS}/{draft['id']}/configuration-link", user="alice").body
    watch_until = datetime.fromisoformat(
        api.call("GET", f"{ACCOUNTS}/{draft['id']}", user="alice").body["provisioning"]["watchUntil"]
    )
    assert watch_until > datetime.now(UTC) + timedelta(minutes=29)
    configured = requests.post(
        link["configurationLink"], data={"login": "40001", "password": "good"}, timeout=5
    )
    assert configured.status_code == 200
    account = follow(api, provisioning_poller, draft["id"], until={"READY", "FAILED"})

    assert account["provisioningStatus"] == "READY", account["provisioning"]


def test_recording_a_created_account_that_dynamodb_throttles_is_tried_again_not_dropped(
    api: Api, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from mtcore.accounts import get_accounts_repository

    accounts = get_accounts_repository()
    client = accounts._client
    account = _stored(created(api)["id"])
    throttled = client.exceptions.TransactionCanceledException(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": "None"}, {"Code": "ThrottlingError"}, {"Code": "None"}],
        },
        "TransactWriteItems",
    )

    def throttles(**_: Any) -> None:
        raise throttled

    with monkeypatch.context() as patched:
        patched.setattr(client, "transact_write_items", throttles)
        with pytest.raises(ClientError) as raised:
            accounts.attach(account, "metaapi-1", "london", account.provisioning)

    assert raised.value is throttled  # not taken for another operation's having moved on
    assert _stored(account.id).metaapi_account_id is None


def test_a_created_account_is_recorded_when_neither_metaapi_nor_the_request_names_its_region(
    api: Api, simulator: Simulator
) -> None:
    from mtcore.accounts import get_accounts_repository

    account = _stored(created(api)["id"])
    assert account.region is None

    attached = get_accounts_repository().attach(account, "metaapi-1", None, account.provisioning)

    assert (attached.metaapi_account_id, attached.region) == ("metaapi-1", None)
    assert _stored(account.id).metaapi_account_id == "metaapi-1"
