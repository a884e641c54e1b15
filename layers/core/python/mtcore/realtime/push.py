"""Frames to WebSocket connections through API Gateway's management API (the local stack serves
the same API): one call per connection, side by side; a connection that is gone is reported, and
one the API would not take the frame for (throttled, say) misses that frame only: a client finds
every event it missed in `GET /events?after=`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from mtcore.aws import management_client
from mtcore.observability import logger, metrics
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
            sent = list(pool.map(lambda delivery: self._try(*delivery), batch))
        failed = sent.count(None)
        if failed:
            metrics.add_metric(name="PushesFailed", unit=MetricUnit.Count, value=failed)
        return [connection_id for (connection_id, _), ok in zip(batch, sent, strict=True) if ok is False]

    def _try(self, connection_id: str, frame: Frame) -> bool | None:
        """`send`, with None for a frame the management API would not take."""
        try:
            return self.send(connection_id, frame)
        except ClientError as error:
            logger.warning(
                "a frame was not pushed",
                extra={
                    "connectionId": connection_id,
                    "errorCode": error.response.get("Error", {}).get("Code"),
                },
            )
            return None


def get_push() -> Push:
    endpoint = get_settings().websocket_management_url
    if not endpoint:
        raise RuntimeError("WEBSOCKET_MANAGEMENT_URL is not configured")
    return Push(management_client(endpoint))
