"""Record the Azure commands' HTTP traffic with vcrpy and play it back offline.

A recording is a vcrpy cassette (JSON) whose metadata carries what replaying it needs: the
command line, the stack file, the subscription, the clock, the exit code and the output.
`Sanitizer` rewrites every request and answer as vcrpy hands it over, before vcrpy keeps
it, so nothing identifying reaches memory that is later written: ids, tenants, emails,
account and group names, the endpoint's host become stable placeholders (one real value,
one placeholder); tokens, request ids, quota headers and SAS signatures go.

`replay` plays a cassette with every socket refused, so a request the recording lacks fails
the test instead of reaching a network."""

import contextlib
import copy
import ipaddress
import json
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests.adapters
import vcr
import yaml
from vcr.cassette import Cassette
from vcr.request import Request

# What replay goes to in place of the recorded endpoint: a name no resolver answers.
ENDPOINT_HOST = "arm.recorded.example"
ENDPOINT = f"https://{ENDPOINT_HOST}"
# A local blob endpoint (a storage emulator's host:port), when a recording names it as such.
BLOB_HOST = "blob.recorded.example"
# Where a recorded command's local files (publish's --from) go on replay: the command line
# names them under this word, and the recording's metadata carries them (`files`).
FILES = "{files}"
# Placeholder GUIDs: version-4 shaped, so config and the commands accept them as ids.
GUID_PREFIX = "00000000-0000-4000-8000-"
EMAIL_DOMAIN = "recorded.example"
# vcrpy's own matching, body aside: polls of one URL are told apart by their order.
MATCH_ON = ("method", "scheme", "host", "port", "path", "query")

# Public IPv4 addresses (a runner's, let through a storage firewall): placeholders from one
# public block, since config takes only public addresses there.
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IP_BLOCK = "81.2.69."
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
URL_HOST = re.compile(r"(https?://)([^/\s\"'?#]+)")
SAS_SIGNATURE = re.compile(r"(?i)([?&]sig=)[^&\s\"']+")
# Names that sit in Resource Manager ids, and what each is.
ARM_NAMES = (
    (re.compile(r"(?i)/resourceGroups/([^/?#\s\"']+)"), "group"),
    (re.compile(r"(?i)/providers/Microsoft\.DataShare/accounts/([^/?#\s\"']+)"), "account"),
    (re.compile(r"(?i)/storageAccounts/([^/?#\s\"']+)"), "storage"),
)
# A storage account's own host names (blob, dfs, ...) carry its name.
STORAGE_HOST = re.compile(r"(?i)^([a-z0-9]{3,24})\.(?:blob|dfs|file|queue|table|web)\.")
# JSON keys whose values name a person, an organization or a storage account.
DISPLAY_KEYS = frozenset(
    {
        "consumerName",
        "consumerTenantName",
        "providerName",
        "providerTenantName",
        "senderName",
        "senderTenantName",
        "userName",
        "displayName",
        "createdBy",
    }
)
STORAGE_KEYS = frozenset({"storageAccountName"})
GROUP_KEYS = frozenset({"resourceGroup", "resourceGroupName"})
# Headers that identify a caller, a request or a subscription, whatever their value: tokens,
# cookies, request and correlation ids, and quota headers (a public Data Share recording
# left a subscription id in x-ms-quota).
DROPPED_HEADERS = re.compile(
    r"(?i)^(authorization|cookie|set-cookie|x-ms-(?:.*request-id|correlation.*|routing.*|quota.*|ratelimit.*"
    r"|operation-identifier|client-.*|arm-service-request-id|failure-cause|providerhub.*)"
    r"|request-id|client-request-id|traceparent|x-ms-authorization-auxiliary|ocp-.*)$"
)
PLACEHOLDER = re.compile(
    rf"(?i)^(?:{re.escape(GUID_PREFIX)}\d{{12}}|(?:user)\d+@{re.escape(EMAIL_DOMAIN)}|(?:group|account|storage|name)\d+"
    rf"|(?:arm|blob|host\d+)\.recorded\.example|{re.escape(IP_BLOCK)}\d+)$"
)
LOOPBACK = re.compile(r"^(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])(?::\d+)?$")


@dataclass
class Sanitizer:
    """Placeholders for what identifies the recording's Azure: each real value always gets
    the same one, so what matches in the recording (an id in a URL and in a body) still
    matches. `endpoint` is the Resource Manager URL the commands were sent to."""

    endpoint: str
    values: dict[str, str] = field(default_factory=dict)  # real (lowercase) -> placeholder, case aside
    exact: dict[str, str] = field(default_factory=dict)  # display names: real -> placeholder, case kept
    hosts: dict[str, str] = field(default_factory=dict)  # host[:port] (lowercase) -> placeholder host
    counts: dict[str, int] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = None
    _exact_pattern: re.Pattern[str] | None = None
    # Threads whose requests are not the command's (a fake's own, as a snapshot's copying):
    # sent, never recorded.
    unrecorded_threads: frozenset[str] = frozenset()
    # The commands send requests from several threads at once; vcrpy calls the hooks on each.
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.hosts[urlsplit(self.endpoint).netloc.lower()] = ENDPOINT_HOST

    # What is learned.

    def _next(self, kind: str) -> str:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        n = self.counts[kind]
        if kind == "guid":
            return f"{GUID_PREFIX}{n:012d}"
        if kind == "email":
            return f"user{n}@{EMAIL_DOMAIN}"
        if kind == "ip":
            return f"{IP_BLOCK}{n}"
        return f"{kind}{n}"

    def learn(self, kind: str, value: str) -> str:
        """The placeholder of `value`, made on first sight."""
        if not value or PLACEHOLDER.match(value):
            return value
        if kind == "name":
            if value not in self.exact:
                self.exact[value] = self._next("name")
                self._exact_pattern = None
            return self.exact[value]
        key = value.lower()
        if key not in self.values:
            self.values[key] = self._next(kind)
            self._pattern = None
        return self.values[key]

    def seed(self, config: Any) -> None:
        """What a stack config already says identifies the recording: its group, account,
        storage accounts and emails (ids are found by their shape)."""
        self.learn("group", config.resource_group)
        self.learn("account", config.account_name)
        for entry in config.storage.values():
            self.learn("storage", entry.account_name)
        for participant in config.participants.values():
            if participant.email:
                self.learn("email", participant.email)
        for email in config.monitoring.emails if config.monitoring else ():
            self.learn("email", email)

    def _learn_text(self, text: str) -> None:
        for found in GUID.findall(text):
            self.learn("guid", found)
        for found in EMAIL.findall(text):
            if not found.lower().endswith("@" + EMAIL_DOMAIN):
                self.learn("email", found)
        for pattern, kind in ARM_NAMES:
            for found in pattern.findall(text):
                self.learn(kind, found)
        for found in IPV4.findall(text):
            with contextlib.suppress(ValueError):
                if ipaddress.ip_address(found).is_global:
                    self.learn("ip", found)
        for _, host in URL_HOST.findall(text):
            self._learn_host(host)

    def name_host(self, host: str, placeholder: str) -> None:
        """`host` (host:port, as in a URL) to be written as `placeholder`: a local server
        whose role is known, as a storage emulator's blob endpoint (BLOB_HOST)."""
        with self._lock:
            self.hosts[host.lower()] = placeholder

    def _learn_host(self, host: str) -> None:
        key = host.lower()
        storage = STORAGE_HOST.match(key)
        if storage:
            self.learn("storage", storage[1])
        elif LOOPBACK.match(key) and key not in self.hosts:
            # Another local server (a storage emulator): a placeholder host of its own.
            self.hosts[key] = f"host{len(self.hosts) + 1}.recorded.example"

    # What is written.

    def text(self, text: str, names: bool = True) -> str:
        """`text` with everything identifying in it replaced; with `names`, display names
        too (not in JSON keys, where one could be a word the schema uses)."""
        with self._lock:
            return self._text(text, names)

    def _text(self, text: str, names: bool) -> str:
        self._learn_text(text)
        text = SAS_SIGNATURE.sub(r"\1REDACTED", text)
        text = URL_HOST.sub(lambda m: m[1] + self.hosts.get(m[2].lower(), m[2]), text)
        for host, placeholder in self.hosts.items():
            text = re.sub(rf"(?i)(?<![\w.-]){re.escape(host)}(?![\w-])", placeholder, text)
        if self.values:
            if self._pattern is None:
                alternatives = "|".join(re.escape(v) for v in sorted(self.values, key=len, reverse=True))
                self._pattern = re.compile(rf"(?i)(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")
            text = self._pattern.sub(lambda m: self.values[m[0].lower()], text)
        if names and self.exact:
            if self._exact_pattern is None:
                alternatives = "|".join(re.escape(v) for v in sorted(self.exact, key=len, reverse=True))
                self._exact_pattern = re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")
            text = self._exact_pattern.sub(lambda m: self.exact[m[0]], text)
        return text

    def data(self, value: Any, key: str | None = None) -> Any:
        """A JSON or YAML value with every string in it sanitized; values under the keys
        that hold names are learned as names first."""
        if isinstance(value, dict):
            return {
                self.text(str(k), names=False) if isinstance(k, str) else k: self.data(v, k) for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            if key in DISPLAY_KEYS and not EMAIL.fullmatch(value) and not GUID.fullmatch(value):
                self.learn("name", value)
            elif key in STORAGE_KEYS:
                self.learn("storage", value)
            elif key in GROUP_KEYS:
                self.learn("group", value)
            return self.text(value)
        return value

    def body(self, raw: Any) -> Any:
        """A request's or answer's body: JSON sanitized as data, other text as text, and
        bytes that are not text replaced by their size (nothing replays them: uploads). A
        body with nothing to replace is kept byte for byte: a blob's bytes are hashed on
        replay, and JSON written again would hash otherwise."""
        if raw is None or raw == b"" or raw == "":
            return raw
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return f"[{len(data)} bytes of binary data, not recorded]".encode()
        try:
            parsed = json.loads(text)
        except ValueError:
            return self.text(text).encode()
        sanitized = self.data(parsed)
        return data if sanitized == parsed else json.dumps(sanitized).encode()

    def headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        kept: dict[str, Any] = {}
        for name, value in headers.items():
            if DROPPED_HEADERS.match(name):
                continue
            if isinstance(value, list | tuple):
                kept[name] = [self.text(str(v)) for v in value]
            else:
                kept[name] = self.text(str(value))
        return kept

    # vcrpy's hooks: each gets a copy, changed here, before vcrpy keeps it.

    def request(self, request: Request) -> Request | None:
        with self._lock:
            return self._request(request)

    def _request(self, request: Request) -> Request | None:
        if threading.current_thread().name in self.unrecorded_threads:
            return None
        host = urlsplit(request.uri).netloc.lower()
        # vcrpy runs this hook again on what it returned: a placeholder host is one of ours.
        ours = host in self.hosts or host in self.hosts.values()
        if not ours and not STORAGE_HOST.match(host) and not LOOPBACK.match(host):
            return None  # the sign-in service, a metadata endpoint: not Resource Manager's or storage's
        self._learn_host(host)
        body = self.body(request.body_bytes)
        return Request(request.method, self.text(request.uri), body, self.headers(dict(request.headers)))

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._response(copy.deepcopy(response))

    def _response(self, response: dict[str, Any]) -> dict[str, Any]:
        response["headers"] = self.headers(response.get("headers") or {})
        body = response.get("body") or {}
        body["string"] = self.body(body.get("string"))
        response["body"] = body
        # Placeholders seldom have the length of what they replace: the length must be the body's.
        for name in response["headers"]:
            if name.lower() == "content-length":
                response["headers"][name] = [str(len(body["string"] or b""))]
        return response

    def stack(self, stack: Mapping[str, Any]) -> str:
        """A stack file's content as YAML, sanitized."""
        return yaml.safe_dump(self.data(dict(stack)), sort_keys=False)


def stack_config(path: Path, text: str | None = None) -> Any:
    """A stack file's validated config, as the Azure commands read it (`text`: its content)."""
    from federation.config import model, stackfile

    read = stackfile.read_stack_file(path, text)
    return model.parse(read.config, read.stack, read.secret_keys)


def stack_config_text(text: str) -> Any:
    """The validated config of a recording's stack file."""
    return stack_config(Path("Pulumi.recorded.yaml"), text)


def replayable_stack(config: Mapping[str, Any], parsed: Any) -> dict[str, Any]:
    """The stack file a replay reads: it names the environment, account and group
    explicitly, so their placeholders stand in for them (a default name built from the
    environment would not be sanitized)."""
    values = dict(config)
    values.setdefault("federation:environment", parsed.environment)
    values.setdefault("federation:resourceGroup", parsed.resource_group)
    values.setdefault("federation:accountName", parsed.account_name)
    return {"config": values}


@dataclass
class Outcome:
    """What a command did: its exit code and output, as recorded."""

    code: int
    stdout: str
    stderr: str


def run_cli(main: Callable[[], int]) -> Outcome:
    """A command run in this process, its output captured."""
    out, err = StringIO(), StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main()
    return Outcome(code, out.getvalue(), err.getvalue())


@contextmanager
def one_at_a_time() -> Iterator[None]:
    """HTTP exchanges one after another. The commands send from several threads, and vcrpy
    is not safe for that: while one request goes out for real it takes its patches off for
    every thread, and a request another thread starts then is neither recorded nor refused."""
    lock = threading.RLock()
    send = requests.adapters.HTTPAdapter.send

    def serialized(self: requests.adapters.HTTPAdapter, *args: Any, **kwargs: Any) -> requests.Response:
        with lock:
            return send(self, *args, **kwargs)

    requests.adapters.HTTPAdapter.send = serialized  # type: ignore[method-assign]
    try:
        yield
    finally:
        requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]


@contextmanager
def record(path: Path, sanitizer: Sanitizer) -> Iterator[Cassette]:
    """Every request to the endpoint (or to storage) inside, kept sanitized in `path`. A
    recording is made anew: one already at `path` (an earlier attempt's) is replaced, not
    added to (vcrpy would keep its answers and its metadata)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    recorder = vcr.VCR(
        serializer="json",
        record_mode="all",
        match_on=MATCH_ON,
        decode_compressed_response=True,
        before_record_request=sanitizer.request,
        before_record_response=sanitizer.response,
    )
    with one_at_a_time(), recorder.use_cassette(str(path)) as cassette:
        yield cassette


def describe(
    cassette: Cassette,
    sanitizer: Sanitizer,
    *,
    source: str,
    command: list[str],
    stack: Mapping[str, Any],
    subscription: str,
    clock: datetime,
    outcome: Outcome,
    files: Mapping[str, str] | None = None,
) -> None:
    """Put what replaying needs into the cassette's metadata, sanitized: written with it.
    `files`: the local files the command reads (publish's round, by path under FILES, as
    text), which a replay writes again; kept as they are, since their digests are checked."""
    extra = {"files": dict(files)} if files else {}
    for key, value in {
        "source": source,
        "command": [sanitizer.text(word) for word in command],
        "stack": sanitizer.stack(stack),
        "subscription": sanitizer.text(subscription),
        "endpoint": ENDPOINT,
        "clock": clock.isoformat(),
        "exit": outcome.code,
        "stdout": sanitizer.text(outcome.stdout),
        "stderr": sanitizer.text(outcome.stderr),
        **extra,
    }.items():
        cassette.get_metadata(key, value)


def metadata(path: Path) -> dict[str, Any]:
    """A cassette's metadata, read as a file: no cassette is opened for it."""
    found = json.loads(path.read_text(encoding="utf-8")).get("metadata")
    if not isinstance(found, dict):
        raise ValueError(f"{path}: a recording without metadata (command, stack, output) cannot be replayed")
    return found


def interactions(path: Path) -> list[dict[str, Any]]:
    """A cassette's requests and answers, in the order they were made."""
    return list(json.loads(path.read_text(encoding="utf-8"))["interactions"])


@dataclass
class Refused:
    """Every connection and name lookup tried while the network is blocked."""

    attempts: list[Any] = field(default_factory=list)


@contextmanager
def no_network() -> Iterator[Refused]:
    """Every socket connect and name lookup refused, even to 127.0.0.1: a replay needs none."""
    refused = Refused()

    def connect(self: socket.socket, address: Any) -> Any:
        refused.attempts.append(address)
        raise ConnectionRefusedError(f"a replay may not connect anywhere: {address}")

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        refused.attempts.append(host)
        raise socket.gaierror(f"a replay may not look up a name: {host}")

    saved = [
        (socket.socket, "connect", socket.socket.connect),
        (socket.socket, "connect_ex", socket.socket.connect_ex),
        (socket, "getaddrinfo", socket.getaddrinfo),
    ]
    socket.socket.connect = connect  # type: ignore[method-assign, assignment]
    socket.socket.connect_ex = connect  # type: ignore[method-assign, assignment]
    socket.getaddrinfo = lookup
    try:
        yield refused
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


@contextmanager
def replay(path: Path) -> Iterator[tuple[Cassette, Refused]]:
    """Answers from `path` only, each recorded answer played once and in order, the network
    refused. The cassette is never written to."""
    player = vcr.VCR(serializer="json", record_mode="none", match_on=MATCH_ON)
    with ExitStack() as stack:
        refused = stack.enter_context(no_network())
        stack.enter_context(one_at_a_time())
        cassette = stack.enter_context(player.use_cassette(str(path)))
        yield cassette, refused


def write_files(files: Mapping[str, str], root: Path) -> Path:
    """A recording's local files under `root`, which stands for FILES in its command line."""
    for name, text in files.items():
        where = root / name
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_bytes(text.encode("utf-8"))
    return root


@contextmanager
def clock_at(at: datetime) -> Iterator[None]:
    """The commands' clocks (expiry warnings, a round's publishedAt) at `at`."""
    from federation.config import expiry
    from federation.operate import rounds

    saved = expiry.now, rounds.now
    expiry.now = rounds.now = lambda: at
    try:
        yield
    finally:
        expiry.now, rounds.now = saved


def replay_command(path: Path, work: Path, credential: Any, limits: Any = None) -> tuple[Outcome, Cassette, Refused]:
    """A recording's command run again through `federation.cli.main`, answered from the
    recording alone, at the recorded clock, its local files written again: its outcome, the
    cassette (to ask whether every answer was played) and the connections it tried."""
    from federation import cli

    meta = metadata(path)
    stack = work / "Pulumi.recorded.yaml"
    stack.write_text(meta["stack"], encoding="utf-8")
    files = write_files(meta.get("files") or {}, work / "files")
    command = [word.replace(FILES, str(files)) for word in meta["command"]]
    argv = [*command, "--config", str(stack), "--subscription", meta["subscription"]]
    argv += ["--endpoint", meta["endpoint"]]
    with clock_at(datetime.fromisoformat(meta["clock"])), replay(path) as (cassette, refused):
        # No wait between looks: the recorded answers come at once.
        outcome = run_cli(lambda: cli.main(argv, credential, {"polling_interval": 0, "retry_total": 0}, limits))
    return outcome, cassette, refused


def comparable(stderr: str) -> str:
    """Standard error without sync's progress lines (`12s: InProgress`), which follow the
    wall clock: a replay polls as fast as the answers come."""
    return "".join(line for line in stderr.splitlines(keepends=True) if not re.match(r"\d+s: ", line))


# reconcile's and revoke's lines for changes made side by side: they come in any order.
CONCURRENT = re.compile(r"^ *(?:started|done|done, not confirmed|FAILED): ")


def _lines(text: str) -> tuple[list[str], list[str]]:
    lines = [re.sub(r" +", " ", line) for line in text.splitlines()]
    return [line for line in lines if not CONCURRENT.match(line)], sorted(
        line for line in lines if CONCURRENT.match(line)
    )


def same_text(a: str, b: str) -> bool:
    """Equal but for runs of spaces (a placeholder is seldom as long as the name it stands
    for, so a table's columns are padded otherwise on replay) and for the order of the lines
    of changes made side by side."""
    return _lines(a) == _lines(b)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("tests/recording.py is a library; tests/recordings/record_fake.py records")
