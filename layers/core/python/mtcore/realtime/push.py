"""Frames to WebSocket connections through API Gateway's management API (the local stack serves
the same API): one call per connection, side by side; a connection that is gone is reported."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from mtcore.aws import management_client
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient

    from mtcore.realtime.models import Frame

SENDERS = 16


class Push:
    def __init__(self, client: ApiGatewayManagementApiClient) -> None:
        self._client = client

    def send(self, connection_id: str, frame: Frame) -> bool:
        """False when the connection is gone (410): its item may go."""
        data = frame.model_dump_json(exclude_none=True).encode()
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except self._client.exceptions.GoneException:
            return False
        return True

    def send_all(self, deliveries: Iterable[tuple[str, Frame]]) -> list[str]:
        """Each frame to its connection, side by side; answers the connections that are gone."""
        batch = list(deliveries)
        if not batch:
            return []
        with ThreadPoolExecutor(max_workers=min(SENDERS, len(batch))) as pool:
            sent = list(pool.map(lambda delivery: self.send(*delivery), batch))
        return [connection_id for (connection_id, _), ok in zip(batch, sent, strict=True) if not ok]

    def close(self, connection_id: str) -> None:
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except self._client.exceptions.GoneException:
            return


def get_push() -> Push:
    endpoint = get_settings().websocket_management_url
    if not endpoint:
        raise RuntimeError("WEBSOCKET_MANAGEMENT_URL is not configured")
    return Push(management_client(endpoint))
