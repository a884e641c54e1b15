"""Single-table key shapes. Every item is owned by a user or by an account."""

from __future__ import annotations


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def account_sk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


ACCOUNT_SK_PREFIX = "ACCOUNT#"
