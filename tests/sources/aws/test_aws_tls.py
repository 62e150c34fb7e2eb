"""TLS to AWS: the CA bundle is read once per process, and certificates are verified as before.

A real TLS server on 127.0.0.1 (its certificates made here, signed by a CA of the test's own)
answers ``sts.GetCallerIdentity`` and closes every connection, so each call opens a new one.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import select
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import SSLError

from sagefence.sources.aws import calls

cryptography = pytest.importorskip("cryptography")
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

IDENTITY = (
    b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    b"<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/tls</Arn>"
    b"<UserId>AIDATLS</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
    b"<ResponseMetadata><RequestId>tls</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(subject: str, issuer: str, key: ec.EllipticCurvePrivateKey, signer: ec.EllipticCurvePrivateKey,
                 ca: bool, names: list[x509.GeneralName]) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _authority(folder: Path, name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(name, name, key, key, True, [])
    bundle = folder / f"{name}.pem"
    bundle.write_bytes(_pem(cert))
    return key, cert, bundle


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(IDENTITY)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(IDENTITY)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        pass


@contextmanager
def _serve(folder: Path, ca_key: ec.EllipticCurvePrivateKey | None, ca: x509.Certificate | None,
           names: list[x509.GeneralName]) -> Iterator[str]:
    """An HTTPS server with a certificate for ``names`` signed by ``ca``; plain HTTP without a CA."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    server.daemon_threads = True
    if ca_key is not None and ca is not None:
        server.socket = _tls(folder, ca_key, ca, names).wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'http' if ca is None else 'https'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _tls(folder: Path, ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate,
         names: list[x509.GeneralName]) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate("sagefence-test", "sagefence-test-ca", key, ca_key, False, names)
    chain, secret = folder / "server.pem", folder / "server.key"
    chain.write_bytes(_pem(cert))
    secret.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, secret)
    return context


LOOPBACK = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]


@pytest.fixture
def tls_env(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The package's dummy credentials and no user config (``aws_env``), and no proxy from the environment."""
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    # A refused connection is not retried here (the scan retries it 7 times, backing off: seconds).
    monkeypatch.setattr(calls, "CLIENT_CONFIG", Config(retries={"mode": "standard", "max_attempts": 1}))


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every CA file loaded into any TLS context."""
    seen: list[object] = []
    original = ssl.SSLContext.load_verify_locations

    def load(self: ssl.SSLContext, cafile: object = None, *args: object, **kwargs: object) -> None:
        seen.append(cafile)
        original(self, cafile, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", load)
    return seen


def _clients(endpoint: str, bundle: Path, monkeypatch: pytest.MonkeyPatch) -> calls.AccountClients:
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    return calls.AccountClients("123456789012", calls.new_session(), calls.CallCounter(), "us-east-1", pool=4)


def test_the_bundle_is_read_once_for_every_connection_of_every_client(
    tmp_path: Path, tls_env: None, loads: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    ca_key, ca, bundle = _authority(tmp_path, "sagefence-test-ca")
    with _serve(tmp_path, ca_key, ca, LOOPBACK) as endpoint:
        clients = _clients(endpoint, bundle, monkeypatch)
        answers = [clients.client("sts", region).get_caller_identity()
                   for region in ("us-east-1", "eu-west-1", "eu-central-1") for _ in range(3)]
        clients.release()
    assert [a["Account"] for a in answers] == ["123456789012"] * 9  # nine connections, each verified
    assert loads == [str(bundle)]


def test_plain_http_reads_no_bundle(tmp_path: Path, tls_env: None, loads: list[object],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, bundle = _authority(tmp_path, "sagefence-test-ca")
    with _serve(tmp_path, None, None, []) as endpoint:
        clients = _clients(endpoint, bundle, monkeypatch)
        assert clients.client("sts").get_caller_identity()["Account"] == "123456789012"
        clients.release()
    assert loads == []


@pytest.mark.parametrize(
    ("trusted", "names", "refusal"),
    [
        ("another-ca", LOOPBACK, "CERTIFICATE_VERIFY_FAILED"),  # a bundle that does not vouch for the server
        ("sagefence-test-ca", [x509.DNSName("sts.example.com")], "127.0.0.1"),  # a certificate for another host
        (None, LOOPBACK, "No such file"),  # an unreadable bundle: botocore's own failure, as before
    ],
    ids=["unknown-ca", "other-host", "unreadable-bundle"],
)
def test_connections_the_bundle_cannot_verify_are_refused(
    tmp_path: Path, tls_env: None, monkeypatch: pytest.MonkeyPatch, trusted: str | None,
    names: list[x509.GeneralName], refusal: str,
) -> None:
    ca_key, ca, own = _authority(tmp_path, "sagefence-test-ca")
    bundle = {"sagefence-test-ca": own, "another-ca": _authority(tmp_path, "another-ca")[2]}.get(
        trusted or "", tmp_path / "missing.pem")
    with _serve(tmp_path, ca_key, ca, names) as endpoint:
        clients = _clients(endpoint, bundle, monkeypatch)
        with pytest.raises(SSLError, match=refusal):
            clients.client("sts").get_caller_identity()
        clients.release()


class _Tunnel(socketserver.BaseRequestHandler):
    """An HTTPS proxy's CONNECT, to 127.0.0.1 only; the bytes pass through untouched."""

    targets: list[str] = []

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        method, target = head.split(b" ", 2)[:2]
        host, _, port = target.decode().rpartition(":")
        if method != b"CONNECT" or host != "127.0.0.1":
            self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        self.targets.append(target.decode())
        with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=10) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            ends = [self.request, upstream]
            for _ in range(10_000):  # bounded: a call is a few round trips
                ready, _, _ = select.select(ends, [], [], 10)
                if not ready:
                    return
                for end in ready:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is self.request else self.request).sendall(data)


@pytest.mark.parametrize("trusted", ["sagefence-test-ca", "another-ca"])
def test_through_a_proxy_the_bundle_still_decides(
    tmp_path: Path, tls_env: None, monkeypatch: pytest.MonkeyPatch, trusted: str
) -> None:
    """Connections through an HTTPS proxy keep botocore's own path: verified against the bundle."""
    ca_key, ca, own = _authority(tmp_path, "sagefence-test-ca")
    bundle = own if trusted == "sagefence-test-ca" else _authority(tmp_path, "another-ca")[2]
    _Tunnel.targets = []
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Tunnel) as proxy:
        proxy.daemon_threads = True
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        try:
            with _serve(tmp_path, ca_key, ca, LOOPBACK) as endpoint:
                clients = _clients(endpoint, bundle, monkeypatch)
                try:
                    if trusted == "another-ca":
                        with pytest.raises(SSLError, match="CERTIFICATE_VERIFY_FAILED"):
                            clients.client("sts").get_caller_identity()
                    else:
                        assert clients.client("sts").get_caller_identity()["Account"] == "123456789012"
                finally:
                    clients.release()
        finally:
            proxy.shutdown()
    assert set(_Tunnel.targets) == {endpoint.removeprefix("https://")}  # the call went through the proxy
