"""The suite's own guard: tests reach loopback addresses only."""

from __future__ import annotations

import errno
import socket

import pytest


def test_connections_beyond_loopback_are_refused_and_fail_the_test(beyond_loopback: list[str]) -> None:
    for family, address in ((socket.AF_INET, ("192.0.2.1", 9)), (socket.AF_INET6, ("2001:db8::1", 9, 0, 0))):
        with socket.socket(family) as sock, pytest.raises(ConnectionRefusedError, match="loopback"):
            sock.connect(address)
    with socket.socket() as sock:
        assert sock.connect_ex(("169.254.169.254", 80)) == errno.ECONNREFUSED
    assert beyond_loopback == ["192.0.2.1", "2001:db8::1", "169.254.169.254"]
    beyond_loopback.clear()  # tried on purpose: the guard would fail this test otherwise


def test_loopback_is_let_through(beyond_loopback: list[str]) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as client:
            client.connect(server.getsockname())
    assert beyond_loopback == []
