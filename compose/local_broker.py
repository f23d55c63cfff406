"""A real single-node Kafka KRaft broker on 127.0.0.1, without Docker.

Development and the integration tests need a real broker, and Docker is not
always there. The jars come from Maven Central once per Kafka version (cached
under ``cache_dir``), the data lives in ``data_dir`` so a restart keeps the
topics, and the JVM runs in its own session so it outlives the command that
started it; a pid file in ``data_dir`` lets a later command find and stop it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from compose.broker_security import BrokerSecrets
from foundation.errors import BrokerError
from foundation.settings import KafkaConnection, Settings
from kafka_io.connection import client_options

KAFKA_DIR = Path(__file__).resolve().parent / "kafka"
POM, LOG4J = KAFKA_DIR / "pom.xml", KAFKA_DIR / "log4j2.properties"
DEFAULT_CACHE = Path.home() / ".cache" / "feynman"
MARKER = ".complete"  # written into the jar cache last: no marker, no complete cache
MAVEN_ARGS = ("-q", "-B", "-f", str(POM), "dependency:copy-dependencies", "-DincludeScope=runtime")
NO_JAVA = "Java not found: install a JDK 17+ (apt-get install openjdk-17-jre-headless)"
NO_MAVEN = "Maven not found: install it (apt-get install maven) to download the Kafka jars"
# A combined broker+controller with a static quorum of one; topics are only
# ever created explicitly (schemas.topics), never by a typo in a producer.
SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{cport}
controller.listener.names=CONTROLLER
log.dirs={log_dir}
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.partitions=1
"""
PLAINTEXT_LISTENERS = """\
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
"""
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ERROR_LINE = re.compile(r"^(ERROR|FATAL|Error|Exception|Caused by)\b|^[\w.$]+(Exception|Error)\b")
_NOISE = (
    "to see the full stack trace",
    "re-run maven",
    "for more information",
    "[help ",
    "error: a fatal exception",
    "error: could not create the java virtual machine",
)


@dataclass(frozen=True)
class BrokerStatus:
    """What ``feynman broker status`` shows: is our JVM up, and does Kafka answer there."""

    running: bool
    pid: int | None
    bootstrap: str
    data_dir: Path
    answering: bool


def broker_answers(target: str | KafkaConnection, timeout: float = 3.0) -> bool:
    """True when a Kafka broker at ``target`` (a plaintext bootstrap, or a connection) answers.

    A plain TCP connect comes first: it fails fast and quietly when nothing
    listens, where a Kafka client would log connection errors and retry.
    """
    kafka = target if isinstance(target, KafkaConnection) else plaintext(target)
    if not any(_port_open(server, timeout) for server in kafka.bootstrap):
        return False
    try:
        _run(_list_topics(kafka, timeout))
    except Exception:  # noqa: BLE001 - whatever went wrong, it does not answer
        return False
    return True


class LocalBroker:
    """One combined broker+controller JVM whose files all live in ``data_dir``."""

    def __init__(
        self,
        port: int = 9092,
        controller_port: int = 9093,
        data_dir: Path = Path(".feynman"),
        cache_dir: Path = DEFAULT_CACHE,
        version: str = "4.1.1",
        heap: str = "512m",
        *,
        secure: bool = False,
    ) -> None:
        self.port, self.controller_port = port, controller_port
        self.version, self.heap = version, heap
        self.data_dir = Path(data_dir).resolve()  # absolute: the JVM runs with cwd=data_dir
        self.cache_dir = Path(cache_dir).expanduser()
        self.bootstrap = f"127.0.0.1:{port}"
        self.libs = self.cache_dir / f"kafka-{version}" / "libs"
        self.properties = self.data_dir / "server.properties"
        self.log_dir = self.data_dir / "kraft-logs"
        self.log_file = self.data_dir / "broker.log"
        self.pid_file = self.data_dir / "broker.pid"
        self.secrets = BrokerSecrets(self.data_dir / "secure")
        # A data directory made secure stays secure, asked or not.
        self.secure = secure or self.secrets.exists()
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalBroker:
        """The broker that the ``FEYNMAN_*`` settings describe."""
        return cls(
            port=settings.broker_port,
            controller_port=settings.broker_controller_port,
            data_dir=settings.data_dir,
            cache_dir=settings.cache_dir,
            version=settings.kafka_version,
            heap=settings.broker_heap,
            secure=settings.broker_secure,
        )

    @property
    def connection(self) -> KafkaConnection:
        """How a client connects: plaintext, or SASL_SSL with this broker's user and CA."""
        return self.secrets.connection(self.bootstrap) if self.secure else plaintext(self.bootstrap)

    def ensure_jars(self) -> Path:
        """The Kafka jars for ``version``, fetched with Maven only the first time.

        Maven copies into a temp dir that is renamed into place with its marker,
        so an interrupted download never looks like a complete cache.
        """
        home = self.libs.parent
        if (home / MARKER).exists():
            return self.libs
        _java()
        if (mvn := shutil.which("mvn")) is None:
            raise BrokerError(NO_MAVEN)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".kafka-{self.version}-", dir=self.cache_dir))
        try:
            cmd = [mvn, *MAVEN_ARGS, f"-DoutputDirectory={tmp / 'libs'}", f"-Dkafka.version={self.version}"]
            out = subprocess.run(cmd, check=False, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if out.returncode != 0 or not any((tmp / "libs").glob("kafka_*.jar")):
                reason = _last_meaningful(out.stdout + out.stderr)
                raise BrokerError(f"Maven could not fetch the Kafka {self.version} jars: {reason}")
            (tmp / MARKER).touch()
            if not (home / MARKER).exists():  # a cache left without its marker is junk
                shutil.rmtree(home, ignore_errors=True)
            try:
                tmp.rename(home)
            except OSError:  # another process got there first; its copy is as good
                if not (home / MARKER).exists():
                    msg = f"cannot write the jar cache {home}; check its permissions"
                    raise BrokerError(msg) from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return self.libs

    def start(self, timeout: float = 60) -> None:
        """Start the broker unless ours already runs, and return once it answers.

        ``timeout`` bounds the wait for an answer after the JVM is spawned (not the
        first jar download); a broker this call spawned is stopped if it runs out.
        """
        pid = self._pid()
        if pid is not None and broker_answers(self.connection):
            return
        launched = pid is None
        if pid is None:
            for port, var in (
                (self.port, "FEYNMAN_BROKER_PORT"),
                (self.controller_port, "FEYNMAN_BROKER_CONTROLLER_PORT"),
            ):
                if not _port_free(port):
                    raise BrokerError(f"port {port} is taken by another process; set {var}")
            pid = self._launch()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._alive(pid):
                self.pid_file.unlink(missing_ok=True)
                raise BrokerError(f"broker exited while starting: {self._last_error()} (see {self.log_file})")
            if broker_answers(self.connection, max(0.5, min(3.0, deadline - time.monotonic()))):
                return
            time.sleep(0.25)
        if launched:  # a JVM that never answered would only hold the ports
            self.stop()
        raise BrokerError(
            f"broker did not answer on {self.bootstrap} within {timeout:g}s: "
            f"{self._last_error()} (see {self.log_file})"
        )

    def stop(self, timeout: float = 30) -> bool:
        """SIGTERM the broker's process group, SIGKILL after ``timeout``; True if it ran."""
        pid = self._pid()
        if pid is None:
            return False
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(pid, sig)  # start_new_session made the JVM its group's leader
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while self._alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if not self._alive(pid):
                break
        self.pid_file.unlink(missing_ok=True)
        self._proc = None
        return True

    def status(self) -> BrokerStatus:
        """Our JVM's pid if it runs, and whether anything answers Kafka at our bootstrap."""
        pid = self._pid()
        answering = broker_answers(self.connection)
        return BrokerStatus(pid is not None, pid, self.bootstrap, self.data_dir, answering)

    def _launch(self) -> int:
        """Write the config, format storage on first use only (so data survives), spawn."""
        java, libs = _java(), self.ensure_jars()
        jvm = [java, f"-Xmx{self.heap}", "-cp", f"{libs}/*", f"-Dlog4j2.configurationFile={LOG4J}"]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        formatted = (self.log_dir / "meta.properties").exists()
        if formatted and self.secure and not self.secrets.exists():
            raise BrokerError(
                f"{self.data_dir} holds a broker made without --secure; "
                "use another data directory (FEYNMAN_DATA_DIR) for a secure one"
            )
        if self.secure:
            self.secrets.ensure()
        self.properties.write_text(self._server_properties())
        if not formatted:
            cmd = [*jvm, "kafka.tools.StorageTool", "format", "-t", _cluster_id(), "-c", str(self.properties)]
            if self.secure:
                cmd += self.secrets.format_arguments()
            out = subprocess.run(cmd, check=False, capture_output=True, text=True)
            if out.returncode != 0:
                reason = _last_meaningful(out.stdout + out.stderr)
                raise BrokerError(f"formatting {self.log_dir} failed: {reason}")
        self._log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        with self.log_file.open("ab") as log:
            cmd = [*jvm, "kafka.Kafka", str(self.properties)]
            self._proc = subprocess.Popen(
                cmd,
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_raise_open_files_limit,
            )
        self.pid_file.write_text(f"{self._proc.pid}\n")
        return self._proc.pid

    def _server_properties(self) -> str:
        listeners = (
            self.secrets.listeners(self.port, self.controller_port)
            if self.secure
            else PLAINTEXT_LISTENERS.format(port=self.port, cport=self.controller_port)
        )
        return SERVER_PROPERTIES.format(cport=self.controller_port, log_dir=self.log_dir) + listeners

    def _pid(self) -> int | None:
        """The pid file's pid if that process is alive and is our broker; else drop the file."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        ours = self._alive(pid)
        with contextlib.suppress(OSError):  # a reused pid: on Linux, check it runs our config
            ours = ours and bytes(self.properties) in Path(f"/proc/{pid}/cmdline").read_bytes()
        if not ours:
            self.pid_file.unlink(missing_ok=True)
            return None
        return pid

    def _alive(self, pid: int) -> bool:
        """Whether ``pid`` runs; reaps it if it is our exited child, so no zombie looks alive."""
        if self._proc is not None and self._proc.pid == pid:
            return self._proc.poll() is None
        with contextlib.suppress(ChildProcessError):  # not our child: os.kill below decides
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def _last_error(self) -> str:
        """The last ERROR (or exception) line this start wrote to broker.log."""
        try:
            with self.log_file.open("rb") as log:
                log.seek(self._log_offset)
                return _last_meaningful(log.read()[-65536:].decode(errors="replace"))
        except OSError:
            return "no broker.log"


def _last_meaningful(output: str) -> str:
    """The line of a tool's output worth showing: the last error, else the last line."""
    lines = []
    for raw in output.splitlines():
        line = _ANSI.sub("", raw).strip().removeprefix("[ERROR]").strip()
        if line and not line.startswith("at ") and not line.lower().startswith(_NOISE):
            lines.append(re.sub(r"^\[[^\]]*\]\s*|\s*-> \[Help \d+\]$", "", line))
    errors = [line for line in lines if _ERROR_LINE.search(line)]
    return (errors or lines or ["nothing logged"])[-1]


def _java() -> str:
    if (java := shutil.which("java")) is None:
        raise BrokerError(NO_JAVA)
    return java


def _cluster_id() -> str:
    """Kafka's text Uuid (22 chars of base64url), made here to spare a JVM start."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):  # Kafka refuses ids that would read as a flag
            return cid


def _port_open(server: str, timeout: float) -> bool:
    host, _, port = server.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]") or "localhost", int(port)), timeout):
            return True
    except (OSError, ValueError):
        return False


def _port_free(port: int) -> bool:
    if _port_open(f"127.0.0.1:{port}", 0.5):
        return False
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "taken"
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def plaintext(bootstrap: str) -> KafkaConnection:
    return KafkaConnection(bootstrap=tuple(s.strip() for s in bootstrap.split(",") if s.strip()))


async def _list_topics(kafka: KafkaConnection, timeout: float) -> None:
    admin = AIOKafkaAdminClient(**client_options(kafka), request_timeout_ms=int(timeout * 1000))
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            await admin.list_topics()
    finally:
        await admin.close()


def _run(coro: Coroutine[Any, Any, None]) -> None:
    """asyncio.run, also from code already inside an event loop (then in a worker thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _raise_open_files_limit() -> None:
    """Let the broker open as many files as the machine allows.

    Each partition keeps several files open; a default soft limit of 1,024
    stops a broker ("Too many open files", then every log dir fails) once a
    few hundred topics exist, as a test run creates.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
