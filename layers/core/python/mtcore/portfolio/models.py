"""What an account held: its deals, done orders and closed positions, in MetaApi's shapes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field

from mtcore.metaapi.models import MetaApiModel, Position
from mtcore.models import JsonDecimal

_BUY, _SELL = "DEAL_TYPE_BUY", "DEAL_TYPE_SELL"
_IN, _OUT, _OUT_BY, _INOUT = "DEAL_ENTRY_IN", "DEAL_ENTRY_OUT", "DEAL_ENTRY_OUT_BY", "DEAL_ENTRY_INOUT"


class _HistoryRecord(MetaApiModel):
    # MetaApi's fields this backend does not read are stored as they came.
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True, serialize_by_alias=True)


class Deal(_HistoryRecord):
    """A deal from MetaApi's history (`/history-deals/...`)."""

    id: str
    type: str
    entry_type: Annotated[str | None, Field(alias="entryType")] = None
    time: datetime
    symbol: str | None = None
    position_id: Annotated[str | None, Field(alias="positionId")] = None
    order_id: Annotated[str | None, Field(alias="orderId")] = None
    volume: JsonDecimal | None = None
    price: JsonDecimal | None = None
    profit: JsonDecimal = Decimal(0)
    swap: JsonDecimal = Decimal(0)
    commission: JsonDecimal = Decimal(0)
    client_id: Annotated[str | None, Field(alias="clientId")] = None
    reason: str | None = None

    @property
    def opens(self) -> bool:
        """Puts volume into its position (an opening, or a netting position's reversal)."""
        return self.entry_type in (_IN, _INOUT)

    @property
    def closes(self) -> bool:
        """Takes volume out of its position (a close, a partial close or a close-by)."""
        return self.entry_type in (_OUT, _OUT_BY)

    @property
    def realizes(self) -> bool:
        """Books profit on its position: closes, and reversals of a netting position."""
        return self.closes or self.entry_type == _INOUT

    @property
    def signed_volume(self) -> Decimal:
        """Buys add to the position's net volume, sells take from it; balance deals count nothing."""
        sign = {_BUY: 1, _SELL: -1}.get(self.type, 0)
        return sign * (self.volume or Decimal(0))


class HistoryOrder(_HistoryRecord):
    """A done order (filled, canceled, expired, rejected) from `/history-orders/...`."""

    id: str
    type: str
    state: str | None = None
    symbol: str | None = None
    time: datetime
    done_time: Annotated[datetime | None, Field(alias="doneTime")] = None
    position_id: Annotated[str | None, Field(alias="positionId")] = None
    client_id: Annotated[str | None, Field(alias="clientId")] = None

    @property
    def done_at(self) -> datetime:
        return self.done_time or self.time


class ClosedPosition(Position):
    """A position as it was last seen open, with the outcome its deals booked: `profit`, `swap`
    and `commission` are the deals' sums, not the last open snapshot's."""

    close_price: Annotated[JsonDecimal | None, Field(alias="closePrice")] = None
    close_time: Annotated[datetime, Field(alias="closeTime")]
    closing_deal_ids: Annotated[list[str], Field(alias="closingDealIds")]
    close_reason: Annotated[str | None, Field(alias="closeReason")] = None  # e.g. DEAL_REASON_SL
