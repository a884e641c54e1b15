"""The WSGI application: routing, auth-token scoping, armed faults and the provisioning flow."""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from infra.local.metaapi_sim import admin, client, configuration
from infra.local.metaapi_sim.accounts import DRAFT, Account, TradeRecord
from infra.local.metaapi_sim.creation import Creation, detection_message, refusal, region_ids, retry_after
from infra.local.metaapi_sim.errors import ApiError, invalid, not_connected, not_found
from infra.local.metaapi_sim.faults import Fault, rate_limited
from infra.local.metaapi_sim.market import Market
from infra.local.metaapi_sim.provisioning import (
    NewAccount,
    parse_new_account,
    select_accounts,
    update_account,
)
from infra.local.metaapi_sim.symbols import CURRENCIES, Catalogue
from infra.local.metaapi_sim.terminal import HEDGING, MARGIN_MODES, Terminal, Tickets
from infra.local.metaapi_sim.trading import TradeResult, execute_trade
from infra.local.metaapi_sim.triggers import catch_up
from infra.local.metaapi_sim.wire import dumps, parse_json, parse_object

logger = logging.getLogger(__name__)

ACCOUNTS = "/users/current/accounts"
ACCOUNT = f"{ACCOUNTS}/<account_id>"
# What a `malformed` fault answers, after carrying the call out: a body in no documented shape.
GARBLED = ["not", "what", "MetaApi documents"]
# Trade faults that refuse the request before it reaches the terminal.
REFUSALS = {
    "requote": ("TRADE_RETCODE_REQUOTE", "Requote"),
    "market_closed": ("TRADE_RETCODE_MARKET_CLOSED", "Market is closed"),
    "invalid_stops": ("TRADE_RETCODE_INVALID_STOPS", "Invalid stops in the request"),
    "not_connected": ("TRADE_RETCODE_CONNECTION", "No connection with the trade server"),
}

StartResponse = Callable[..., Any]
AccountHandler = Callable[..., Any]


@dataclass(frozen=True)
class _AccountRoute:
    """A route under an account: `handler(account, request, **path_args)` answers a JSON payload
    (None answers 204). `fault` names the endpoint admin faults are armed on."""

    handler: AccountHandler
    fault: str
    client: bool  # client API routes need a deployed and connected terminal


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(payload), status=status, headers=headers, content_type="application/json")


def _token(request: Request) -> str:
    token = (request.headers.get("auth-token") or "").strip()
    if not token:
        raise ApiError(401, "Authorization token is missing or invalid")
    return token


class MetaApiSimulator:
    """MetaApi's provisioning and client REST APIs on one host, plus the `/_sim` admin API."""

    def __init__(
        self,
        seed: int = 7,
        time_source: Callable[[], float] = time.time,
        *,
        creation_seconds: float = 2.0,
        deploy_seconds: float = 3.0,
        undeploy_seconds: float = 1.0,
        wall_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = time_source
        # Provisioning takes time on the wall clock, as clients wait out Retry-After on it, whatever
        # the market clock (which tests may freeze) says.
        self._wall = wall_clock
        self._provisioning = admin.Provisioning(creation_seconds, deploy_seconds, undeploy_seconds)
        self._quotas: dict[str, int | None] = {}
        self._links: dict[str, configuration.Link] = {}
        # One lock for everything: requests are short, and trades must see a consistent terminal.
        self._lock = threading.RLock()
        self._ids = random.Random(seed)  # noqa: S311 - reproducible ids, not secrets
        self._market = Market(seed, time_source)
        self._symbols = Catalogue()
        self._tickets = Tickets()
        self._accounts: dict[str, Account] = {}
        self._creations: dict[tuple[str, str], Creation] = {}
        # The network: each MetaApi call answers after `latency` seconds (0: at once). Calls wait
        # side by side, outside the lock, as they would on the wire.
        self._latency = 0.0
        self._traffic = threading.Lock()
        self._in_flight = 0
        self._peak_in_flight = 0
        self._calls: Counter[str] = Counter()
        self._plain: dict[str, Callable[..., Response]] = {
            "list_accounts": self._list_accounts,
            "create_account": self._create_account_call,
            "regions": self._regions,
            "trade": self._trade,
            "arm_fault": self._arm_fault,
            "clear_faults": self._clear_faults,
            "open_position": self._open_position,
            "change_account": self._change_account,
            "name_symbols": self._name_symbols,
            "trades": self._trades,
            "pin_price": self._pin_price,
            "override_symbol": self._override_symbol,
            "reset_symbol": self._reset_symbol,
            "set_network": self._set_network,
            "network": self._network,
            "calls": self._call_counts,
            "provisioning": self._provisioning_settings,
            "set_provisioning": self._set_provisioning,
            "all_accounts": self._all_accounts,
            "set_broker": self._set_broker,
            "set_quota": self._set_quota,
            "configure_page": self._configure_page,
            "configure": self._configure,
        }
        self._account_routes = self._build_account_routes()
        self._urls = Map(self._rules(), strict_slashes=False, merge_slashes=False)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        response = self._respond(Request(environ))
        return response(environ, start_response)

    def create_account(
        self,
        token: str,
        *,
        name: str = "Demo",
        platform: str = "mt5",
        login: str = "5001234",
        server: str = "SimBroker-Demo",
        region: str = "london",
        metadata: dict[str, Any] | None = None,
        balance: Decimal = Decimal("10000"),
        leverage: int = 100,
        currency: str = "USD",
        margin_mode: str = HEDGING,
    ) -> str:
        """A DEPLOYED and CONNECTED account owned by `token`; answers its id."""
        if currency not in CURRENCIES:
            raise ValueError(f"currency must be one of {', '.join(CURRENCIES)}")
        if margin_mode not in MARGIN_MODES:
            raise ValueError(f"margin_mode must be one of {sorted(MARGIN_MODES)}")
        if platform not in ("mt4", "mt5") or leverage < 1 or balance < 0 or not login.isdigit():
            raise ValueError("platform must be mt4 or mt5, leverage >= 1, balance >= 0, login digits")
        request = NewAccount(
            name=name,
            server=server,
            login=login,
            magic=0,
            platform=platform,
            region=region,
            reliability="regular",
            credentials_rejected=False,
            metadata=metadata,
        )
        with self._lock:
            return self._open_account(
                token, request, currency=currency, balance=balance, leverage=leverage, margin_mode=margin_mode
            ).id

    # Plumbing

    def _respond(self, request: Request) -> Response:
        if request.path.startswith("/_sim"):
            return self._route(request)
        with self._traffic:
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
            latency = self._latency
        try:
            if latency:
                time.sleep(latency)
            return self._route(request)
        finally:
            with self._traffic:
                self._in_flight -= 1

    def _route(self, request: Request) -> Response:
        try:
            endpoint, args = self._urls.bind_to_environ(request.environ).match()
        except HTTPException:
            return _json(not_found(f"Cannot {request.method} {request.path}").body(), 404)
        if not request.path.startswith("/_sim"):
            with self._traffic:
                self._calls[str(endpoint).replace("_", "-")] += 1
        try:
            route = self._account_routes.get(str(endpoint))
            if route is not None:
                return self._account_call(request, route, dict(args))
            return self._plain[str(endpoint)](request, **args)
        except ApiError as error:
            return _json(error.body(), error.status, error.headers)
        except Exception:
            logger.exception("MetaApi simulator failed on %s %s", request.method, request.path)
            return _json(ApiError(500, "Internal error").body(), 500)

    def _rules(self) -> list[Rule]:
        account_rules = [
            ("", "GET", "get_account"),
            ("", "PUT", "update_account"),
            ("", "DELETE", "delete_account"),
            ("/deploy", "POST", "deploy"),
            ("/undeploy", "POST", "undeploy"),
            ("/redeploy", "POST", "redeploy"),
            ("/configuration-link", "PUT", "configuration_link"),
            ("/account-information", "GET", "account_information"),
            ("/positions", "GET", "positions"),
            ("/positions/<position_id>", "GET", "position"),
            ("/orders", "GET", "orders"),
            ("/orders/<order_id>", "GET", "order"),
            ("/history-orders/time/<start>/<end>", "GET", "history_orders_time"),
            ("/history-orders/position/<position_id>", "GET", "history_orders_position"),
            ("/history-orders/ticket/<ticket>", "GET", "history_orders_ticket"),
            ("/history-deals/time/<start>/<end>", "GET", "history_deals_time"),
            ("/history-deals/position/<position_id>", "GET", "history_deals_position"),
            ("/symbols", "GET", "symbols"),
            ("/symbols/<symbol>/specification", "GET", "specification"),
            ("/symbols/<symbol>/current-price", "GET", "current_price"),
            ("/server-time", "GET", "server_time"),
            ("/calculate-margin", "POST", "calculate_margin"),
            ("/trade", "POST", "trade"),
        ]
        return [
            Rule(ACCOUNTS, methods=["GET"], endpoint="list_accounts"),
            Rule(ACCOUNTS, methods=["POST"], endpoint="create_account"),
            Rule("/users/current/regions", methods=["GET"], endpoint="regions"),
            *(
                Rule(ACCOUNT + suffix, methods=[method], endpoint=name)
                for suffix, method, name in account_rules
            ),
            Rule("/_sim/accounts/<account_id>/faults", methods=["POST"], endpoint="arm_fault"),
            Rule("/_sim/accounts/<account_id>/faults", methods=["DELETE"], endpoint="clear_faults"),
            Rule("/_sim/accounts/<account_id>/positions", methods=["POST"], endpoint="open_position"),
            Rule("/_sim/accounts/<account_id>", methods=["PUT"], endpoint="change_account"),
            Rule("/_sim/accounts/<account_id>/symbols", methods=["PUT"], endpoint="name_symbols"),
            Rule("/_sim/accounts/<account_id>/trades", methods=["GET"], endpoint="trades"),
            Rule("/_sim/prices/<symbol>", methods=["PUT"], endpoint="pin_price"),
            Rule("/_sim/symbols/<symbol>", methods=["PUT"], endpoint="override_symbol"),
            Rule("/_sim/symbols/<symbol>", methods=["DELETE"], endpoint="reset_symbol"),
            Rule("/_sim/network", methods=["PUT"], endpoint="set_network"),
            Rule("/_sim/network", methods=["GET"], endpoint="network"),
            Rule("/_sim/calls", methods=["GET"], endpoint="calls"),
            Rule("/_sim/provisioning", methods=["GET"], endpoint="provisioning"),
            Rule("/_sim/provisioning", methods=["PUT"], endpoint="set_provisioning"),
            Rule("/_sim/accounts", methods=["GET"], endpoint="all_accounts"),
            Rule("/_sim/accounts/<account_id>/broker", methods=["PUT"], endpoint="set_broker"),
            Rule("/_sim/regions/<region>", methods=["PUT"], endpoint="set_quota"),
            Rule(configuration.PATH + "<link_token>", methods=["GET"], endpoint="configure_page"),
            Rule(configuration.PATH + "<link_token>", methods=["POST"], endpoint="configure"),
        ]

    def _build_account_routes(self) -> dict[str, _AccountRoute]:
        def provisioning(handler: AccountHandler) -> _AccountRoute:
            return _AccountRoute(handler, "provisioning", client=False)

        def reading(fault: str, handler: AccountHandler) -> _AccountRoute:
            return _AccountRoute(handler, fault, client=True)

        return {
            "get_account": provisioning(lambda account, _request: account.to_json()),
            "update_account": provisioning(self._update_account),
            "delete_account": provisioning(self._delete_account),
            "deploy": provisioning(self._deploy),
            "undeploy": provisioning(self._undeploy),
            "redeploy": provisioning(self._redeploy),
            "configuration_link": provisioning(self._configuration_link),
            "account_information": reading(
                "account-information", lambda account, _request: client.account_information(account)
            ),
            "positions": reading("positions", lambda account, _request: client.positions(account.terminal)),
            "position": reading(
                "positions",
                lambda account, _request, position_id: client.position(account.terminal, position_id),
            ),
            "orders": reading("orders", lambda account, _request: client.orders(account.terminal)),
            "order": reading(
                "orders", lambda account, _request, order_id: client.order(account.terminal, order_id)
            ),
            "history_orders_time": reading(
                "history-orders",
                lambda account, request, start, end: client.between(
                    account.terminal.history_orders, start, end, request.args
                ),
            ),
            "history_orders_position": reading(
                "history-orders",
                lambda account, _request, position_id: client.by_position(
                    account.terminal.history_orders, position_id
                ),
            ),
            "history_orders_ticket": reading(
                "history-orders",
                lambda account, _request, ticket: client.by_ticket(account.terminal.history_orders, ticket),
            ),
            "history_deals_time": reading(
                "history-deals",
                lambda account, request, start, end: client.between(
                    account.terminal.deals, start, end, request.args
                ),
            ),
            "history_deals_position": reading(
                "history-deals",
                lambda account, _request, position_id: client.by_position(
                    account.terminal.deals, position_id
                ),
            ),
            "symbols": reading(
                "symbols", lambda account, _request: account.terminal.symbol_names or self._symbols.names()
            ),
            "specification": reading(
                "specification",
                lambda _account, _request, symbol: client.spec_of(self._symbols, symbol).specification(),
            ),
            "current_price": reading(
                "current-price",
                lambda account, _request, symbol: client.current_price(account.terminal, symbol),
            ),
            "server_time": reading(
                "server-time", lambda _account, _request: client.server_time(self._clock())
            ),
            "calculate_margin": reading(
                "calculate-margin",
                lambda account, request: client.calculate_margin(
                    account.terminal, parse_object(request.get_data())
                ),
            ),
        }

    def _owned(self, token: str, account_id: str) -> Account:
        """Another user's account looks exactly like a missing one."""
        account = self._accounts.get(account_id)
        if account is None or account.owner != token:
            raise not_found(f"Account {account_id} not found")
        return self._settled(account)

    def _existing(self, account_id: str) -> Account:
        account = self._accounts.get(account_id)
        if account is None:
            raise not_found(f"Account {account_id} not found")
        return self._settled(account)

    def _settled(self, account: Account) -> Account:
        """The account as it is now: a deployment whose time is up has ended. Callers hold the lock."""
        account.settle(self._wall())
        return account

    def _suffer(self, fault: Fault) -> None:
        """Plays the faults every endpoint shares. A timeout answers normally, only late."""
        if fault.kind == "timeout":
            time.sleep(float(fault.delay_seconds))
        elif fault.kind == "http_429":
            # Wall-clock time, not time_source: the client waits on its own clock, and this must
            # agree with the Retry-After header even when tests run the market clock elsewhere.
            raise rate_limited(fault, time.time())
        elif fault.kind == "http_500":
            raise ApiError(500, "An internal error occurred, please retry later")
        elif fault.kind == "not_connected" and fault.endpoint != "trade":
            raise not_connected()

    def _account_call(self, request: Request, route: _AccountRoute, args: dict[str, str]) -> Response:
        token = _token(request)
        account_id = args.pop("account_id")
        with self._lock:
            fault = self._owned(token, account_id).faults.take(route.fault)
        if fault is not None:
            self._suffer(fault)  # outside the lock: a timeout must not stall other requests
        with self._lock:
            account = self._owned(token, account_id)
            catch_up(account.terminal)
            if route.client:
                account.require_connection()
            # A refreshed read waits for the terminal's own state: a stale empty list cannot happen.
            refreshed = request.args.get("refreshTerminalState") == "true"
            if fault is not None and fault.kind == "empty_positions" and not refreshed:
                if "position_id" in args:
                    raise not_found(f"Position {args['position_id']} not found")
                return _json([])
            payload = route.handler(account, request, **args)
        if fault is not None and fault.kind == "malformed":
            return _json(GARBLED)
        return Response(status=204) if payload is None else _json(payload)

    # Provisioning

    def _open_account(
        self,
        token: str,
        request: NewAccount,
        *,
        currency: str = "USD",
        balance: Decimal = Decimal(10000),
        leverage: int = 100,
        margin_mode: str = HEDGING,
    ) -> Account:
        """A DEPLOYED and CONNECTED account; the provisioning API then takes it where it must be."""
        now = self._clock()
        terminal = Terminal(
            platform=request.platform,
            currency=currency,
            balance=balance,
            leverage=leverage,
            margin_mode=margin_mode,
            market=self._market,
            symbols=self._symbols,
            tickets=self._tickets,
            clock=self._clock,
        )
        account = Account(
            id=str(uuid.UUID(int=self._ids.getrandbits(128), version=4)),
            owner=token,
            name=request.name,
            login=request.login,
            server=request.server,
            magic=request.magic,
            platform=request.platform,
            region=request.region,
            created_at=now,
            terminal=terminal,
            metadata=request.metadata,
            tags=list(request.tags),
            slippage=request.slippage,
            manual_trades=request.manual_trades,
            reliability=request.reliability,
        )
        self._accounts[account.id] = account
        return account

    def _list_accounts(self, request: Request) -> Response:
        token = _token(request)
        version = request.headers.get("api-version", "1").strip()
        if version not in ("1", "2"):
            raise invalid("must be 1 or 2", parameter="api-version", value=version)
        with self._lock:
            own = [self._settled(account) for account in self._accounts.values() if account.owner == token]
            count, page = select_accounts(own, request.args)
            items = [account.to_json() for account in page]
        return _json(items if version == "1" else {"count": count, "items": items})

    def _create_account_call(self, request: Request) -> Response:
        token = _token(request)
        transaction = (request.headers.get("transaction-id") or "").strip()
        if not transaction:
            raise invalid("header is required", parameter="transaction-id")
        with self._lock:
            now = self._wall()
            creation = self._creations.get((token, transaction))
            if creation is None:
                new = parse_new_account(parse_object(request.get_data()))
                creation = Creation(new, ready_at=now + self._provisioning.creation_seconds)
                self._creations[(token, transaction)] = creation
            elif not creation.decided and now >= creation.ready_at:
                self._decide(token, creation, now)
            if not creation.decided:
                seconds = retry_after(creation.ready_at - now)
                return _json({"message": detection_message(seconds)}, 202, {"Retry-After": str(seconds)})
            if creation.refusal is not None:
                raise creation.refusal
            assert creation.account is not None
            account = self._settled(creation.account)
            return _json({"id": account.id, "state": account.state}, 201)

    def _decide(self, token: str, creation: Creation, now: float) -> None:
        """Refuses the account, or opens it: a draft waits for its credentials, any other deploys."""
        new = creation.request
        in_region = sum(account.region == new.region for account in self._accounts.values())
        creation.refusal = refusal(new, self._quotas.get(new.region), in_region)
        if creation.refusal is not None:
            return
        account = self._open_account(token, new)
        self._provisioning.accounts_created += 1
        if new.draft:
            account.state = DRAFT
        else:
            account.redeploy(now, self._provisioning.deploy_seconds, connects=self._connects())
        creation.account = account

    def _update_account(self, account: Account, request: Request) -> None:
        update_account(account, parse_object(request.get_data()))

    def _delete_account(self, account: Account, _request: Request) -> None:
        del self._accounts[account.id]
        self._provisioning.accounts_deleted += 1

    def _connects(self) -> bool:
        """Whether a deployment started now will connect."""
        return not self._provisioning.never_connect

    def _deploy(self, account: Account, _request: Request) -> None:
        account.deploy(self._wall(), self._provisioning.deploy_seconds, connects=self._connects())

    def _redeploy(self, account: Account, _request: Request) -> None:
        account.redeploy(self._wall(), self._provisioning.deploy_seconds, connects=self._connects())

    def _undeploy(self, account: Account, _request: Request) -> None:
        account.undeploy(self._wall(), self._provisioning.undeploy_seconds)

    def _configuration_link(self, account: Account, request: Request) -> dict[str, str]:
        """A fresh link each time; older ones stay valid until they expire."""
        days = configuration.ttl_days(request.args.get("ttlInDays"))
        link_token = f"{self._ids.getrandbits(128):032x}"
        expires_at = self._wall() + days * configuration.DAY_SECONDS
        self._links[link_token] = configuration.Link(account.id, expires_at)
        return {"configurationLink": request.root_url.rstrip("/") + configuration.PATH + link_token}

    def _regions(self, request: Request) -> Response:
        _token(request)
        with self._lock:
            return _json(region_ids(self._quotas))

    # Trading

    def _trade(self, request: Request, account_id: str) -> Response:
        token = _token(request)
        raw = request.get_data()
        try:
            body = parse_json(raw)
        except ApiError:
            body = raw.decode(errors="replace")  # recorded as received; the trade answers INVALID
        with self._lock:
            fault = self._owned(token, account_id).faults.take("trade")
            record = TradeRecord(time=self._clock(), body=body, fault=None if fault is None else fault.kind)
            self._accounts[account_id].trades.append(record)
        try:
            if fault is not None:
                self._suffer(fault)
            with self._lock:
                account = self._owned(token, account_id)
                catch_up(account.terminal)
                account.require_connection()
                result = self._apply_trade(account, body, fault, record)
                record.http_status, record.response = 200, result.to_json()
        except ApiError as error:
            with self._lock:
                record.http_status, record.response = error.status, error.body()
            raise
        if fault is not None and fault.kind == "malformed":
            return _json(GARBLED)
        return _json(result.to_json())

    def _apply_trade(
        self, account: Account, body: Any, fault: Fault | None, record: TradeRecord
    ) -> TradeResult:
        kind = None if fault is None else fault.kind
        if kind in REFUSALS:
            return TradeResult(*REFUSALS[kind])
        if fault is not None and kind == "execute_late":
            timer = threading.Timer(
                float(fault.delay_seconds), self._execute_late, (account.id, body, record)
            )
            timer.daemon = True
            timer.start()
            return TradeResult("ERR_TRADE_TIMED_OUT", "Trade request timed out")
        result = execute_trade(account.terminal, body, default_magic=account.magic)
        record.executed = result.executed
        if kind == "disconnect_after_execute":
            return TradeResult(
                "TRADE_RETCODE_DISCONNECTED_DURING_TRADE",
                "Connection to the broker was lost during the trade",
            )
        return result

    def _execute_late(self, account_id: str, body: Any, record: TradeRecord) -> None:
        with self._lock:
            account = self._accounts.get(account_id)
            if account is None:
                return
            catch_up(account.terminal)
            result = execute_trade(account.terminal, body, default_magic=account.magic)
            record.executed, record.late_result = result.executed, result.to_json()

    # Admin

    def _arm_fault(self, request: Request, account_id: str) -> Response:
        with self._lock:
            return _json(admin.arm_fault(self._existing(account_id), parse_object(request.get_data())), 201)

    def _clear_faults(self, _request: Request, account_id: str) -> Response:
        with self._lock:
            self._existing(account_id).faults.clear()
        return Response(status=204)

    def _open_position(self, request: Request, account_id: str) -> Response:
        with self._lock:
            account = self._existing(account_id)
            catch_up(account.terminal)
            return _json(admin.open_position_by_hand(account, parse_object(request.get_data())), 201)

    def _change_account(self, request: Request, account_id: str) -> Response:
        with self._lock:
            account = self._existing(account_id)
            catch_up(account.terminal)
            admin.change_account(account, parse_object(request.get_data()))
            return _json(client.account_information(account))

    def _name_symbols(self, request: Request, account_id: str) -> Response:
        with self._lock:
            account = self._existing(account_id)
            names = admin.name_symbols(self._symbols, self._market, account, parse_object(request.get_data()))
            return _json(names)

    def _trades(self, _request: Request, account_id: str) -> Response:
        with self._lock:
            return _json([record.to_json() for record in self._existing(account_id).trades])

    def _pin_price(self, request: Request, symbol: str) -> Response:
        with self._lock:
            price = admin.pin_price(self._symbols, self._market, symbol, parse_object(request.get_data()))
            # The broker reacts to a tick at once, whether or not anyone asks about the account.
            for account in self._accounts.values():
                catch_up(account.terminal)
            return _json(price)

    def _set_network(self, request: Request) -> Response:
        """`{"latencySeconds": 0.05}`: every MetaApi call answers that much later. The peak of
        calls in flight at once starts again from zero."""
        body = parse_object(request.get_data())
        latency = body.get("latencySeconds", 0)
        if isinstance(latency, bool) or not isinstance(latency, int | Decimal) or not 0 <= latency <= 10:
            raise invalid("must be a number from 0 to 10", parameter="latencySeconds", value=latency)
        with self._traffic:
            self._latency = float(latency)
            self._peak_in_flight = self._in_flight
        return self._network(request)

    def _call_counts(self, _request: Request) -> Response:
        """The MetaApi calls answered so far, by endpoint (`current-price`, `positions`, `trade`, …)."""
        with self._traffic:
            return _json(dict(self._calls))

    def _network(self, _request: Request) -> Response:
        """The latency, and the most MetaApi calls in flight at once since it was last set."""
        with self._traffic:
            return _json({"latencySeconds": self._latency, "peakInFlight": self._peak_in_flight})

    def _override_symbol(self, request: Request, symbol: str) -> Response:
        with self._lock:
            return _json(admin.override_symbol(self._symbols, symbol, parse_object(request.get_data())))

    def _reset_symbol(self, _request: Request, symbol: str) -> Response:
        with self._lock:
            admin.reset_symbol(self._symbols, symbol)
        return Response(status=204)

    def _provisioning_settings(self, _request: Request) -> Response:
        with self._lock:
            return _json(self._provisioning.to_json())

    def _set_provisioning(self, request: Request) -> Response:
        with self._lock:
            admin.change_provisioning(self._provisioning, parse_object(request.get_data()))
            return _json(self._provisioning.to_json())

    def _all_accounts(self, _request: Request) -> Response:
        with self._lock:
            return _json([admin.account_summary(self._settled(a)) for a in self._accounts.values()])

    def _set_broker(self, request: Request, account_id: str) -> Response:
        with self._lock:
            account = self._existing(account_id)
            admin.set_broker(account, parse_object(request.get_data()))
            return _json(account.to_json())

    def _set_quota(self, request: Request, region: str) -> Response:
        with self._lock:
            return _json(admin.set_quota(self._quotas, region, parse_object(request.get_data())))

    # Configuration pages: HTML for a person, so every answer is a page, never a JSON error.

    def _linked_account(self, link_token: str) -> Account | None:
        link = self._links.get(link_token)
        if link is None or self._wall() >= link.expires_at or link.account_id not in self._accounts:
            return None
        return self._settled(self._accounts[link.account_id])

    def _configure_page(self, _request: Request, link_token: str) -> Response:
        with self._lock:
            account = self._linked_account(link_token)
            if account is None:
                return configuration.invalid_link_page()
            return configuration.form_page(account, link_token)

    def _configure(self, request: Request, link_token: str) -> Response:
        form = request.form
        with self._lock:
            account = self._linked_account(link_token)
            if account is None:
                return configuration.invalid_link_page()
            return configuration.submit(account, link_token, form)
