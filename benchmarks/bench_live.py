"""Live scan cost: ``sagefence scan account --organization`` against moto behind a slow proxy.

    python benchmarks/bench_live.py --json-out benchmarks/out/live.json

Starts a moto server on a free loopback port and, in front of it, a small HTTP proxy
(also loopback; asyncio, or ``--proxy threads``) that waits ``--latency-ms`` before forwarding each request,
so every API call costs what a call to AWS costs. It seeds an organization of
``--accounts`` accounts x ``--regions`` with ``--resources`` resources per account and
region (VPCs, VPC endpoints, buckets with DenyNoVPC policies, KMS keys, roles,
notebook instances), talking to moto directly; then, for each ``--latency-ms`` value,
runs the scan once per ``--workers`` value with ``AWS_ENDPOINT_URL`` pointing at the
proxy and dummy credentials, after one warm-up scan that is not reported. With ``--tls`` the
proxy speaks HTTPS, as AWS does, and the scan verifies its certificate against a CA file the
size of the public bundle (``AWS_CA_BUNDLE``): TLS handshakes and certificate loading then cost
the scan what they cost against AWS. ``--repeat K``
runs that whole plan K times over and adds each row's median and range. The scan runs
from the work tree installed into ``benchmarks/.venvs/sagefence``, as in bench_templates.

Reported per latency and worker count: wall time, API calls (the scan's own
``scan.api_calls.total`` and the proxy's request count as a cross-check), calls per
seeded resource, the ideal ``calls x latency / workers``, wall / ideal, and the CPU time
of moto, the scan and the proxy, so that a row where the machine or moto (one Python
process: at most one core) was the limit says so. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import re
import resource
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_templates import GNU_TIME, sagefence_tree, sagefence_venv, write_report  # noqa: E402 - the same install as there

ROLE = "OrganizationAccountAccessRole"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te", "trailer"}
SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/")
DUMMY = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
         "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
         "AWS_EC2_METADATA_DISABLED": "true"}
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                     "Action": "*", "Resource": "*"}]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


LATENCY_MODELS = ("added", "total")


class _Counting:
    """What both proxies keep: the latency model, and the counts and times the report reads."""

    tls_bundle: Path | None = None  # the CA file that vouches for the proxy's certificate, when it speaks TLS

    def start_counting(self, upstream_port: int, latency_s: float, model: str) -> None:
        if model not in LATENCY_MODELS:
            raise ValueError(f"latency model {model!r}: one of {', '.join(LATENCY_MODELS)}")
        self.upstream_port, self.latency_s, self.model = upstream_port, latency_s, model
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.upstream_s = 0.0
        self.overruns = 0

    def url(self) -> str:
        scheme = "https" if self.tls_bundle else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.upstream_s = 0.0
            self.overruns = 0

    def total(self) -> int:
        with self.lock:
            return sum(self.counts.values())

    def arrive(self, authorization: str) -> float:
        """Count a request by the service it signed for; the time it arrived."""
        arrived = time.perf_counter()
        scope = SCOPE.search(authorization)
        with self.lock:
            self.counts[scope.group(2) if scope else "unsigned"] += 1
        return arrived

    def forwarded(self, arrived: float, start: float) -> float:
        """Record moto's time for a request forwarded at ``start``: the seconds still to wait before
        answering (under ``total``, what is left of the latency since the request arrived)."""
        answered = time.perf_counter()
        total = self.model == "total"
        left = self.latency_s - (answered - arrived) if total else 0.0
        with self.lock:
            self.upstream_s += answered - start
            self.overruns += total and left <= 0
        return left


class LatencyProxy(ThreadingHTTPServer, _Counting):
    """Forwards every request to moto and counts them by service; each call costs the latency:

    - ``added``: the proxy waits the latency, then forwards; a call takes the latency plus moto's
      own time (on this machine 4 to 17 ms, varying by run and load);
    - ``total``: the proxy forwards at once and answers when the latency has passed since the
      request arrived, as AWS's round trip includes its own processing; a call takes the latency,
      or moto's time where moto is slower (``overruns``)."""

    daemon_threads = True

    def __init__(self, upstream_port: int, latency_s: float, model: str = "added") -> None:
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.start_counting(upstream_port, latency_s, model)


class AsyncLatencyProxy(_Counting):
    """``LatencyProxy``'s forwarding, counting and latency models on one asyncio event loop (run
    by ``serve_forever`` in a thread of its own), instead of a thread per connection: a request
    no longer waits for one of 16 to 32 threads to get the interpreter lock before it is read or
    answered (the threaded proxy's handlers started 1.6-2.2 ms after the scanner sent). On two
    cores the proxy shares with moto and the scan, that is CPU they get back: in six alternating
    runs at 100 ms and 16 workers, the proxy's CPU 1.46 -> 1.18 s, moto's time a call 12.6 ->
    10.1 ms, wall 8.47 -> 8.21 s (medians). Neither proxy changes what a call costs the scan
    beyond the latency model's own rule."""

    def __init__(self, upstream_port: int, latency_s: float, model: str = "added",
                 tls: tuple[ssl.SSLContext, Path] | None = None) -> None:
        self.start_counting(upstream_port, latency_s, model)
        self._sock = socket.create_server(("127.0.0.1", 0), backlog=512)
        self.server_address = self._sock.getsockname()
        self._loop = asyncio.new_event_loop()
        self._tls = tls[0] if tls else None
        self.tls_bundle = tls[1] if tls else None

    def serve_forever(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(asyncio.start_server(self._serve, sock=self._sock, ssl=self._tls))
        self._loop.run_forever()

    def shutdown(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                head = await _read_head(reader)
                if head is None:
                    return
                method, target, headers = head
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                arrived = self.arrive(headers.get("authorization", ""))
                if self.model != "total":
                    await asyncio.sleep(self.latency_s)
                start = time.perf_counter()
                try:
                    status, reason, answer_headers, payload = await self._forward(method, target, headers, body)
                finally:
                    left = self.forwarded(arrived, start)
                if left > 0:
                    await asyncio.sleep(left)
                writer.write(_message(f"HTTP/1.1 {status} {reason}", answer_headers, payload, send=method != "HEAD"))
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _forward(self, method: str, target: str, headers: dict[str, str],
                       body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            writer.write(_message(f"{method} {target} HTTP/1.1", [*headers.items(), ("Connection", "close")], body))
            await writer.drain()
            status_line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
            _, code, *reason = status_line.split(" ", 2)
            answer = await _read_fields(reader)
            fields = {k.lower(): v for k, v in answer}
            if method == "HEAD" or code in ("204", "304"):
                payload = b""
            elif "content-length" in fields:
                payload = await reader.readexactly(int(fields["content-length"]))
            elif "chunked" in fields.get("transfer-encoding", "").lower():
                payload = await _read_chunked(reader)
            else:
                payload = await reader.read()
            return int(code), reason[0] if reason else "", answer, payload
        finally:
            writer.close()


# Headers neither proxy passes on as they came: the hop-by-hop ones, and the length it sets itself.
NOT_PASSED_ON = HOP_BY_HOP | {"content-length"}


def _message(first_line: str, fields: list[tuple[str, str]], body: bytes, send: bool = True) -> bytes:
    """An HTTP/1.1 message: the fields passed on, the body's own Content-Length, the body if sent."""
    lines = [first_line, *(f"{k}: {v}" for k, v in fields if k.lower() not in NOT_PASSED_ON)]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body if send else b"")


async def _read_fields(reader: asyncio.StreamReader) -> list[tuple[str, str]]:
    """Header fields up to the blank line that ends them."""
    fields = []
    while (line := (await reader.readline()).decode("latin-1").rstrip("\r\n")):
        key, _, value = line.partition(":")
        fields.append((key.strip(), value.strip()))
    return fields


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]] | None:
    """A request line and its headers (names lower-cased), or None at the end of the connection."""
    line = await reader.readline()
    if not line.strip():
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    return method, target, {k.lower(): v for k, v in await _read_fields(reader)}


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while (size := int((await reader.readline()).split(b";")[0].strip() or b"0", 16)):
        parts.append(await reader.readexactly(size))
        await reader.readline()
    while (await reader.readline()).strip():  # trailers
        pass
    return b"".join(parts)


PROXIES = {"asyncio": AsyncLatencyProxy, "threads": LatencyProxy}


def loopback_tls(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context for 127.0.0.1 and a CA file that vouches for it (the certificates made here,
    valid a day): with ``--tls`` the scan verifies the proxy's certificate as it would AWS's."""
    import datetime
    import ipaddress

    from botocore.httpsession import where
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def certificate(subject: str, key: Any, signer: Any, issuer: str, ca: bool) -> Any:
        made = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            made = made.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        return made.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    bundle, chain, secret = folder / "bench-ca.pem", folder / "proxy.pem", folder / "proxy.key"
    # The CA appended to the public bundle botocore trusts by default, as a company's own CA would
    # be: every CA file the scan loads is then the size it is against AWS (about 120 certificates).
    bundle.write_bytes(Path(where()).read_bytes() + b"\n" + certificate(
        "sagefence bench CA", ca_key, ca_key, "sagefence bench CA", True).public_bytes(serialization.Encoding.PEM))
    chain.write_bytes(certificate("127.0.0.1", key, ca_key, "sagefence bench CA", False)
                      .public_bytes(serialization.Encoding.PEM))
    secret.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, secret)
    return context, bundle


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: Nagle + delayed ACK would add ~40 ms
    server: LatencyProxy

    def forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        arrived = self.server.arrive(self.headers.get("Authorization", ""))
        if self.server.model != "total":
            time.sleep(self.server.latency_s)
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=60)
        start = time.perf_counter()
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
        finally:
            upstream.close()
            left = self.server.forwarded(arrived, start)
        if left > 0:
            time.sleep(left)
        self.send_response(answer.status, answer.reason)
        for key, value in answer.getheaders():
            if key.lower() not in NOT_PASSED_ON:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward

    def log_message(self, format: str, *args: Any) -> None:
        return


# moto.server with two per-request costs of the harness removed: its dispatcher looks the Host
# header up under one global lock, listing moto's ~150 package directories from disk each time
# (a pure function of the header: memoized here), and werkzeug logs every request (off here).
# Neither touches what a request does or answers; --moto-as-is runs moto unchanged.
TUNED_MOTO = """
import functools, logging, sys
from moto.moto_server import werkzeug_app
from moto.server import main
app = werkzeug_app.DomainDispatcherApplication
app.get_backend_for_host = functools.lru_cache(maxsize=None)(app.get_backend_for_host)
logging.getLogger("werkzeug").setLevel(logging.WARNING)
main(sys.argv[1:])
"""


def start_moto(port: int, log: Path, tuned: bool = True) -> subprocess.Popen[bytes]:
    server = ["-c", TUNED_MOTO] if tuned else ["-m", "moto.server"]
    proc = subprocess.Popen([sys.executable, *server, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"moto server did not start on 127.0.0.1:{port}; see {log}")


def clients(endpoint: str, region: str, creds: dict[str, str] | None = None, pool: int = 10,
            verify: Path | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"endpoint_url": endpoint, "region_name": region, "verify": str(verify) if verify else None,
                              "aws_access_key_id": "testing", "aws_secret_access_key": "testing",
                              "config": Config(max_pool_connections=pool)}
    if creds:
        kwargs.update(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                      aws_session_token=creds["SessionToken"])
    return {name: boto3.client(name, **kwargs) for name in ("ec2", "s3", "kms", "iam", "sagemaker", "sts")}


def seed_region(c: dict[str, Any], account: str, region: str, count: int) -> Counter[str]:
    """``count`` resources in one account and region, cycling through the kinds a SageMaker VPC has."""
    made: Counter[str] = Counter()
    vpc = c["ec2"].create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = c["ec2"].create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = c["ec2"].create_security_group(GroupName="endpoints", Description="endpoints", VpcId=vpc)["GroupId"]
    made["vpc"] += 1
    role_arn = c["iam"].create_role(RoleName=f"sm-exec-{region}", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    made["role"] += 1
    kinds = ("endpoint", "bucket", "key", "role", "notebook", "vpc")
    services = ("s3", "sagemaker.api", "sagemaker.runtime", "sts", "logs", "kms", "monitoring", "ecr.api")
    for index in range(max(0, count - 2)):
        kind = kinds[index % len(kinds)]
        if kind == "endpoint":
            service = services[made["endpoint"] % len(services)]
            kwargs: dict[str, Any] = {"VpcEndpointType": "Gateway"} if service == "s3" else {
                "VpcEndpointType": "Interface", "SubnetIds": [subnet], "SecurityGroupIds": [group],
                "PrivateDnsEnabled": index % 4 != 0}
            c["ec2"].create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{region}.{service}", **kwargs)
        elif kind == "bucket":
            name = f"bench-{account}-{region}-{index}"
            location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            c["s3"].create_bucket(Bucket=name, **location)
            c["s3"].put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Sid": "DenyNoVPC", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}}]}))
            c["s3"].put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": index % 3 != 0})
        elif kind == "key":
            key = c["kms"].create_key(Description=f"bench {index}", Policy=json.dumps(ALLOW_ALL))["KeyMetadata"]
            if index % 2:
                c["kms"].enable_key_rotation(KeyId=key["KeyId"])
        elif kind == "role":
            c["iam"].create_role(RoleName=f"bench-{region}-{index}", AssumeRolePolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                         "Action": "sts:AssumeRole"}]}))
            c["iam"].put_role_policy(RoleName=f"bench-{region}-{index}", PolicyName="passrole", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}))
        elif kind == "notebook":
            c["sagemaker"].create_notebook_instance(
                NotebookInstanceName=f"bench-{index}", InstanceType="ml.t3.medium", RoleArn=role_arn,
                SubnetId=subnet, SecurityGroupIds=[group], DirectInternetAccess="Disabled" if index % 2 else "Enabled")
        else:
            c["ec2"].create_vpc(CidrBlock=f"10.{1 + index % 250}.0.0/16")
        made[kind] += 1
    return made


def seed(endpoint: str, accounts: int, regions: list[str], resources: int) -> dict[str, Any]:
    """An organization: the management account plus ``accounts - 1`` members, each reached by AssumeRole
    (moto's ``create_account`` makes the member's OrganizationAccountAccessRole itself)."""
    management = clients(endpoint, regions[0])
    org = boto3.client("organizations", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    org.create_organization(FeatureSet="ALL")
    ids = [management["sts"].get_caller_identity()["Account"]]
    for index in range(accounts - 1):
        status = org.create_account(Email=f"ml-team-{index}@example.com", AccountName=f"ml-team-{index}")
        ids.append(status["CreateAccountStatus"]["AccountId"])
    made: Counter[str] = Counter()
    for account in ids:
        creds = None
        if account != ids[0]:
            creds = management["sts"].assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}",
                                                  RoleSessionName="bench-seed")["Credentials"]
        for region in regions:
            made.update(seed_region(clients(endpoint, region, creds), account, region, resources))
    return {"accounts": ids, "resources": sum(made.values()), "by_kind": dict(made)}


def proxy_check(proxy: LatencyProxy | AsyncLatencyProxy, regions: list[str], calls: int = 10) -> dict[str, Any]:
    """Calls through the proxy with boto3, as the scan would make them: does it forward and count?"""
    c = clients(proxy.url(), regions[0], verify=proxy.tls_bundle)
    proxy.reset()
    start = time.perf_counter()
    for index in range(calls):
        [c["sts"].get_caller_identity, c["s3"].list_buckets, c["ec2"].describe_vpcs,
         c["kms"].list_keys, c["iam"].list_roles][index % 5]()
    mean = (time.perf_counter() - start) / calls
    counted = proxy.total()
    if counted != calls:
        raise RuntimeError(f"proxy counted {counted} requests for {calls} calls")
    return {"calls": calls, "counted": counted, "mean_call_ms": mean * 1000}


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def server_capacity(endpoint: str, regions: list[str], threads: int = 16, calls: int = 480) -> dict[str, Any]:
    """The most calls a second moto answers: ``threads`` closed-loop threads, straight to moto (no
    proxy, no latency), cycling through reads of the kinds the scan makes. Past about three
    quarters of this rate, requests queue in moto and its time per call grows."""
    c = clients(endpoint, regions[0], pool=threads)
    reads = [c["ec2"].describe_vpcs, c["ec2"].describe_security_groups, c["s3"].list_buckets,
             c["kms"].list_keys, c["sagemaker"].list_notebook_instances]
    for bucket in c["s3"].list_buckets()["Buckets"][:1]:
        reads.append(partial(c["s3"].get_public_access_block, Bucket=bucket["Name"]))
    for key in c["kms"].list_keys()["Keys"][:1]:
        reads += [partial(c["kms"].describe_key, KeyId=key["KeyId"]),
                  partial(c["kms"].get_key_policy, KeyId=key["KeyId"], PolicyName="default")]
    for notebook in c["sagemaker"].list_notebook_instances()["NotebookInstances"][:1]:
        reads.append(partial(c["sagemaker"].describe_notebook_instance,
                             NotebookInstanceName=notebook["NotebookInstanceName"]))
    each = max(1, calls // threads)

    def worker(offset: int) -> None:
        for index in range(each):
            reads[(offset + index) % len(reads)]()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    start = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - start
    return {"threads": threads, "calls": each * threads, "wall_s": wall, "calls_per_s": each * threads / wall}


def api_total(document: dict[str, Any]) -> int | None:
    calls = document.get("scan", {}).get("api_calls")
    if isinstance(calls, dict):
        if isinstance(calls.get("total"), int):
            return int(calls["total"])
        return sum(v for v in calls.get("by_operation", {}).values() if isinstance(v, int)) or None
    return calls if isinstance(calls, int) else None


def scan(proxy: LatencyProxy | AsyncLatencyProxy, moto_pid: int, regions: list[str], workers: int, timeout: float,
         workdir: Path) -> dict[str, Any]:
    output = workdir / f"scan-{proxy.model}-l{proxy.latency_s * 1000:g}-w{workers}.json"
    output.unlink(missing_ok=True)
    cmd = [str(sagefence_venv() / "sagefence"), "scan", "account", "--organization", "--role-name", ROLE,
           "--regions", ",".join(regions), "--max-workers", str(workers), "--format", "json",
           "--output", str(output), "--quiet"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(DUMMY, AWS_ENDPOINT_URL=proxy.url())
    if proxy.tls_bundle:
        env["AWS_CA_BUNDLE"] = str(proxy.tls_bundle)
    peak_file = workdir / f"peak-{proxy.model}-l{proxy.latency_s * 1000:g}-w{workers}.txt"
    peak_file.unlink(missing_ok=True)
    if GNU_TIME.exists():  # the scan's own peak RSS (GNU time's %M, kilobytes)
        cmd = [str(GNU_TIME), "-f", "%M", "-o", str(peak_file), *cmd]
    proxy.reset()
    # The bench process only runs the proxy while the scan runs; moto is not reaped, so
    # RUSAGE_CHILDREN grows by the scan alone.
    cpu = (process_cpu_s(moto_pid), own_cpu_s(resource.RUSAGE_CHILDREN), own_cpu_s(resource.RUSAGE_SELF))
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"workers": workers, "latency_ms": proxy.latency_s * 1000, "model": proxy.model, "status": "timeout",
                "note": f"no answer within {timeout:.0f} s"}
    wall = time.perf_counter() - start
    moto_cpu = process_cpu_s(moto_pid) - cpu[0]
    scan_cpu = own_cpu_s(resource.RUSAGE_CHILDREN) - cpu[1]
    proxy_cpu = own_cpu_s(resource.RUSAGE_SELF) - cpu[2]
    result: dict[str, Any] = {"workers": workers, "latency_ms": proxy.latency_s * 1000, "model": proxy.model,
                              "wall_s": wall, "overruns": proxy.overruns,
                              "exit_code": proc.returncode, "proxy_requests": proxy.total(),
                              "proxy_by_service": dict(proxy.counts), "moto_s": proxy.upstream_s,
                              "moto_cpu_s": moto_cpu, "scan_cpu_s": scan_cpu, "proxy_cpu_s": proxy_cpu,
                              "scan_peak_mb": _peak_mb(peak_file),
                              **limit(wall, moto_cpu, moto_cpu + scan_cpu + proxy_cpu)}
    try:
        document = json.loads(output.read_text())
    except (OSError, ValueError):
        tail = " ".join(proc.stderr.decode(errors="replace").split())[-300:]
        return {**result, "status": "unavailable", "note": f"exit {proc.returncode}, no JSON output: {tail}"}
    result.update(status="ok" if proc.returncode in (0, 1) else "partial", api_calls=api_total(document),
                  retries=(document["scan"].get("api_calls") or {}).get("retries"),
                  errors=len(document.get("errors", [])), findings=len(document.get("findings", [])),
                  scanned_accounts=document["scan"].get("accounts"))
    return result


def _peak_mb(path: Path) -> float | None:
    try:
        return int(path.read_text().split()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        return None


CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
SERVER_BOUND = 0.75  # of moto's measured capacity: past it, requests queue in moto
CPU_BOUND = 0.85


def limit(wall: float, moto_cpu: float, total_cpu: float) -> dict[str, Any]:
    busy = total_cpu / (wall * CORES) if wall else 0.0
    return {"cpu_busy": busy, "moto_core_share": moto_cpu / wall if wall else 0.0}


def derive(result: dict[str, Any], resources: int, latency_s: float, capacity: float) -> dict[str, Any]:
    """Ideal, floor, and whether moto or the machine was the limit, rather than latency and the scan:
    ``server_use`` is the rate the scan reached over moto's capacity, ``need_over_capacity`` the rate
    the ideal needs (workers / latency) over it: above 1 no scanner can reach the ideal here."""
    calls = result.get("api_calls") or result.get("proxy_requests")
    if result.get("status") in ("ok", "partial") and calls:
        result["server_use"] = calls / result["wall_s"] / capacity
        result["need_over_capacity"] = result["workers"] / latency_s / capacity if latency_s else float("inf")
        server_bound = max(result["server_use"], result["need_over_capacity"]) >= SERVER_BOUND
        result["saturated"] = "moto" if server_bound else "cpu" if result["cpu_busy"] >= CPU_BOUND else ""
        ideal = calls * latency_s / result["workers"]
        # What moto itself takes per call (forwarded to answered, as the proxy saw it), and the
        # wall time an infinitely fast scanner would need against this server: the ideal stays
        # latency only; this is the floor the harness allows. Under the added model moto's time
        # comes on top of the latency, under the total model it is inside it unless it is longer.
        server_s = result["moto_s"] / result["proxy_requests"] if result.get("proxy_requests") else 0.0
        per_call = max(latency_s, server_s) if result.get("model") == "total" else latency_s + server_s
        floor = calls * per_call / result["workers"]
        result.update(calls_per_resource=calls / resources, ideal_s=ideal,
                      wall_over_ideal=result["wall_s"] / ideal if ideal else None,
                      server_ms_per_call=server_s * 1000, floor_s=floor,
                      wall_over_floor=result["wall_s"] / floor if floor else None)
    return result


def table(report: dict[str, Any]) -> str:
    warm = report["warm_up"]
    if warm["status"] not in ("ok", "partial"):
        return f"scan account is not available: {warm['status']}: {warm.get('note', '')}"
    lines = [f"{'latency':>7} {'model':>5} {'workers':>7} {'wall s':>7} {'calls':>6} {'proxy':>6} {'per res':>7} {'ideal s':>7} "
             f"{'wall/ideal':>10} {'srv ms':>6} {'wall/floor':>10} {'need/cap':>8} {'srv use':>7} {'moto cpu':>8} "
             f"{'scan cpu':>8} {'scan MB':>7} {'busy':>5} {'limit':>5}  status"]
    for r in report["runs"]:
        head = f"{r['latency_ms']:>5g}ms {r.get('model', 'added'):>5} {r['workers']:>7}"
        if "calls_per_resource" not in r:
            lines.append(f"{head} {'':>112}  {r['status']}: {r.get('note', '')}")
            continue
        lines.append(f"{head} {r['wall_s']:>7.2f} {r['api_calls'] or '-':>6} {r['proxy_requests']:>6} "
                     f"{r['calls_per_resource']:>7.2f} {r['ideal_s']:>7.2f} {r['wall_over_ideal'] or 0:>10.2f} "
                     f"{r['server_ms_per_call']:>6.1f} {r['wall_over_floor'] or 0:>10.2f} "
                     f"{r['need_over_capacity']:>8.2f} {r['server_use']:>7.0%} {r['moto_cpu_s']:>8.2f} {r['scan_cpu_s']:>8.2f} {r.get('scan_peak_mb') or 0:>7.0f} {r['cpu_busy']:>5.0%} {r['saturated'] or '-':>5}  "
                     f"{r['status']} (exit {r['exit_code']}, {r['errors']} errors, {r['findings']} findings)")
    return "\n".join(lines)


SUMMARISED = ("wall_s", "wall_over_ideal", "server_ms_per_call", "wall_over_floor", "scan_cpu_s", "scan_peak_mb")


def summary(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (model, latency, workers): how many runs measured, and the median, min and max of each
    of ``SUMMARISED`` over them (runs that did not complete are counted, not summarised)."""
    rows: dict[tuple[str, float, int], list[dict[str, Any]]] = {}
    for run in runs:
        rows.setdefault((run.get("model", "added"), run["latency_ms"], run["workers"]), []).append(run)
    out = []
    for (model, latency, workers), group in rows.items():
        measured = [r for r in group if "calls_per_resource" in r]
        row: dict[str, Any] = {"model": model, "latency_ms": latency, "workers": workers, "runs": len(group),
                               "measured": len(measured)}
        for key in SUMMARISED:
            values = sorted(r[key] for r in measured if r.get(key) is not None)
            if values:
                row[key] = {"median": statistics.median(values), "min": values[0], "max": values[-1]}
        out.append(row)
    return out


def summary_table(rows: list[dict[str, Any]]) -> str:
    def spread(row: dict[str, Any], key: str, digits: int) -> str:
        value = row.get(key)
        if not value:
            return "-"
        return f"{value['median']:.{digits}f} [{value['min']:.{digits}f}-{value['max']:.{digits}f}]"

    lines = [f"{'latency':>7} {'model':>5} {'workers':>7} {'runs':>4}  {'wall s':<21} {'wall/ideal':<18} "
             f"{'srv ms':<16} {'wall/floor':<18} {'scan cpu':<18}"]
    for row in rows:
        lines.append(f"{row['latency_ms']:>5g}ms {row['model']:>5} {row['workers']:>7} {row['measured']:>4}  "
                     f"{spread(row, 'wall_s', 2):<21} {spread(row, 'wall_over_ideal', 2):<18} "
                     f"{spread(row, 'server_ms_per_call', 1):<16} {spread(row, 'wall_over_floor', 2):<18} "
                     f"{spread(row, 'scan_cpu_s', 2):<18}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=8, help="accounts in the organization (management + members)")
    parser.add_argument("--regions", default="us-east-1,eu-west-1,eu-central-1")
    parser.add_argument("--resources", type=int, default=20, help="resources per account and region")
    parser.add_argument("--latency-ms", default="20,100",
                        help="comma-separated: each latency runs every worker count on the same seeded moto")
    parser.add_argument("--workers", default="1,4,16,32")
    parser.add_argument("--latency-model", default="added",
                        help="comma-separated, each runs every latency: 'added' (the proxy waits the latency, "
                             "then forwards: moto's time comes on top) or 'total' (answers when the latency has "
                             "passed since the request arrived: moto's time is inside it, as AWS's is)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of every row; the plan is run whole this many times over (so a slow spell of "
                             "the machine does not land on one row), then a summary gives each row's median and range")
    parser.add_argument("--proxy", choices=sorted(PROXIES), default="asyncio",
                        help="the latency proxy: one asyncio event loop (default) or a thread per connection")
    parser.add_argument("--tls", action="store_true",
                        help="the proxy speaks HTTPS with a certificate for 127.0.0.1 from a CA made for the run, "
                             "which the scan verifies (AWS_CA_BUNDLE), as it verifies AWS's (asyncio proxy only)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per scan")
    parser.add_argument("--moto-as-is", action="store_true",
                        help="run moto.server unchanged (its per-request Host lookup lists its package from disk)")
    parser.add_argument("--out-dir", type=Path, default=HERE / "out" / "live")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    if not 1 <= args.accounts <= 200 or not 1 <= args.resources <= 500:
        parser.error("--accounts must be 1-200 and --resources 1-500")
    if not 1 <= args.repeat <= 20:
        parser.error("--repeat must be 1-20")
    regions = [r for r in args.regions.split(",") if r]
    workers = [int(w) for w in args.workers.split(",") if w]
    latencies = [float(v) for v in args.latency_ms.split(",") if v]
    models = [m for m in args.latency_model.split(",") if m]
    if not models or any(m not in LATENCY_MODELS for m in models):
        parser.error(f"--latency-model takes {' or '.join(LATENCY_MODELS)}, comma-separated")
    if args.tls and args.proxy != "asyncio":
        parser.error("--tls needs the asyncio proxy")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    scanner = sagefence_venv()  # the work tree, installed as in bench_templates (not timed)
    moto_port = free_port()
    moto = start_moto(moto_port, args.out_dir / "moto.log", tuned=not args.moto_as_is)
    tls = loopback_tls(args.out_dir) if args.tls else None
    proxy = (AsyncLatencyProxy(moto_port, latencies[0] / 1000, tls=tls) if tls
             else PROXIES[args.proxy](moto_port, latencies[0] / 1000))
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        started = time.perf_counter()
        seeded = seed(f"http://127.0.0.1:{moto_port}", args.accounts, regions, args.resources)
        print(f"seeded {seeded['resources']} resources in {len(seeded['accounts'])} accounts x {len(regions)} "
              f"regions in {time.perf_counter() - started:.1f} s: {seeded['by_kind']}", flush=True)
        check = proxy_check(proxy, regions)
        print(f"proxy check: {check['calls']} boto3 calls, {check['counted']} counted, "
              f"{check['mean_call_ms']:.1f} ms each (latency {latencies[0]:g} ms + moto)", flush=True)
        capacity = server_capacity(f"http://127.0.0.1:{moto_port}", regions)
        print(f"moto capacity: {capacity['calls_per_s']:.0f} calls/s ({capacity['calls']} calls, "
              f"{capacity['threads']} threads, no latency)", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            warm = scan(proxy, moto.pid, regions, max(workers), args.timeout, Path(tmp))
        print(f"warm-up (W={max(workers)}): {warm['status']} {warm.get('note', '')}", flush=True)
        runs = []
        plan = [(m, latency) for m in models for latency in latencies] if warm["status"] in ("ok", "partial") else []
        for repeat in range(args.repeat):
            for model, latency in plan:
                proxy.model, proxy.latency_s = model, latency / 1000
                for count in workers:
                    runs.append(derive(scan(proxy, moto.pid, regions, count, args.timeout, args.out_dir),
                                       seeded["resources"], latency / 1000, capacity["calls_per_s"]))
                    runs[-1]["repeat"] = repeat
                    print(f"  {latency:g} ms {model} W={count}: {runs[-1]['status']} "
                          f"{runs[-1].get('wall_s', 0):.2f} s", flush=True)
    finally:
        proxy.shutdown()
        moto.terminate()
        try:
            moto.wait(timeout=30)
        except subprocess.TimeoutExpired:
            moto.kill()
            moto.wait(timeout=30)
    report = {"settings": {"accounts": args.accounts, "regions": regions, "resources_per_account_region":
                           args.resources, "latency_ms": latencies, "latency_models": models, "workers": workers, "cores": CORES,
                           "moto": moto_version(), "moto_tuned": not args.moto_as_is, "proxy": args.proxy, "tls": args.tls, "python": sys.version.split()[0],
                           "scanner_botocore": installed_version(scanner, "botocore"),
                           "load_average_at_end": os.getloadavg()},
              "sagefence_tree": sagefence_tree(), "seeded": seeded, "proxy_check": check,
              "moto_capacity": capacity, "warm_up": warm,
              "runs": runs, "summary": summary(runs)}
    print("\n" + table(report))
    if args.repeat > 1:
        print("\n" + summary_table(report["summary"]))
    write_report(report, args.json_out)
    return 0


def installed_version(bin_dir: Path, package: str) -> str:
    answer = subprocess.run([str(bin_dir / "python"), "-c", f"import {package}; print({package}.__version__)"],
                            capture_output=True, text=True, check=False, timeout=60)
    return answer.stdout.strip() or f"unknown ({answer.returncode})"


def moto_version() -> str:
    import moto

    return str(moto.__version__)


if __name__ == "__main__":
    raise SystemExit(main())
