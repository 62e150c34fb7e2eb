"""Sessions, shared clients and exact API call counting through botocore events."""

from __future__ import annotations

import copy
import json
import os
import ssl
import threading
import weakref
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import botocore.session
from botocore import handlers as builtin
from botocore.client import ClientCreator
from botocore.config import Config
from botocore.credentials import CredentialProvider, Credentials
from botocore.exceptions import DataNotFoundError
from botocore.hooks import EVENT_ALIASES, EventAliaser, HierarchicalEmitter, NodeList, _PrefixTrie
from botocore.httpsession import URLLib3Session, create_urllib3_context, get_cert_path
from botocore.loaders import JSONFileLoader, Loader, instance_cache
from botocore.model import ServiceModel

CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8})
_ATTEMPT_KEY = "sagefence_attempt"


class _PlainJSONFileLoader(JSONFileLoader):
    """botocore parses every model file into OrderedDicts (``object_pairs_hook``), twice as slow
    as plain dicts, which keep their order the same way: the eight services a scan reads took
    about 210 ms of its start instead of about 135 ms, all of it before the first task."""

    def _load_file(self, full_path: str, open_method: Any) -> Any:
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as fp:
            return json.loads(fp.read().decode("utf-8"))


class _OneServiceLoader(Loader):
    """botocore checks that a service exists by listing every service folder on the search path
    (445 of them, a ``listdir`` each) once per model type: 12 ms a type, three types before the
    first call. Here only the asked service's folders are looked at, which finds the same: a
    service is known for a type where some search path has a version of it with that type's file.
    An unknown service still goes through botocore's own check, for its error.

    A model is read once however many threads ask for it at once (the scan's first tasks start
    while the warm-up still reads models): the others wait for its answer, as they would for
    the CPU; botocore's cache alone let each of them parse the same JSON again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading = threading.Lock()
        self._readers: dict[tuple[str, str, str | None], threading.Lock] = {}

    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        with self._reading:
            reader = self._readers.setdefault((service_name, type_name, api_version), threading.Lock())
        with reader:
            return self._load_service_model(service_name, type_name, api_version)

    @instance_cache
    def _load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        try:
            versions = self.list_api_versions(service_name, type_name) if _plain_name(service_name) else ()
        except DataNotFoundError:
            versions = ()
        if not versions:
            return super().load_service_model(service_name, type_name, api_version)
        version = api_version or max(versions)
        model = self.load_data(os.path.join(service_name, version, type_name))
        self._extras_processor.process(model, self._find_extras(service_name, type_name, version))
        return model


def _plain_name(name: str) -> bool:
    """A folder name of its own: botocore's listing can only ever find such names."""
    separators = [sep for sep in (os.sep, os.altsep) if sep]
    return bool(name) and name not in (".", "..") and not any(sep in name for sep in separators)


@lru_cache(maxsize=4)
def _shared_loader(data_path: str | None = None) -> Loader:
    """Service models are read once per process (per data path: ``AWS_DATA_PATH`` or the
    config's ``data_path``, as botocore's own sessions honour them), not once per account session."""
    extra = None if data_path is None else [os.path.expanduser(os.path.expandvars(p)) for p in data_path.split(os.pathsep)]
    return _OneServiceLoader(extra_search_paths=extra, file_loader=_PlainJSONFileLoader())


def preload(session: botocore.session.Session, services: Iterable[str]) -> None:
    """Read the models every client of these services needs (service, endpoint rules, paginators:
    tens of milliseconds of JSON each) into the loader the session's clients read from."""
    loader = session.get_component("data_loader")
    for service in services:
        for kind in ("service-2", "endpoint-rule-set-1", "paginators-1"):
            loader.load_service_model(service, kind)


# Event emitters of the sessions made by new_session: their clients share one service model and
# one class per service, and one cache of event-name aliases.
_OUR_EMITTERS: weakref.WeakSet[Any] = weakref.WeakSet()
_SERVICE_MODELS: dict[tuple[str, str | None, Any], ServiceModel] = {}
_CLASSES: dict[tuple[str, str | None], type] = {}
_ALIASED_NAMES: dict[str, str] = {}


def _share_per_service() -> None:
    """What botocore rebuilds for every client although it depends on the service alone.

    A scan makes one client per account, service and region (about 130 for 8 accounts x 3
    regions; over 40,000 for 500 accounts x 17 regions), all from sessions made alike by
    ``new_session``, which register nothing on ``creating-client-class``. For their clients:

    - the ``ServiceModel`` is one per service, API version and loader (the loader's JSON is
      shared already). Each client's own model would build its operation models again on first
      use, and client creation asks every model for its endpoint-discovery operation, which
      builds the model of every operation (EC2's 750) and leaves them as cyclic garbage when the
      client goes: about 1,300 objects a client;
    - the class is one per service: botocore builds one method and one lazy docstring per
      operation, 13 of the 17 ms of CPU an EC2 client costs (SageMaker: 12 of 15);
    - event names are aliased through one cache: each client's emitter starts with an empty one
      and aliases every event name of every call again (a loop over botocore's alias table, a
      tenth of a scan's CPU). The alias of a name depends on the name alone.

    Every other session (the caller's own code, tests) keeps botocore's behaviour, and so does a
    botocore without these hooks. botocore never changes a service model once made."""
    load_model = getattr(ClientCreator, "_load_service_model", None)
    create_class = getattr(ClientCreator, "_create_client_class", None)
    copy_aliaser = getattr(EventAliaser, "__copy__", None)
    if load_model is None or create_class is None or copy_aliaser is None:
        return
    if getattr(create_class, "sagefence_shared", False):
        return

    def load_service_model(self: ClientCreator, service_name: str, api_version: str | None = None) -> Any:
        loader = getattr(self, "_loader", None)
        if getattr(self, "_event_emitter", None) not in _OUR_EMITTERS or loader is None:
            return load_model(self, service_name, api_version)
        key = (service_name, api_version, loader)
        made = _SERVICE_MODELS.get(key)
        if made is None:
            made = _SERVICE_MODELS.setdefault(key, load_model(self, service_name, api_version))
        return made

    def create_client_class(self: ClientCreator, service_name: str, service_model: Any) -> type:
        if getattr(self, "_event_emitter", None) not in _OUR_EMITTERS:
            return create_class(self, service_name, service_model)
        key = (service_name, service_model.api_version)
        made = _CLASSES.get(key)
        if made is None:
            made = _CLASSES.setdefault(key, create_class(self, service_name, service_model))
        return made

    def copy_sharing_aliases(self: EventAliaser) -> EventAliaser:
        if getattr(self, "_alias_name_cache", None) is not _ALIASED_NAMES:
            return copy_aliaser(self)
        emitter = _copy_emitter(self._emitter)
        copied = copy_aliaser(self) if emitter is None else EventAliaser(emitter, copy.copy(self._event_aliases))
        copied._alias_name_cache = _ALIASED_NAMES
        return copied

    create_client_class.sagefence_shared = True  # type: ignore[attr-defined]
    ClientCreator._load_service_model = load_service_model  # type: ignore[method-assign]
    ClientCreator._create_client_class = create_client_class  # type: ignore[method-assign]
    EventAliaser.__copy__ = copy_sharing_aliases  # type: ignore[method-assign]


_share_per_service()


def _copy_emitter(emitter: Any) -> HierarchicalEmitter | None:
    """What botocore's ``copy.copy`` of an emitter makes, made 2.5-3x faster: every client copies
    its session's tree of ~190 event names and ~130 handlers, 0.3-0.4 ms of the 1.3 ms of CPU a
    client cost (0.1 ms here). None for an emitter of another shape than botocore's own (then
    botocore copies it)."""
    handlers: Any = getattr(emitter, "_handlers", None)
    if type(emitter) is not HierarchicalEmitter or type(handlers) is not _PrefixTrie or set(vars(handlers)) != {"_root"}:
        return None
    try:
        root = _copy_node(handlers._root)
    except (KeyError, TypeError, IndexError, AttributeError):
        return None
    trie: Any = object.__new__(_PrefixTrie)
    trie._root = root
    state = vars(emitter).copy()
    state["_handlers"] = trie
    state["_unique_id_handlers"] = copy.copy(emitter._unique_id_handlers)
    state["_lookup_cache"] = {}  # botocore's copy shares the original's until its first registration
    copied: Any = object.__new__(HierarchicalEmitter)
    copied.__dict__ = state
    return copied


_tuple_new: Any = tuple.__new__  # NodeList's own constructor is a Python function: a third of the copy


def _copy_node(node: dict[str, Any]) -> dict[str, Any]:
    values, children = node["values"], node["children"]
    return {
        "chunk": node["chunk"],
        "values": None if values is None else _tuple_new(NodeList, (values[0][:], values[1][:], values[2][:])),
        "children": {part: _copy_node(child) for part, child in children.items()} if children else {},
    }


def new_session(
    profile: str | None = None,
    credentials: Credentials | None = None,
    region: str | None = None,
) -> botocore.session.Session:
    """Every session of a scan is made here (tests wrap it to register fault injectors).

    ``credentials`` (a member account's, refreshable) come first in the provider chain;
    without them the usual chain applies (``profile``, environment, files, instance role).
    A botocore session, not boto3's: the scan uses clients only, and boto3 costs 25-30 ms of
    imports (s3transfer, multiprocessing) and a resource-model search path on every session.
    """
    session = botocore.session.Session(
        profile=profile if credentials is None else None,
        event_hooks=_builtin_handlers(),
        include_builtin_handlers=False,
    )
    session.register_component("data_loader", _shared_loader(session.get_config_variable("data_path")))
    if credentials is not None:
        session.get_component("credential_provider").insert_before("env", _Given(credentials))
    if region is not None:
        session.set_config_variable("region", region)
    emitter = session.get_component("event_emitter")
    _OUR_EMITTERS.add(emitter)
    if isinstance(emitter, EventAliaser) and getattr(emitter, "_event_aliases", None) == EVENT_ALIASES:
        emitter._alias_name_cache = _ALIASED_NAMES
    return session


_BUILTINS_LOCK = threading.Lock()
_BUILTINS: list[tuple[tuple[Any, ...], HierarchicalEmitter]] = []  # (the handlers, an emitter holding them)


def _builtin_handlers() -> HierarchicalEmitter:
    """An emitter holding botocore's built-in handlers, for a new session.

    A botocore session registers its ~130 built-in handlers one by one, each name aliased and
    each handler's signature inspected: 5 of the 7 ms a session costs, once per account. They
    are registered once here, as botocore does, and each session gets a copy of the result (a
    copy of the handler tree, as every botocore client gets of its session's). The handlers are
    whatever ``BUILTIN_HANDLERS`` holds when the session is made, as for botocore's own: moto
    and test harnesses add theirs there."""
    specs = tuple(builtin.BUILTIN_HANDLERS)
    with _BUILTINS_LOCK:
        if not _BUILTINS or _BUILTINS[0][0] != specs:
            emitter = HierarchicalEmitter()
            aliased = EventAliaser(emitter)
            aliased._alias_name_cache = _ALIASED_NAMES
            for event_name, handler, *how in specs:
                if not how:
                    aliased.register(event_name, handler)
                elif how[0] is builtin.REGISTER_FIRST:
                    aliased.register_first(event_name, handler)
                elif how[0] is builtin.REGISTER_LAST:
                    aliased.register_last(event_name, handler)
            _BUILTINS[:] = [(specs, emitter)]
        template = _BUILTINS[0][1]
    return _copy_emitter(template) or copy.copy(template)


_TRUST_LOCK = threading.Lock()
_TRUST: dict[str, ssl.SSLContext] = {}  # CA bundle path -> the one context its clients share
_LOADED: set[str] = set()  # the bundles whose context holds them


def _shared_context(bundle: str) -> ssl.SSLContext:
    with _TRUST_LOCK:
        context = _TRUST.get(bundle)
        if context is None:
            context = _TRUST[bundle] = create_urllib3_context()
        return context


def _holds(bundle: str) -> bool:
    """Whether the bundle's shared context holds its certificates, read on the first TLS
    connection that needs them (a scan over plain HTTP never reads them); False if they
    cannot be read."""
    if bundle in _LOADED:
        return True
    with _TRUST_LOCK:
        if bundle not in _LOADED:
            try:
                _TRUST[bundle].load_verify_locations(cafile=bundle)
            except (OSError, ssl.SSLError):
                return False
            _LOADED.add(bundle)
    return True


def trust_once(client: Any) -> None:
    """Make the client's TLS connections use one context that reads the CA bundle once.

    botocore hands urllib3 the bundle's path for every connection pool, and urllib3 loads the
    whole file into the context again for every new connection: 20 ms of CPU for botocore's
    default bundle (120 certificates), about 30 ms amid a scan's threads. A scan opens one
    connection or more per account, region and service: 358 in the 8-account benchmark over
    TLS, where this took the scan's CPU from 16.1 to 4.3 s and its wall time from 12.8 to 8.5 s.
    Verification is unchanged: certificates are still required and checked against the same
    bundle, and host names as before. Connections through a proxy, with a client certificate or
    without verification keep botocore's own behaviour; so does a bundle that cannot be read
    (botocore reports it on the first call, as before)."""
    http: Any = getattr(getattr(client, "_endpoint", None), "http_session", None)
    if type(http) is not URLLib3Session or getattr(http, "_cert_file", None) is not None:
        return
    verify = getattr(http, "_verify", None)
    settings = getattr(getattr(http, "_manager", None), "connection_pool_kw", None)
    if not verify or not isinstance(settings, dict) or "ssl_context" not in settings:
        return
    bundle = get_cert_path(verify)
    shared = settings["ssl_context"] = _shared_context(bundle)
    setup = http._setup_ssl_cert

    def setup_ssl_cert(pool: Any, url: str, verify: Any) -> None:
        setup(pool, url, verify)
        if pool.ca_certs == bundle and getattr(pool, "conn_kw", {}).get("ssl_context") is shared and _holds(bundle):
            pool.ca_certs = None  # the shared context holds the bundle already

    http._setup_ssl_cert = setup_ssl_cert


class _Given(CredentialProvider):
    METHOD = "sagefence-assume-role"
    CANONICAL_NAME = "sagefence-assume-role"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


class CallCounter:
    """Counts API calls (one per client method call, retries apart) by operation and scope.

    ``provide-client-params`` fires once per call before anything can short-circuit it;
    ``request-created`` fires once per HTTP attempt, so attempts past the first are retries.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._retries: Counter[str] = Counter()
        self._scopes: Counter[str] = Counter()

    def watch(self, client: Any, owner: AccountClients, region: str) -> None:
        service = client.meta.service_model.service_name

        def on_call(model: Any, **_: Any) -> None:
            with self._lock:
                self._calls[f"{service}.{model.name}"] += 1
                self._scopes[f"{owner.account}/{region}"] += 1

        def on_attempt(request: Any, operation_name: str, **_: Any) -> None:
            context = request.context
            context[_ATTEMPT_KEY] = context.get(_ATTEMPT_KEY, 0) + 1
            if context[_ATTEMPT_KEY] > 1:
                with self._lock:
                    self._retries[f"{service}.{operation_name}"] += 1

        client.meta.events.register("provide-client-params", on_call)
        client.meta.events.register("request-created", on_attempt)

    def rename_account(self, old: str, new: str) -> None:
        """Credit calls made before the caller's account was known (GetCallerIdentity)."""
        with self._lock:
            for scope in [s for s in self._scopes if s.startswith(f"{old}/")]:
                self._scopes[f"{new}/{scope.split('/', 1)[1]}"] += self._scopes.pop(scope)

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._calls.values()),
                "retries": sum(self._retries.values()),
                "by_operation": dict(sorted(self._calls.items())),
                "retries_by_operation": dict(sorted(self._retries.items())),
                "by_account_region": dict(sorted(self._scopes.items())),
            }


class AccountClients:
    """One botocore session per account and one client per (service, region), shared by every
    worker thread: botocore clients are thread-safe, sessions are not, so clients are made
    under the account's lock, once. Each client's connection pool holds ``pool`` connections
    (the scan's worker count), so no thread waits for or discards a connection."""

    def __init__(
        self, account: str, session: botocore.session.Session, counter: CallCounter, home_region: str, pool: int = 10
    ) -> None:
        self.account = account
        self.session = session
        self.home_region = home_region
        self._counter = counter
        self._config = CLIENT_CONFIG.merge(Config(max_pool_connections=max(pool, 1)))
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str | None], Any] = {}

    def client(self, service: str, region: str | None = None) -> Any:
        """The account's client for ``service`` in ``region`` (the home region when None); making
        one costs 3-10 ms of CPU (a service's first, its model load: up to 100 ms)."""
        key = (service, region)
        made = self._clients.get(key)
        if made is None:
            with self._lock:
                made = self._clients.get(key)
                if made is None:
                    made = self.session.create_client(
                        service, region_name=region or self.home_region, config=self._config
                    )
                    trust_once(made)
                    self._counter.watch(made, self, region or "global")
                    self._clients[key] = made
        return made

    def release(self) -> None:
        """Close and forget every client: the account's work is done. (A later ``client`` call
        would make a new one.)"""
        with self._lock:
            made, self._clients = list(self._clients.values()), {}
        for client in made:
            client.close()


class TaskClients:
    """What a collector task sees: the account's clients in one region (or the global scope)."""

    def __init__(self, clients: AccountClients, region: str | None) -> None:
        self._clients = clients
        self._region = region

    @property
    def account(self) -> str:
        return self._clients.account

    def fresh(self) -> TaskClients:
        """The same account and region, for a follow-up task."""
        return TaskClients(self._clients, self._region)

    def __call__(self, service: str) -> Any:
        return self._clients.client(service, self._region)
