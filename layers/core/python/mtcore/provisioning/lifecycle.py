"""An account's life at MetaApi as the API starts it: added (created with its credentials, or as a
draft), deployed, undeployed, redeployed, removed; its configuration link and its connection test.

Every operation is answered at once: it is written on the account and queued, and the
provisioning worker carries it out (`GET /accounts/{id}` follows it step by step). Its message
is sent before the operation is written, so an operation written is always on its way; a
message whose operation never got written is dropped by the worker (see worker.py)."""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from mtcore.accounts import (
    PROVISIONING_IN_PROGRESS,
    Account,
    AccountNotReady,
    AccountsRepository,
    MetaApiAccess,
    Operation,
    Provisioning,
    ProvisioningInProgress,
    ProvisioningStatus,
    ProvisioningStep,
    SyncScheduleRepository,
    get_accounts_repository,
    get_metaapi_access,
    get_sync_schedule_repository,
    refuse_with_trades_in_flight,
)
from mtcore.errors import Conflict, NotFound
from mtcore.ids import new_ulid
from mtcore.metaapi.errors import MetaApiError, MetaApiNotConnected
from mtcore.observability import logger
from mtcore.provisioning.credentials import PendingPasswords, get_pending_passwords
from mtcore.provisioning.models import (
    AccountKind,
    AddAccount,
    AddedAccount,
    ConfigurationLink,
    ConnectionTest,
    ProvisioningMessage,
    Verdict,
)
from mtcore.provisioning.queue import ProvisioningQueue, get_provisioning_queue
from mtcore.provisioning.steps import ProvisioningPolicy
from mtcore.trading import IdempotencyKeys, get_idempotency_keys

if TYPE_CHECKING:
    from mtcore.metaapi.models import RemoteAccount

ADD_ROUTE = "POST /accounts"
LINK_DAYS = 7
# How long `POST /accounts` of a draft may wait for MetaApi to make it, to answer its link.
MAX_DRAFT_WAIT_S = 10.0
_DRAFT_POLL_S = 0.25
# The status each operation starts.
_STARTS = {
    Operation.DEPLOY: ProvisioningStatus.DEPLOYING,
    Operation.REDEPLOY: ProvisioningStatus.DEPLOYING,
    Operation.UNDEPLOY: ProvisioningStatus.UNDEPLOYING,
}


class NotCreatedHere(Conflict):
    code = "ACCOUNT_NOT_CREATED_HERE"


@dataclass
class ProvisioningDesk:
    """What starting an operation needs: the stores, the queue and MetaApi (for reads)."""

    accounts: AccountsRepository
    passwords: PendingPasswords
    queue: ProvisioningQueue
    keys: IdempotencyKeys
    schedule: SyncScheduleRepository
    access: MetaApiAccess


def get_provisioning_desk() -> ProvisioningDesk:
    return ProvisioningDesk(
        accounts=get_accounts_repository(),
        passwords=get_pending_passwords(),
        queue=get_provisioning_queue(),
        keys=get_idempotency_keys(),
        schedule=get_sync_schedule_repository(),
        access=get_metaapi_access(),
    )


def add_account(
    user_id: str,
    request: AddAccount,
    *,
    idempotency_key: str | None,
    desk: ProvisioningDesk,
    wait_seconds: float = 0.0,
) -> AddedAccount:
    """An account the platform creates at MetaApi for the caller, as CREATING. With an
    Idempotency-Key, a repeat answers the account the first call added (and queues its
    operation again, harmlessly), whatever became of that call. A draft waits up to
    `wait_seconds` (at most 10) for MetaApi to make it, to answer its configuration link."""
    account = _add(user_id, request, idempotency_key=idempotency_key, desk=desk)
    return _answered(account, desk=desk, wait_seconds=wait_seconds)


def _add(
    user_id: str, request: AddAccount, *, idempotency_key: str | None, desk: ProvisioningDesk
) -> Account:
    now = datetime.now(UTC)
    account_id = new_ulid()
    if idempotency_key is not None:
        account_id = desk.keys.claim(
            tenant=user_id,
            route=ADD_ROUTE,
            key=idempotency_key,
            body=request.described(),
            trade_id=account_id,
            now=now,
        )
        existing = desk.accounts.find(user_id, account_id)
        if existing is not None:
            _queue_again(existing, desk)
            return existing
    operation = Operation.DRAFT if request.kind is AccountKind.DRAFT else Operation.CREATE
    job = Provisioning(
        operation=operation,
        operation_id=new_ulid(),
        transaction_id=_transaction_id(),
        steps=[ProvisioningStep(step="accepted", at=now)],
    )
    account = Account(
        id=account_id,
        user_id=user_id,
        name=request.name or "MetaTrader account",
        platform=request.platform,
        broker=request.broker,
        server=request.server,
        login=request.login,
        region=request.region,
        magic=request.magic,
        reliability=request.reliability,
        created_by_platform=True,
        provisioning_status=ProvisioningStatus.CREATING,
        provisioning=job,
        auto_sync_positions=request.auto_sync_positions,
        auto_sync_orders=request.auto_sync_orders,
        sync_interval=request.sync_interval,
        created_at=now,
        updated_at=now,
    )
    desk.queue.send(_message_of(account, job))
    if request.password is not None:
        desk.passwords.put(account.id, request.password.get_secret_value())
    if not desk.accounts.create(account):
        return desk.accounts.get(user_id, account.id)  # a repeat running alongside wrote it first
    logger.info("account creation accepted", extra={"accountId": account.id, "operation": operation.value})
    return account


def _answered(account: Account, *, desk: ProvisioningDesk, wait_seconds: float) -> AddedAccount:
    """The account as `POST /accounts` answers it: a draft waits for the provisioning worker to
    have MetaApi make it, then carries a configuration link."""
    deadline = time.monotonic() + min(wait_seconds, MAX_DRAFT_WAIT_S)
    job = account.provisioning
    is_draft = job is not None and job.operation is Operation.DRAFT
    while (
        is_draft
        and account.provisioning_status is ProvisioningStatus.CREATING
        and time.monotonic() + _DRAFT_POLL_S < deadline
    ):
        time.sleep(_DRAFT_POLL_S)
        account = desk.accounts.get(account.user_id, account.id)
    answer = AddedAccount.model_validate(dict(account))
    if not is_draft or account.provisioning_status is not ProvisioningStatus.AWAITING_CREDENTIALS:
        return answer
    link = _link_of(account, desk)
    return answer.model_copy(
        update={
            "configuration_link": link.configuration_link,
            "configuration_link_expires_at": link.expires_at,
        }
    )


def start(user_id: str, account_id: str, operation: Operation, *, desk: ProvisioningDesk) -> Account:
    """Deploy, undeploy or redeploy the caller's account; an operation under way is replaced
    (its messages are dropped), but never a creation or a removal."""
    account = desk.accounts.get(user_id, account_id)
    if account.metaapi_account_id is None:
        raise AccountNotReady(
            f"This account is {account.provisioning_status.value}: MetaApi has no account to "
            f"{operation.value} (GET /api/metatrader/accounts/{account.id} says why)"
        )
    if account.provisioning_status in (ProvisioningStatus.CREATING, ProvisioningStatus.REMOVING):
        raise ProvisioningInProgress(
            f"This account is {account.provisioning_status.value}: {operation.value} it once that is done"
        )
    # A trade under way needs the terminal connected until the broker's answer is recorded.
    refuse_with_trades_in_flight(account, desk.accounts, operation.value)
    started = _begin(account, operation, _STARTS[operation], desk)
    # Its terminal leaves the broker now: no scheduled syncs until it is READY again.
    desk.schedule.unschedule(started)
    return started


def remove(user_id: str, account_id: str, *, desk: ProvisioningDesk) -> Account:
    """Remove an account the platform created for the caller from MetaApi, then unlink it. A
    creation under way is finished first, and what it made removed too."""
    account = desk.accounts.get(user_id, account_id)
    if not account.created_by_platform:
        raise NotFound(f"No account {account_id} that the platform created for you")
    if account.provisioning_status is ProvisioningStatus.REMOVING:
        return account
    refuse_with_trades_in_flight(account, desk.accounts, "remove")
    removing = _begin(account, Operation.REMOVE, ProvisioningStatus.REMOVING, desk)
    desk.schedule.unschedule(removing)
    return removing


def configuration_link(user_id: str, account_id: str, *, desk: ProvisioningDesk) -> ConfigurationLink:
    """A fresh link to MetaApi's page where the trader types the account's login and password (a
    draft), or a new password. A draft waiting for its credentials is watched again from now."""
    account = desk.accounts.get(user_id, account_id)
    if not account.created_by_platform:
        raise NotCreatedHere("Configuration links are for accounts the platform created; this one was linked")
    link = _link_of(account, desk)
    now = datetime.now(UTC)
    job = account.provisioning
    if account.provisioning_status is ProvisioningStatus.AWAITING_CREDENTIALS and job is not None:
        # A new operation id: the message of the watch that ran out (or runs) is dropped.
        watch = job.model_copy(
            update={
                "operation_id": new_ulid(),
                "steps": [*job.steps, ProvisioningStep(step="configuration link issued", at=now)],
                "watch_until": now + ProvisioningPolicy().draft_watch,
            }
        )
        desk.queue.send(_message_of(account, watch))
        desk.accounts.update(account, {"provisioning": watch, "updated_at": now}, guarded=True)
    return link


def _link_of(account: Account, desk: ProvisioningDesk) -> ConfigurationLink:
    metaapi_id, _ = account.remote
    link = desk.access.for_account(account).configuration_link(metaapi_id, ttl_days=LINK_DAYS)
    return ConfigurationLink(
        configuration_link=link, expires_at=datetime.now(UTC) + timedelta(days=LINK_DAYS)
    )


def test_connection(
    user_id: str, account_id: str, *, access: MetaApiAccess, accounts: AccountsRepository
) -> ConnectionTest:
    """The account at MetaApi and its terminal as of now, with a verdict a trader understands."""
    account = accounts.get(user_id, account_id)
    now = datetime.now(UTC)
    if account.metaapi_account_id is None:
        job = account.provisioning
        if job is not None and job.code == "CREDENTIALS_REFUSED":
            return ConnectionTest(
                verdict=Verdict.CREDENTIALS_REFUSED, message=_sentence(job.reason), checked_at=now
            )
        return ConnectionTest(
            verdict=Verdict.NOT_CREATED,
            message=_sentence(
                job.reason if job is not None and job.reason else "MetaApi has not created it yet"
            ),
            checked_at=now,
        )
    client = access.for_account(account)
    remote = client.get_account(account.metaapi_account_id)
    verdict, message = _verdict_of(remote)
    test = ConnectionTest(
        verdict=verdict,
        message=message,
        state=remote.state,
        connection_status=remote.connection_status,
        checked_at=now,
    )
    if remote.state != "DEPLOYED":
        return test
    began = time.perf_counter()
    try:
        server_time = client.server_time(account.remote)
    except MetaApiNotConnected as error:
        if error.error_name == "NotAuthenticatedError":
            return test.model_copy(
                update={
                    "verdict": Verdict.CREDENTIALS_REFUSED,
                    "message": "The broker refused the account's login and password: give MetaApi the "
                    "current ones (its configuration link), then redeploy it.",
                }
            )
        return test.model_copy(update={"verdict": Verdict.DISCONNECTED, "message": _DISCONNECTED})
    except MetaApiError:
        return test
    round_trip = time.perf_counter() - began
    return ConnectionTest.model_validate(
        {
            **test.model_dump(by_alias=False),
            "verdict": Verdict.CONNECTED,
            "message": "Connected: MetaApi reaches the broker and the terminal answers.",
            "server_time": server_time.get("time"),
            "broker_time": server_time.get("brokerTime"),
            "round_trip_ms": round(round_trip * 1000, 1),
        }
    )


_DISCONNECTED = (
    "Deployed, but the terminal is not connected to the broker: the broker may be down or refusing "
    "it; if this lasts, check the server name and redeploy."
)


def _verdict_of(remote: RemoteAccount) -> tuple[Verdict, str]:
    """The verdict MetaApi's states give before the terminal is asked anything."""
    state, connection = remote.state or "", remote.connection_status
    if state == "DRAFT":
        return Verdict.AWAITING_CREDENTIALS, "A draft: the trader has not given its login and password yet."
    if state in ("CREATED", "DEPLOYING"):
        return (
            Verdict.DEPLOYING,
            "MetaApi is deploying it: its terminal starts and connects in a minute or two.",
        )
    if state != "DEPLOYED":
        return Verdict.UNDEPLOYED, f"Not deployed at MetaApi ({state or 'no state'}): deploy it to trade."
    if connection == "CONNECTED":
        return Verdict.CONNECTED, "Connected."
    return Verdict.DISCONNECTED, _DISCONNECTED


def _sentence(text: str | None) -> str:
    text = (text or "").strip()
    return f"{text[:1].upper()}{text[1:]}." if text and not text.endswith(".") else text


def _begin(
    account: Account, operation: Operation, status: ProvisioningStatus, desk: ProvisioningDesk
) -> Account:
    now = datetime.now(UTC)
    previous = account.provisioning
    # A removal of an account MetaApi has given no id yet (being created, or a creation that
    # failed) asks with the creation's transaction-id whether MetaApi made it after all.
    uncreated = account.metaapi_account_id is None and previous is not None
    job = Provisioning(
        operation=operation,
        operation_id=new_ulid(),
        transaction_id=previous.transaction_id if uncreated and previous is not None else None,
        steps=[ProvisioningStep(step="accepted", at=now)],
    )
    desk.queue.send(_message_of(account, job))
    begun = desk.accounts.update(
        account, {"provisioning": job, "provisioning_status": status, "updated_at": now}, guarded=True
    )
    logger.info("account operation accepted", extra={"accountId": account.id, "operation": operation.value})
    return begun


def _queue_again(account: Account, desk: ProvisioningDesk) -> None:
    job = account.provisioning
    if job is not None and account.provisioning_status in PROVISIONING_IN_PROGRESS:
        desk.queue.send(_message_of(account, job))


def _message_of(account: Account, job: Provisioning) -> ProvisioningMessage:
    return ProvisioningMessage(account_id=account.id, user_id=account.user_id, operation_id=job.operation_id)


def _transaction_id() -> str:
    """MetaApi's transaction-id: 32 random lowercase letters, as its own SDK makes them."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(32))
