"""Unit tests cannot open a socket: anything that tries fails loudly."""

from __future__ import annotations

import pytest
from pytest_socket import disable_socket


def pytest_runtest_setup(item: pytest.Item) -> None:
    disable_socket()
