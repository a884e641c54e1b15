"""The provisioning worker: one operation on one account at MetaApi, one step per delivery.
Only the provisioning function imports this module, and with it the MetaApi SDK.

Each delivery reads the account, does what its operation's recorded steps say comes next, records
what it did, and either ends the operation (READY, AWAITING_CREDENTIALS, UNDEPLOYED, FAILED, or
the account removed) or hands its message back for the next look (`RetryLater`). Nothing sleeps:
a Lambda timeout or a redelivery repeats at most the step it interrupted, and every step can be
repeated. A creation always repeats MetaApi's create call with the account's own transaction-id,
so MetaApi answers with the account it created, never a second one.

A failed creation leaves nothing behind: the MetaApi account it had begun is removed, and the
password's secret is deleted as soon as MetaApi has the password or the creation ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from mtcore.accounts import (
    Account,
    Operation,
    OperationSuperseded,
    Provisioning,
    ProvisioningStatus,
    ProvisioningStep,
    get_accounts_repository,
    get_metaapi_access,
    get_sync_schedule_repository,
    snapshot_of,
)
from mtcore.errors import NotFound
from mtcore.metaapi.errors import (
    MetaApiError,
    MetaApiNotConnected,
    MetaApiRateLimited,
    MetaApiTokenRefused,
    MetaApiValidation,
)
from mtcore.metaapi.models import CreatedAccount
from mtcore.observability import logger, metrics
from mtcore.provisioning.credentials import get_pending_passwords
from mtcore.provisioning.metaapi_sdk import SdkProvisioning
from mtcore.provisioning.queue import MAX_RECEIVES
from mtcore.provisioning.steps import Pending, Provisioner, ProvisioningPolicy
from mtcore.redelivery import RetryLater
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from mtcore.accounts import AccountsRepository, MetaApiAccess, SyncScheduleRepository
    from mtcore.metaapi.models import RemoteAccount
    from mtcore.provisioning.credentials import PendingPasswords
    from mtcore.provisioning.models import ProvisioningMessage

DEPLOYED, DRAFT, CONNECTED, UNDEPLOYED = "DEPLOYED", "DRAFT", "CONNECTED", "UNDEPLOYED"
_DEPLOY_FAILED = frozenset({"DEPLOY_FAILED", "REDEPLOY_FAILED"})
_CREATIONS = frozenset({Operation.CREATE, Operation.DRAFT})
# The worker concludes an operation itself this many receives before the queue would give up.
_SPARE_RECEIVES = 5
# MetaApi's words for a refused creation (`details`, a string or `{code}`), in a trader's words.
_REFUSALS = {
    "E_AUTH": ("CREDENTIALS_REFUSED", "the broker refused this login and password"),
    "E_SRV_NOT_FOUND": (
        "SERVER_NOT_FOUND",
        "MetaApi does not know this broker server: check the server name as MetaTrader shows it",
    ),
    "E_SERVER_TIMEZONE": (
        "BROKER_SETTINGS_UNKNOWN",
        "MetaApi could not work out the broker's settings for this server: try again later",
    ),
}


class _Failed(Exception):
    """The operation failed for a reason the trader can read. `settled`: MetaApi itself refused
    the creation, so it made nothing that could need removing."""

    def __init__(self, code: str, reason: str, *, settled: bool = False) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.settled = settled


@dataclass
class ProvisioningWorker:
    accounts: AccountsRepository
    passwords: PendingPasswords
    schedule: SyncScheduleRepository
    access: MetaApiAccess
    # MetaApi's provisioning API with the token that serves this account.
    provisioner_for: Callable[[Account], Provisioner]
    policy: ProvisioningPolicy = field(default_factory=ProvisioningPolicy)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def run(self, message: ProvisioningMessage, *, receive_count: int, sent_at: datetime) -> None:
        """One step of the message's operation; RetryLater to look again after a wait."""
        now = self.clock()
        account = self.accounts.find(message.user_id, message.account_id)
        job = account.provisioning if account is not None else None
        if account is None or job is None or job.operation_id < message.operation_id:
            self._not_written(message, account, sent_at, now)
            return
        if job.operation_id > message.operation_id:
            logger.info("an older operation's message dropped", extra={"accountId": account.id})
            return
        try:
            self._advance(account, job, now, looks=receive_count)
        except (OperationSuperseded, NotFound):
            logger.info("the account moved on meanwhile", extra={"accountId": account.id})
        except RetryLater:
            raise
        except Exception as error:
            # Our own side failed (DynamoDB, Secrets Manager): the step is repeated shortly, as
            # after a timeout; the queue's dead letters take what keeps failing.
            logger.exception("provisioning step failed", extra={"accountId": account.id})
            metrics.add_metric(name="ProvisioningStepsFailed", unit=MetricUnit.Count, value=1)
            raise RetryLater(self.policy.wait(receive_count), "the step failed on our side") from error

    def _advance(self, account: Account, job: Provisioning, now: datetime, *, looks: int) -> None:
        try:
            if not self._moving(account, job, now):
                self._forget_password(account, job)
                return
            self._step(account, job, now, looks=looks)
        except _Failed as failure:
            self._conclude(account, job, failure, looks=looks)
        except MetaApiTokenRefused as refused:
            self._conclude(
                account,
                job,
                _Failed("METAAPI_TOKEN_REFUSED", f"MetaApi refused the token: {refused.message}"),
                looks=looks,
            )
        except MetaApiRateLimited as limited:
            raise RetryLater(limited.retry_after_seconds, "MetaApi's rate limit") from None
        except MetaApiError as error:
            logger.warning("a MetaApi call failed", extra={"accountId": account.id, "errorCode": error.code})
            # A draft is never given up for an outage: its watch ends on its own, and the
            # trader's configuration link may be in use right now.
            waiting = account.provisioning_status is ProvisioningStatus.AWAITING_CREDENTIALS
            # Anything else fails once MetaApi has not answered for as long as its longest phase.
            last_progress = job.steps[-1].at if job.steps else job.started_at
            if not waiting and now > last_progress + self.policy.create_timeout + self.policy.connect_timeout:
                self._conclude(
                    account,
                    job,
                    _Failed("METAAPI_UNREACHABLE", f"MetaApi could not be reached ({error.message})"),
                    looks=looks,
                )
                return
            longest = self.policy.max_draft_wait_s if waiting else None
            raise RetryLater(self.policy.wait(looks, longest=longest), "MetaApi failed to answer") from None

    # Which step -------------------------------------------------------------------------------

    def _moving(self, account: Account, job: Provisioning, now: datetime) -> bool:
        status = account.provisioning_status
        if status is ProvisioningStatus.AWAITING_CREDENTIALS:
            return job.watch_until is not None and now < job.watch_until
        return status in {
            ProvisioningStatus.CREATING,
            ProvisioningStatus.DEPLOYING,
            ProvisioningStatus.UNDEPLOYING,
            ProvisioningStatus.REMOVING,
        }

    def _step(self, account: Account, job: Provisioning, now: datetime, *, looks: int) -> None:
        if job.reason is not None:  # a failure whose clean-up did not finish
            raise _Failed(job.code or "FAILED", job.reason)
        if looks >= MAX_RECEIVES - _SPARE_RECEIVES:
            raise _Failed("GAVE_UP", f"MetaApi did not finish the {job.operation.value} after {looks} looks")
        if job.operation is Operation.REMOVE:
            self._remove(account, job, looks=looks)
        elif job.operation is Operation.UNDEPLOY:
            self._undeploy(account, job, now, looks=looks)
        elif account.metaapi_account_id is None:
            self._create(account, job, now)
        elif account.provisioning_status is ProvisioningStatus.AWAITING_CREDENTIALS:
            self._watch_draft(account, job, now, looks=looks)
        else:
            self._deploy(account, job, now, looks=looks)

    # Creating -----------------------------------------------------------------------------------

    def _create(self, account: Account, job: Provisioning, now: datetime) -> None:
        if now > job.started_at + self.policy.create_timeout:
            minutes = int(self.policy.create_timeout.total_seconds() // 60)
            raise _Failed(
                "CREATE_TIMEOUT", f"MetaApi did not finish creating the account within {minutes} minutes"
            )
        created = self._created(account, job)
        if isinstance(created, Pending):
            if not job.did("creating"):
                self._record(account, job, "creating", detail=created.message)
            raise RetryLater(max(created.retry_after_s, self.policy.first_wait_s), "MetaApi is creating it")
        remote = self.provisioner_for(account).get(created.id)
        done = ProvisioningStep(step="created", at=self.clock(), detail=f"MetaApi account {created.id}")
        account = self.accounts.attach(
            account, created.id, remote.region, job.model_copy(update={"steps": [*job.steps, done]})
        )
        self.passwords.delete(account.id)  # MetaApi has it now
        self._deploy(account, self._job(account), now, looks=0, remote=remote)

    def _created(self, account: Account, job: Provisioning) -> CreatedAccount | Pending:
        """MetaApi's answer to the creation, asked with the account's transaction-id (the same
        request every time, as MetaApi wants it repeated)."""
        if job.transaction_id is None:
            raise RuntimeError(f"account {account.id} is being created without a transaction-id")
        body = self._create_body(account, job)
        try:
            return self.provisioner_for(account).create(body, transaction_id=job.transaction_id)
        except MetaApiValidation as refused:
            raise _refusal(refused, settled=True) from None

    def _create_body(self, account: Account, job: Provisioning) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": account.name,
            "platform": account.platform.value if account.platform else None,
            "server": account.server,
            "magic": account.magic or 0,
            "region": account.region,
            "reliability": account.reliability or "regular",
            "keywords": [account.broker] if account.broker else None,
            "metadata": {"userId": account.user_id, "accountId": account.id},
        }
        if job.operation is Operation.CREATE or account.login is not None:
            password = self.passwords.get(account.id)
            if password is None:
                raise _Failed(
                    "PASSWORD_GONE",
                    "the password was no longer there to give MetaApi: add the account again",
                    settled=True,  # the creation cannot be asked about without it
                )
            body |= {"login": account.login, "password": password}
        return {name: value for name, value in body.items() if value is not None}

    def _watch_draft(self, account: Account, job: Provisioning, now: datetime, *, looks: int) -> None:
        remote = self._remote(account)
        if remote.state == DRAFT:
            raise RetryLater(self.policy.wait(looks, longest=self.policy.max_draft_wait_s), "still a draft")
        account = self._record(
            account,
            job,
            "configured",
            detail="the trader gave the login and password",
            status=ProvisioningStatus.DEPLOYING,
            job_changes={"watch_until": None},
            fields={"login": remote.login, "server": remote.server or account.server},
        )
        self._deploy(account, self._job(account), now, looks=0, remote=remote)

    # Deploying ----------------------------------------------------------------------------------

    def _deploy(
        self,
        account: Account,
        job: Provisioning,
        now: datetime,
        *,
        looks: int,
        remote: RemoteAccount | None = None,
    ) -> None:
        """Deploy it, or look at its deployment (`remote`: MetaApi's account, if this step read it)."""
        provisioner = self.provisioner_for(account)
        remote = remote or self._remote(account)
        if remote.state == DRAFT:
            self._record(
                account,
                job,
                "awaiting credentials",
                detail="the trader types the login and password on MetaApi's page (its configuration link)",
                status=ProvisioningStatus.AWAITING_CREDENTIALS,
                job_changes={"watch_until": now + self.policy.draft_watch},
                fields={"state": remote.state, "connection_status": remote.connection_status},
            )
            raise RetryLater(self.policy.first_wait_s, "a draft waits for its credentials")
        if not job.did("deploying"):
            try:
                if job.operation is Operation.REDEPLOY:
                    provisioner.redeploy(remote.id)
                elif remote.state not in (DEPLOYED, "DEPLOYING"):
                    provisioner.deploy(remote.id)
            except MetaApiValidation as refused:
                raise _refusal(refused) from None
            self._record(account, job, "deploying")
            raise RetryLater(self.policy.first_wait_s, "MetaApi is deploying it")
        deadline = _at(job, "deploying") + self.policy.connect_timeout
        if remote.state in _DEPLOY_FAILED:
            raise _Failed("DEPLOY_FAILED", f"MetaApi could not deploy the account ({remote.state})")
        if remote.state != DEPLOYED or remote.connection_status != CONNECTED:
            if remote.state == DEPLOYED and not job.did("deployed"):
                self._record(account, job, "deployed", detail="its terminal is connecting to the broker")
            if now > deadline:
                raise _never_connected(remote, self.policy.connect_timeout)
            raise RetryLater(self.policy.wait(looks), "waiting for the terminal to connect")
        self._ready(account, job, remote, now)

    def _ready(self, account: Account, job: Provisioning, remote: RemoteAccount, now: datetime) -> None:
        """Connected: the first account snapshot, then READY, and syncs from now on."""
        try:
            info = self.access.for_account(account).account_information((remote.id, remote.region))
        except MetaApiNotConnected:
            raise RetryLater(self.policy.first_wait_s, "the terminal is still synchronizing") from None
        ready = self._record(
            account,
            job,
            "ready",
            detail="connected to the broker; first account snapshot taken",
            status=ProvisioningStatus.READY,
            fields={
                **snapshot_of(account, info),
                "state": remote.state,
                "connection_status": remote.connection_status,
                "region": remote.region or account.region,
                "last_sync_at": now,
            },
        )
        self.schedule.schedule(ready, due_at=now)
        self._forget_password(ready, job)
        logger.info("account ready", extra={"accountId": account.id, "operation": job.operation.value})

    # Undeploying and removing ---------------------------------------------------------------------

    def _undeploy(self, account: Account, job: Provisioning, now: datetime, *, looks: int) -> None:
        remote = self._remote(account)
        if not job.did("undeploying"):
            if remote.state != UNDEPLOYED:
                self.provisioner_for(account).undeploy(remote.id)
            self._record(account, job, "undeploying")
            raise RetryLater(self.policy.first_wait_s, "MetaApi is undeploying it")
        if remote.state != UNDEPLOYED:
            if now > _at(job, "undeploying") + self.policy.undeploy_timeout:
                raise _Failed("UNDEPLOY_TIMEOUT", f"MetaApi did not undeploy the account ({remote.state})")
            raise RetryLater(self.policy.wait(looks), "waiting for MetaApi to undeploy it")
        self._record(
            account,
            job,
            "undeployed",
            status=ProvisioningStatus.UNDEPLOYED,
            fields={"state": remote.state, "connection_status": remote.connection_status},
        )

    def _remove(self, account: Account, job: Provisioning, *, looks: int) -> None:
        """Removed at MetaApi (with what a creation under way may have made), then unlinked."""
        metaapi_id = account.metaapi_account_id
        if metaapi_id is None and job.transaction_id is not None:
            try:
                created = self._created(account, job)
            except _Failed:
                created = None  # the creation failed: MetaApi holds nothing of it
            if isinstance(created, Pending):
                raise RetryLater(
                    max(created.retry_after_s, self.policy.wait(looks)), "a creation to finish first"
                )
            metaapi_id = created.id if created is not None else None
        if metaapi_id is not None:
            self.provisioner_for(account).remove(metaapi_id)
        if account.metaapi_account_id is None:  # a creation under way may still hold a password
            self.passwords.delete(account.id)
        self.accounts.unlink(account)
        logger.info("account removed from MetaApi and unlinked", extra={"accountId": account.id})

    # Failing ------------------------------------------------------------------------------------

    def _conclude(self, account: Account, seen: Provisioning, failure: _Failed, *, looks: int) -> None:
        """FAILED with its reason, if `seen` is still the account's operation. A creation first
        removes what it made at MetaApi: the reason is recorded before, so a redelivery finishes
        that clean-up if it fails now."""
        account = self._current(account)
        job = self._job(account)
        if job.operation_id != seen.operation_id:
            raise OperationSuperseded(account.id)  # the operation that replaced it carries on
        reason = failure.reason
        made_something = account.metaapi_account_id is not None or (
            job.transaction_id is not None and not failure.settled
        )
        if job.operation in _CREATIONS and made_something:
            if job.reason is None:
                account = self._record(
                    account,
                    job,
                    "failing",
                    detail=reason,
                    job_changes={"code": failure.code, "reason": reason},
                )
            reason = f"{reason}; {self._clean_up(account, self._job(account), looks=looks)}"
            account = self._current(account)
        self._forget_password(account, job)
        self._record(
            account,
            self._job(account),
            "failed",
            detail=reason,
            status=ProvisioningStatus.FAILED,
            job_changes={"code": failure.code, "reason": reason, "watch_until": None},
        )
        metrics.add_metric(name="ProvisioningFailed", unit=MetricUnit.Count, value=1)
        logger.warning("provisioning failed", extra={"accountId": account.id, "code": failure.code})

    def _clean_up(self, account: Account, job: Provisioning, *, looks: int) -> str:
        """Removes what a failed creation made at MetaApi; answers what became of it. MetaApi may
        still finish a creation that was given up on, so one without a MetaApi id yet is asked
        about once more with its transaction-id (MetaApi answers the account it made, if any)."""
        retries_left = looks < MAX_RECEIVES - 2
        try:
            metaapi_id = account.metaapi_account_id
            if metaapi_id is None:
                created = self._created(account, job)
                if isinstance(created, Pending):
                    if retries_left:
                        wait = max(created.retry_after_s, self.policy.wait(looks))
                        raise RetryLater(wait, "MetaApi is still creating what is to be removed")
                    return self._not_cleaned_up(account, "MetaApi was still creating it")
                metaapi_id = created.id
            self.provisioner_for(account).remove(metaapi_id)
        except _Failed:
            return "MetaApi made no account of it"
        except MetaApiError as error:
            if retries_left and not isinstance(error, MetaApiTokenRefused):
                wait = (
                    error.retry_after_seconds
                    if isinstance(error, MetaApiRateLimited)
                    else self.policy.wait(looks)
                )
                raise RetryLater(wait, "removing the half-made MetaApi account failed") from None
            return self._not_cleaned_up(account, error.message)
        if account.metaapi_account_id is not None:
            self.accounts.detach(account)
        return "the MetaApi account it had begun was removed"

    @staticmethod
    def _not_cleaned_up(account: Account, why: str) -> str:
        logger.error("a half-made MetaApi account could not be removed", extra={"accountId": account.id})
        metrics.add_metric(name="ProvisioningCleanupsFailed", unit=MetricUnit.Count, value=1)
        return f"removing the MetaApi account it had begun failed ({why})"

    # Reading and recording ----------------------------------------------------------------------

    def _not_written(
        self, message: ProvisioningMessage, account: Account | None, sent_at: datetime, now: datetime
    ) -> None:
        """The API sends an operation's message first, then writes it: wait a little for the
        write; when it never comes, the call that sent it failed, and a password it stored goes."""
        if now - sent_at < self.policy.unwritten_grace:
            raise RetryLater(self.policy.first_wait_s, "the operation is not written yet")
        if account is None:
            self.passwords.delete(message.account_id)
        logger.warning(
            "a message whose operation was never written dropped", extra={"accountId": message.account_id}
        )

    def _forget_password(self, account: Account, job: Provisioning) -> None:
        """A redelivery of an operation that ended: a password must not outlive a creation (a
        draft has none)."""
        if job.operation is Operation.CREATE:
            self.passwords.delete(account.id)

    def _remote(self, account: Account) -> RemoteAccount:
        metaapi_id, _ = account.remote
        return self.provisioner_for(account).get(metaapi_id)

    def _current(self, account: Account) -> Account:
        return self.accounts.get(account.user_id, account.id)

    @staticmethod
    def _job(account: Account) -> Provisioning:
        if account.provisioning is None:
            raise NotFound(f"account {account.id} has no operation")
        return account.provisioning

    def _record(
        self,
        account: Account,
        job: Provisioning,
        step: str,
        *,
        detail: str | None = None,
        status: ProvisioningStatus | None = None,
        job_changes: dict[str, Any] | None = None,
        fields: dict[str, Any] | None = None,
    ) -> Account:
        now = self.clock()
        steps = [*job.steps, ProvisioningStep(step=step, at=now, detail=detail)]
        changes: dict[str, Any] = {
            "provisioning": job.model_copy(update={"steps": steps, **(job_changes or {})}),
            "updated_at": now,
            **(fields or {}),
        }
        if status is not None:
            changes["provisioning_status"] = status
        return self.accounts.update(account, changes, guarded=True)


def _at(job: Provisioning, step: str) -> datetime:
    return next(done.at for done in job.steps if done.step == step)


def _refusal(refused: MetaApiValidation, *, settled: bool = False) -> _Failed:
    """A creation or deployment MetaApi refused, in words a trader can act on."""
    details = refused.upstream_details
    code = details.get("code") if isinstance(details, dict) else details
    if isinstance(code, str) and code in _REFUSALS:
        return _Failed(*_REFUSALS[code], settled=settled)
    if refused.error_name == "QuotaExceededError":
        return _Failed(
            "REGION_QUOTA_REACHED",
            f"MetaApi has no room for another account there: {refused.message}",
            settled=settled,
        )
    return _Failed("METAAPI_REFUSED", f"MetaApi refused the account: {refused.message}", settled=settled)


def _never_connected(remote: RemoteAccount, waited: timedelta) -> _Failed:
    minutes = max(1, round(waited.total_seconds() / 60))
    if remote.state == DEPLOYED:
        return _Failed(
            "NOT_CONNECTED",
            f"the terminal did not connect to the broker within {minutes} minute(s) "
            f"({remote.connection_status}): check the server name, and that the broker is reachable",
        )
    return _Failed("DEPLOY_TIMEOUT", f"MetaApi did not deploy the account within {minutes} minute(s)")


def get_provisioning_worker() -> ProvisioningWorker:
    """The provisioning function's worker: MetaApi's provisioning API through its SDK."""
    settings = get_settings()
    access = get_metaapi_access()

    def provisioner_for(account: Account) -> Provisioner:
        return SdkProvisioning(access.token_for(account), base_url=settings.metaapi_provisioning_url)

    return ProvisioningWorker(
        accounts=get_accounts_repository(),
        passwords=get_pending_passwords(),
        schedule=get_sync_schedule_repository(),
        access=access,
        provisioner_for=provisioner_for,
        policy=ProvisioningPolicy(connect_timeout=timedelta(seconds=settings.provisioning_connect_timeout_s)),
    )
