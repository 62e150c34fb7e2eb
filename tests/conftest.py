from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from sagefence.catalogue import load_catalogue
from sagefence.config import Config
from sagefence.engine import select_rules
from sagefence.findings import FindingsDocument
from sagefence.scan import ScanContext, scan_templates
from sagefence.status import SourceKind

FIXTURES = Path(__file__).parent / "fixtures"
SCAN_DATE = date(2026, 11, 25)


def scan(paths: list[str | Path], rules: list[str] | None = None, config: Config | None = None) -> FindingsDocument:
    config = config or Config()
    selected = select_rules(load_catalogue(), config, only=rules or [], source=SourceKind.TEMPLATES)
    return scan_templates([str(p) for p in paths], ScanContext(config, selected, today=SCAN_DATE))


@pytest.fixture
def scan_files():
    return scan


# The HTML report in a real headless browser (Debian's chromium driven by playwright): skipped only when
# chromium or playwright is missing on a developer machine; under CI=true a missing browser fails.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must provide it (apt-get install -y chromium, pip install playwright)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1280, "height": 900})
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)




# Tests reach loopback addresses only (moto's server, the browser): a connection anywhere else is
# refused, and the test that tried it fails, even where the caller swallows the refusal (botocore's
# credential chain does, looking for instance credentials at 169.254.169.254).
_NOT_LOOPBACK: list[str] = []


def _loopback(host: Any) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return str(host) == "localhost"


@pytest.fixture(scope="session", autouse=True)
def _loopback_only() -> Iterator[None]:
    import errno
    import socket

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def beyond(sock: socket.socket, address: Any) -> bool:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            _NOT_LOOPBACK.append(str(address[0]))
            return True
        return False

    def connect(sock: socket.socket, address: Any) -> None:
        if beyond(sock, address):
            raise ConnectionRefusedError(f"tests reach loopback addresses only, not {address[0]}")
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        return errno.ECONNREFUSED if beyond(sock, address) else real_connect_ex(sock, address)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex = real_connect, real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _no_connection_beyond_loopback() -> Iterator[None]:
    _NOT_LOOPBACK.clear()
    yield
    assert not _NOT_LOOPBACK, f"the test tried to connect beyond loopback: {sorted(set(_NOT_LOOPBACK))}"


@pytest.fixture
def beyond_loopback() -> list[str]:
    """The addresses beyond loopback that the running test tried (each was refused)."""
    return _NOT_LOOPBACK
