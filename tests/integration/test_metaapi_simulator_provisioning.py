"""The MetaApi simulator's provisioning over time: creation behind 202s, refusals, drafts configured
through their links, deployments that take a while or never connect, brokers that go away, region
quotas, and the admin API that sets all this. Timings are a few tenths of a second on the wall clock;
tests poll for what they wait for."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from werkzeug.test import Client, TestResponse

from infra.local.metaapi_sim import MetaApiSimulator
from tests.integration.simulator_http import ACCOUNTS, OTHER, TOKEN, at, delete, get, js, post, put

CREATION_S, DEPLOY_S, UNDEPLOY_S = 0.4, 0.3, 0.2
NEW_ACCOUNT = {
    "name": "Alice live",
    "server": "ICMarketsSC-Demo",
    "login": "123456",
    "password": "secret",
    "platform": "mt5",
    "magic": 0,
    "keywords": ["Raw Trading Ltd"],
}
DRAFT = {"name": "Bob's account", "server": "ICMarketsSC-Demo", "platform": "mt4", "magic": 0}
T = TypeVar("T")


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sim() -> MetaApiSimulator:
    return MetaApiSimulator(
        seed=7, creation_seconds=CREATION_S, deploy_seconds=DEPLOY_S, undeploy_seconds=UNDEPLOY_S
    )


@pytest.fixture
def http(sim: MetaApiSimulator) -> Client:
    return Client(sim)


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def walled(wall: Wall) -> Client:
    """A simulator whose wall clock the test moves, for waits too long to sit through."""
    return Client(MetaApiSimulator(seed=7, creation_seconds=2.5, wall_clock=wall))


def until(check: Callable[[], T | None], timeout_s: float = 3.0) -> T:
    """What `check` answers once it answers something, polling for at most `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while (answer := check()) is None:
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return answer


def create(http: Client, body: dict[str, Any], transaction: str, token: str = TOKEN) -> TestResponse:
    """Repeats the create call as a client does, until it answers something else than 202."""

    def settled() -> TestResponse | None:
        answer = post(http, ACCOUNTS, body, token=token, transaction_id=transaction)
        return None if answer.status_code == 202 else answer

    return until(settled)


def opened(http: Client, body: dict[str, Any], transaction: str) -> str:
    answer = create(http, body, transaction)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    account_id: str = js(answer)["id"]
    return account_id


def status(http: Client, account_id: str) -> tuple[str, str]:
    account = js(get(http, at(account_id)))
    return account["state"], account["connectionStatus"]


def reaches(http: Client, account_id: str, state: str) -> tuple[str, str]:
    """The account's state and connection status once its state is `state`."""

    def arrived() -> tuple[str, str] | None:
        shown = status(http, account_id)
        return shown if shown[0] == state else None

    return until(arrived)


def provisioning(http: Client) -> dict[str, Any]:
    answer: dict[str, Any] = js(http.get("/_sim/provisioning"))
    return answer


def set_provisioning(http: Client, **settings: Any) -> TestResponse:
    return http.put("/_sim/provisioning", json=settings)


def instant(http: Client) -> None:
    set_provisioning(http, creationSeconds=0, deploySeconds=0, undeploySeconds=0)


def error_of(answer: TestResponse) -> tuple[int, str]:
    return answer.status_code, js(answer)["error"]


def configuration_link(http: Client, account_id: str, query: str = "") -> str:
    answer = put(http, at(account_id, f"/configuration-link{query}"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    link: str = js(answer)["configurationLink"]
    return link.removeprefix("http://localhost")


def submit(http: Client, page: str, **form: str) -> TestResponse:
    return http.post(page, data=form)


# Creation


def test_create_answers_202_until_creation_seconds_pass_then_one_account(http: Client) -> None:
    started = time.monotonic()
    first = post(http, ACCOUNTS, NEW_ACCOUNT, transaction_id="a" * 32)
    again = post(http, ACCOUNTS, NEW_ACCOUNT, transaction_id="a" * 32)

    assert (first.status_code, first.headers["Retry-After"]) == (202, "1")
    assert js(first) == {
        "message": "Automatic broker settings detection is in progress, please retry in 1 seconds"
    }
    assert (again.status_code, again.headers["Retry-After"]) == (202, "1")
    assert js(http.get("/_sim/accounts")) == []

    created = create(http, NEW_ACCOUNT, "a" * 32)
    assert time.monotonic() - started >= CREATION_S
    repeated = [post(http, ACCOUNTS, NEW_ACCOUNT, transaction_id="a" * 32) for _ in range(2)]

    assert created.status_code == 201
    account_id = js(created)["id"]
    assert js(created)["state"] in ("DEPLOYING", "DEPLOYED")
    assert [(r.status_code, js(r)["id"]) for r in repeated] == [(201, account_id)] * 2
    assert [a["id"] for a in js(http.get("/_sim/accounts"))] == [account_id]
    assert provisioning(http)["accountsCreated"] == 1
    # An account with credentials deploys by itself.
    assert reaches(http, account_id, "DEPLOYED") == ("DEPLOYED", "CONNECTED")
    assert get(http, at(account_id, "/positions")).status_code == 200


def test_retry_after_counts_down_whole_seconds_on_the_wall_clock(walled: Client, wall: Wall) -> None:
    def retry_after() -> str:
        answer = post(walled, ACCOUNTS, NEW_ACCOUNT, transaction_id="b" * 32)
        assert answer.status_code == 202
        assert js(answer)["message"].endswith(f"retry in {answer.headers['Retry-After']} seconds")
        return str(answer.headers["Retry-After"])

    assert retry_after() == "3"  # 2.5 s
    wall.now += 1
    assert retry_after() == "2"
    wall.now += 1.25
    assert retry_after() == "1"  # 0.25 s left: at least 1
    wall.now += 0.25
    assert post(walled, ACCOUNTS, NEW_ACCOUNT, transaction_id="b" * 32).status_code == 201


@pytest.mark.parametrize(
    ("change", "details", "message"),
    [
        ({"password": "wrong"}, "E_AUTH", "Failed to authenticate to the broker with the login and password"),
        (
            {"server": "unknownBroker-Live"},
            "E_SRV_NOT_FOUND",
            "Server file not found for server unknownBroker-Live: check the server name",
        ),
    ],
)
def test_a_refused_creation_answers_the_same_every_time(
    http: Client, change: dict[str, str], details: str, message: str
) -> None:
    body = {**NEW_ACCOUNT, **change}

    refused = create(http, body, "c" * 32)
    again = post(http, ACCOUNTS, body, transaction_id="c" * 32)

    for answer in (refused, again):
        assert answer.status_code == 400
        assert js(answer) == {"id": 1, "error": "ValidationError", "message": message, "details": details}
    assert js(get(http, ACCOUNTS)) == []
    assert provisioning(http)["accountsCreated"] == 0


def test_a_full_region_refuses_new_accounts(http: Client, sim: MetaApiSimulator) -> None:
    instant(http)
    assert js(http.put("/_sim/regions/london", json={"maxAccounts": 1})) == {
        "region": "london",
        "maxAccounts": 1,
    }
    sim.create_account(OTHER)  # every user's accounts count

    refused = create(http, NEW_ACCOUNT, "d" * 32)

    assert refused.status_code == 400
    assert js(refused) == {
        "id": 1,
        "error": "QuotaExceededError",
        "message": "Unable to create an account in london because the quota of 1 accounts in london has "
        "been reached. Please contact support in order to extend your quota.",
        "metadata": {"quota": 1, "type": "maxAccounts", "region": "london"},
    }
    assert create(http, {**NEW_ACCOUNT, "region": "new-york"}, "e" * 32).status_code == 201
    assert http.put("/_sim/regions/london", json={"maxAccounts": None}).status_code == 200
    assert create(http, NEW_ACCOUNT, "f" * 32).status_code == 201
    assert js(post(http, ACCOUNTS, NEW_ACCOUNT, transaction_id="d" * 32))["error"] == "QuotaExceededError"


def test_create_takes_both_credentials_or_neither(http: Client) -> None:
    def refused_parameter(body: dict[str, Any]) -> str:
        answer = post(http, ACCOUNTS, body, transaction_id="g" * 32)
        assert answer.status_code == 400, answer.get_data(as_text=True)
        assert js(answer)["error"] == "ValidationError"
        parameter: str = js(answer)["details"][0]["parameter"]
        return parameter

    without = {name: value for name, value in NEW_ACCOUNT.items() if name not in ("login", "password")}
    assert refused_parameter({**without, "login": "123456"}) == "password"
    assert refused_parameter({**without, "password": "secret"}) == "login"
    assert refused_parameter({**NEW_ACCOUNT, "server": ""}) == "server"
    assert refused_parameter({k: v for k, v in NEW_ACCOUNT.items() if k != "server"}) == "server"
    assert refused_parameter({**NEW_ACCOUNT, "broker": "x"}) == "broker"
    assert post(http, ACCOUNTS, DRAFT, transaction_id="h" * 32).status_code == 202


def test_a_deleted_account_is_counted_and_its_transaction_still_answers(http: Client) -> None:
    instant(http)
    account_id = opened(http, NEW_ACCOUNT, "i" * 32)

    assert delete(http, at(account_id)).status_code == 204

    assert provisioning(http)["accountsDeleted"] == 1
    assert get(http, at(account_id)).status_code == 404
    assert js(http.get("/_sim/accounts")) == []
    again = post(http, ACCOUNTS, NEW_ACCOUNT, transaction_id="i" * 32)
    assert (again.status_code, js(again)) == (201, {"id": account_id, "state": "DEPLOYED"})
    assert provisioning(http)["accountsCreated"] == 1


# Drafts and configuration links


def test_a_draft_is_configured_through_its_link_then_deployed(http: Client) -> None:
    set_provisioning(http, creationSeconds=0)
    account_id = opened(http, DRAFT, "j" * 32)
    draft = js(get(http, at(account_id)))
    assert (draft["state"], draft["connectionStatus"], "login" in draft) == ("DRAFT", "DISCONNECTED", False)
    refused = post(http, at(account_id, "/deploy"))
    assert error_of(refused) == (400, "ValidationError")
    assert "configuration link" in js(refused)["message"]

    link = configuration_link(http, account_id)
    assert re.fullmatch(r"/_sim/configure/[0-9a-f]{32,}", link)
    form = http.get(link)
    page = form.get_data(as_text=True)
    assert (form.status_code, form.mimetype) == (200, "text/html")
    assert "<title>Connect Bob&#x27;s account (MT4)</title>" in page
    assert '<form method="post"' in page
    for field in ('name="login"', 'name="password" type="password"', 'name="server"'):
        assert field in page
    assert 'value="ICMarketsSC-Demo"' in page

    wrong = submit(http, link, login="7654321", password="wrong", server="ICMarketsSC-Demo")
    assert (wrong.status_code, wrong.mimetype) == (400, "text/html")
    assert "The broker refused this login and password" in wrong.get_data(as_text=True)
    assert 'name="password"' in wrong.get_data(as_text=True)
    assert status(http, account_id) == ("DRAFT", "DISCONNECTED")

    done = submit(http, link, login="7654321", password="s3cret")  # the server as it was
    assert done.status_code == 200
    assert "Your account is configured" in done.get_data(as_text=True)
    configured = js(get(http, at(account_id)))
    assert (configured["state"], configured["login"], configured["server"]) == (
        "UNDEPLOYED",
        "7654321",
        "ICMarketsSC-Demo",
    )
    assert "s3cret" not in get(http, at(account_id)).get_data(as_text=True)

    started = time.monotonic()
    assert post(http, at(account_id, "/deploy")).status_code == 204
    assert status(http, account_id) == ("DEPLOYING", "DISCONNECTED")
    assert error_of(get(http, at(account_id, "/positions"))) == (409, "NotConnectedError")
    assert reaches(http, account_id, "DEPLOYED") == ("DEPLOYED", "CONNECTED")
    assert time.monotonic() - started >= DEPLOY_S
    assert get(http, at(account_id, "/positions")).status_code == 200


def test_the_configuration_form_shows_what_to_fix(http: Client) -> None:
    instant(http)
    without_server = {name: value for name, value in DRAFT.items() if name != "server"}
    account_id = opened(http, without_server, "k" * 32)
    assert "server" not in js(get(http, at(account_id)))
    link = configuration_link(http, account_id)

    for form, problem in (
        ({"login": "12ab", "password": "x", "server": "S"}, "digits only"),
        ({"login": "123", "password": "", "server": "S"}, "Enter the account&#x27;s password"),
        ({"login": "123", "password": "x"}, "Enter the name of the broker&#x27;s server"),
    ):
        answer = submit(http, link, **form)
        assert answer.status_code == 400
        assert problem in answer.get_data(as_text=True)
    assert status(http, account_id) == ("DRAFT", "DISCONNECTED")

    assert submit(http, link, login="123", password="x", server="Other-Live").status_code == 200
    assert js(get(http, at(account_id)))["server"] == "Other-Live"


def test_configuration_links_expire_and_take_ttl_in_days_from_1_to_30(walled: Client, wall: Wall) -> None:
    assert post(walled, ACCOUNTS, DRAFT, transaction_id="l" * 32).status_code == 202
    wall.now += 2.5
    account_id = js(post(walled, ACCOUNTS, DRAFT, transaction_id="l" * 32))["id"]
    for ttl in ("0", "31", "1.5", "-1", "x", ""):
        refused = put(walled, at(account_id, f"/configuration-link?ttlInDays={ttl}"))
        assert error_of(refused) == (400, "ValidationError"), ttl
        assert js(refused)["details"][0]["parameter"] == "ttlInDays"
    assert put(walled, at(account_id, "/configuration-link"), token=OTHER).status_code == 404

    one_day = configuration_link(walled, account_id, "?ttlInDays=1")
    default = configuration_link(walled, account_id)  # 7 days; the older link stays valid
    assert one_day != default
    wall.now += 86400 - 1
    assert walled.get(one_day).status_code == 200
    wall.now += 1

    expired = walled.get(one_day)
    assert (expired.status_code, expired.mimetype) == (404, "text/html")
    assert "not valid or has expired" in expired.get_data(as_text=True)
    assert submit(walled, one_day, login="1", password="x", server="S").status_code == 404
    assert walled.get(default).status_code == 200
    wall.now += 6 * 86400
    assert walled.get(default).status_code == 404
    assert walled.get("/_sim/configure/" + "0" * 32).status_code == 404


# Deployment over time


def test_undeploy_and_redeploy_take_their_time(http: Client, sim: MetaApiSimulator) -> None:
    account_id = sim.create_account(TOKEN)
    assert status(http, account_id) == ("DEPLOYED", "CONNECTED")

    assert post(http, at(account_id, "/undeploy")).status_code == 204
    assert status(http, account_id) == ("UNDEPLOYING", "DISCONNECTED")
    assert error_of(get(http, at(account_id, "/account-information"))) == (409, "NotConnectedError")
    assert reaches(http, account_id, "UNDEPLOYED") == ("UNDEPLOYED", "DISCONNECTED")
    assert post(http, at(account_id, "/undeploy")).status_code == 204
    assert status(http, account_id) == ("UNDEPLOYED", "DISCONNECTED")

    assert post(http, at(account_id, "/deploy")).status_code == 204
    assert post(http, at(account_id, "/deploy")).status_code == 204  # ignored while deploying
    assert status(http, account_id) == ("DEPLOYING", "DISCONNECTED")
    assert reaches(http, account_id, "DEPLOYED") == ("DEPLOYED", "CONNECTED")
    assert post(http, at(account_id, "/deploy")).status_code == 204
    assert status(http, account_id) == ("DEPLOYED", "CONNECTED")

    assert post(http, at(account_id, "/redeploy")).status_code == 204
    assert status(http, account_id) == ("DEPLOYING", "DISCONNECTED")
    assert reaches(http, account_id, "DEPLOYED") == ("DEPLOYED", "CONNECTED")
    assert [a["state"] for a in js(get(http, f"{ACCOUNTS}?state=DEPLOYED"))] == ["DEPLOYED"]


def test_a_draft_cannot_be_undeployed_or_redeployed(http: Client) -> None:
    instant(http)
    account_id = opened(http, DRAFT, "m" * 32)

    for action in ("/undeploy", "/redeploy", "/deploy"):
        assert error_of(post(http, at(account_id, action))) == (400, "ValidationError")
    assert [a["_id"] for a in js(get(http, f"{ACCOUNTS}?state=DRAFT&query=bob"))] == [account_id]


def test_never_connect_holds_every_deployment_from_now_on(http: Client, sim: MetaApiSimulator) -> None:
    running, untouched = sim.create_account(TOKEN), sim.create_account(TOKEN)
    instant(http)
    on = set_provisioning(http, neverConnect=True)
    assert js(on)["neverConnect"] is True

    stuck = opened(http, NEW_ACCOUNT, "n" * 32)
    assert post(http, at(running, "/redeploy")).status_code == 204

    for account_id in (stuck, running):
        assert status(http, account_id) == ("DEPLOYED", "DISCONNECTED_FROM_BROKER")
        assert error_of(get(http, at(account_id, "/positions"))) == (409, "NotConnectedError")
    assert status(http, untouched) == ("DEPLOYED", "CONNECTED")
    assert js(set_provisioning(http, neverConnect=False))["neverConnect"] is False
    assert status(http, stuck) == ("DEPLOYED", "DISCONNECTED_FROM_BROKER")  # until deployed again
    assert post(http, at(stuck, "/redeploy")).status_code == 204
    assert status(http, stuck) == ("DEPLOYED", "CONNECTED")


def test_a_broker_out_of_reach_disconnects_at_once(http: Client, sim: MetaApiSimulator) -> None:
    account_id = sim.create_account(TOKEN)

    away = http.put(f"/_sim/accounts/{account_id}/broker", json={"reachable": False})
    assert away.status_code == 200
    assert (js(away)["_id"], js(away)["connectionStatus"]) == (account_id, "DISCONNECTED_FROM_BROKER")
    assert error_of(get(http, at(account_id, "/positions"))) == (409, "NotConnectedError")
    assert post(http, at(account_id, "/redeploy")).status_code == 204
    assert reaches(http, account_id, "DEPLOYED") == ("DEPLOYED", "DISCONNECTED_FROM_BROKER")

    back = http.put(f"/_sim/accounts/{account_id}/broker", json={"reachable": True})
    assert js(back)["connectionStatus"] == "CONNECTED"
    assert get(http, at(account_id, "/positions")).status_code == 200


def test_refused_credentials_answer_not_authenticated(http: Client, sim: MetaApiSimulator) -> None:
    account_id = sim.create_account(TOKEN)

    refused = http.put(f"/_sim/accounts/{account_id}/broker", json={"credentialsValid": False})

    assert js(refused)["connectionStatus"] == "DISCONNECTED_FROM_BROKER"
    trade = {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.1}
    for answer in (get(http, at(account_id, "/positions")), post(http, at(account_id, "/trade"), trade)):
        assert answer.status_code == 409
        assert js(answer) == {
            "id": 1,
            "error": "NotAuthenticatedError",
            "message": "Authorization failed: the broker refused the account's login and password",
        }
    # New credentials typed in through a configuration link are taken.
    link = configuration_link(http, account_id)
    assert submit(http, link, login="5001234", password="new-one").status_code == 200
    assert status(http, account_id) == ("DEPLOYED", "CONNECTED")
    assert get(http, at(account_id, "/positions")).status_code == 200


# Regions and the admin API


def test_regions(http: Client) -> None:
    assert js(get(http, "/users/current/regions")) == ["london", "new-york", "singapore", "vint-hill"]
    assert get(http, "/users/current/regions", token=None).status_code == 401

    assert http.put("/_sim/regions/frankfurt", json={"maxAccounts": 0}).status_code == 200

    assert js(get(http, "/users/current/regions")) == [
        "frankfurt",
        "london",
        "new-york",
        "singapore",
        "vint-hill",
    ]


def test_admin_lists_every_account_of_every_token(http: Client, sim: MetaApiSimulator) -> None:
    instant(http)
    alices = sim.create_account(TOKEN, metadata={"userId": "alice"})
    bobs = opened(http, DRAFT, "o" * 32)  # a draft: no login

    listed = js(http.get("/_sim/accounts"))

    assert [a["id"] for a in listed] == [alices, bobs]
    assert set(listed[0]) == {
        "id",
        "name",
        "login",
        "server",
        "platform",
        "region",
        "state",
        "connectionStatus",
        "metadata",
        "createdAt",
    }
    assert (listed[0]["state"], listed[0]["connectionStatus"], listed[0]["metadata"]) == (
        "DEPLOYED",
        "CONNECTED",
        {"userId": "alice"},
    )
    assert set(listed[1]) == {
        "id",
        "name",
        "server",
        "platform",
        "region",
        "state",
        "connectionStatus",
        "createdAt",
    }
    assert TOKEN not in http.get("/_sim/accounts").get_data(as_text=True)


def test_provisioning_settings_are_validated_before_anything_changes(http: Client) -> None:
    assert provisioning(http) == {
        "creationSeconds": CREATION_S,
        "deploySeconds": DEPLOY_S,
        "undeploySeconds": UNDEPLOY_S,
        "neverConnect": False,
        "accountsCreated": 0,
        "accountsDeleted": 0,
    }
    for body in (
        {"creationSeconds": -1},
        {"deploySeconds": 601},
        {"undeploySeconds": "1"},
        {"deploySeconds": True},
        {"neverConnect": "yes"},
        {"creationSeconds": 1, "speed": 2},
    ):
        refused = set_provisioning(http, **body)
        assert error_of(refused) == (400, "ValidationError"), body
    assert error_of(http.put("/_sim/provisioning", json=[1])) == (400, "ValidationError")
    assert provisioning(http)["creationSeconds"] == CREATION_S

    changed = set_provisioning(http, creationSeconds=600, deploySeconds=0.5, neverConnect=True)

    assert js(changed) == {**provisioning(http), "creationSeconds": 600, "deploySeconds": 0.5}
    assert js(changed)["neverConnect"] is True


def test_broker_and_region_bodies_are_validated(http: Client, sim: MetaApiSimulator) -> None:
    account_id = sim.create_account(TOKEN)
    for body in ({"reachable": "no"}, {"credentialsValid": 1}, {"speed": 1}):
        assert error_of(http.put(f"/_sim/accounts/{account_id}/broker", json=body)) == (
            400,
            "ValidationError",
        )
    assert status(http, account_id) == ("DEPLOYED", "CONNECTED")
    assert http.put("/_sim/accounts/nope/broker", json={"reachable": False}).status_code == 404

    quotas: list[dict[str, Any]] = [
        {"maxAccounts": -1},
        {"maxAccounts": 1.5},
        {"maxAccounts": True},
        {},
        {"max": 1},
    ]
    for quota in quotas:
        assert error_of(http.put("/_sim/regions/london", json=quota)) == (400, "ValidationError"), quota
    assert js(http.put("/_sim/regions/london", json={"maxAccounts": None})) == {
        "region": "london",
        "maxAccounts": None,
    }
