"""A dashboard's WebSocket connection: opened by a verified user, its subscriptions, its pings.

Answers go back as frames through the management API, as events do: `subscribed`,
`unsubscribed`, `pong`, or `error` with a message (a bad action, or an account that is not the
caller's, which subscribes nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import TypeAdapter, ValidationError

from mtcore.errors import NotFound
from mtcore.observability import logger
from mtcore.realtime.models import Frame, FrameType, Ping, Subscribe, Unsubscribe

if TYPE_CHECKING:
    from mtcore.accounts import AccountsRepository
    from mtcore.realtime.connections import ConnectionsRepository
    from mtcore.realtime.pump import PumpControl
    from mtcore.realtime.push import Push

_ACTION: TypeAdapter[Subscribe | Unsubscribe | Ping] = TypeAdapter(Subscribe | Unsubscribe | Ping)


@dataclass
class Sessions:
    connections: ConnectionsRepository
    accounts: AccountsRepository
    push: Push
    pump: PumpControl

    def open(self, connection_id: str, user_id: str) -> None:
        self.connections.connect(connection_id, user_id, datetime.now(UTC))
        logger.info("connection opened", extra={"connectionId": connection_id})

    def close(self, connection_id: str) -> None:
        self.connections.disconnect(connection_id)
        logger.info("connection closed", extra={"connectionId": connection_id})

    def act(self, connection_id: str, body: str | None) -> None:
        """One message from the client: a subscription change or a ping, answered with a frame."""
        try:
            action = _ACTION.validate_json(body or "")
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in problem['loc'][1:]) or 'action'}: {problem['msg']}"
                for problem in error.errors(include_url=False)
            )
            self._answer(
                connection_id,
                FrameType.REFUSED,
                {
                    "message": 'Send {"action": "subscribe"|"unsubscribe"|"ping", …} as JSON',
                    "problems": problems,
                },
            )
            return
        if isinstance(action, Ping):
            self._answer(connection_id, FrameType.PONG, {})
            return
        connection = self.connections.get(connection_id)
        if connection is None:
            return  # closed meanwhile
        subscriptions = dict(connection.subscriptions)
        if isinstance(action, Unsubscribe):
            if action.account_id is None:
                subscriptions.clear()
            else:
                subscriptions.pop(action.account_id, None)
            self.connections.set_subscriptions(connection, subscriptions)
            self._answer(connection_id, FrameType.UNSUBSCRIBED, {"subscriptions": subscriptions})
            return
        try:
            self.accounts.get(connection.user_id, action.account_id)
        except NotFound:
            # Another user's account reads exactly like a missing one.
            self._answer(connection_id, FrameType.REFUSED, {"message": f"No account {action.account_id}"})
            return
        subscriptions[action.account_id] = sorted(set(action.symbols))
        self.connections.set_subscriptions(connection, subscriptions)
        if action.symbols:
            self.pump.ensure_running()
        self._answer(connection_id, FrameType.SUBSCRIBED, {"subscriptions": subscriptions})

    def _answer(self, connection_id: str, kind: FrameType, data: dict[str, object]) -> None:
        self.push.send(connection_id, Frame(type=kind, time=datetime.now(UTC), data=data))
