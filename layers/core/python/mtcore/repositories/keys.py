"""Single-table key shapes. Every item is owned by a user or by an account."""

from __future__ import annotations

ACCOUNT_SK_PREFIX = "ACCOUNT#"
OPEN_POSITION_PREFIX = "POS#OPEN#"
ORDER_PREFIX = "ORDER#"
META_SK = "META"
LINK_SK = "LINK"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def account_sk(account_id: str) -> str:
    return f"{ACCOUNT_SK_PREFIX}{account_id}"


def account_pk(account_id: str) -> str:
    """The partition of everything that belongs to one account (meta, positions, orders, trades)."""
    return f"ACCOUNT#{account_id}"


def link_pk(metaapi_account_id: str) -> str:
    """One item per MetaApi account: it can be linked once, by one user."""
    return f"METAAPI#{metaapi_account_id}"


def trade_sk(request_id: str) -> str:
    return f"TRADE#{request_id}"
