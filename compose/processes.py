"""Child processes of ``feynman dev``: worker and API, stopped as a group.

Each child runs in its own session (process group), so stopping it also stops
anything it spawned, and Ctrl-C reaches only the parent, which then stops the
children in order.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from foundation.settings import Settings


def worker_command(loglevel: str = "info", app: str = "streams.app") -> list[str]:
    return [sys.executable, "-m", "faust", "-A", app, "worker", "-l", loglevel]


def api_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "producers.app:create_app",
        "--host",
        host,
        "--port",
        str(port),
        "--no-access-log",
    ]


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def spawn(cls, name: str, argv: list[str], env: Mapping[str, str], log_dir: Path) -> Child:
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                argv,
                env=dict(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return cls(name, process, log_path)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the child's group, SIGKILL it if it does not exit in time."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        # Anything the child left in its group goes too.
        _signal_group(self.process.pid, signal.SIGKILL)

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def wait_http(url: str, child: Child, timeout: float) -> bool:
    """Poll ``url`` until it answers 200, the child dies, or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.alive():
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    return False


def free_ports(count: int) -> list[int]:
    """Ports nobody listens on, held open together so they are distinct."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def free_port() -> int:
    return free_ports(1)[0]


def child_env(settings: Settings) -> dict[str, str]:
    """This process's environment with ``settings`` instead of any inherited ``FEYNMAN_*``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEYNMAN_")}
    return {**env, **settings.as_env()}
