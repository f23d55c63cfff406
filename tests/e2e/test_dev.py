"""`feynman dev`: brings the whole pipeline up, serves a task, and Ctrl-C leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from compose.processes import free_ports
from foundation.settings import Settings
from tests.support import child_env

TURN = {"type": "chat.turn", "v": 1, "data": {"session_id": "s-dev", "topic": "t", "user_input": "because"}}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def _descendants(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,sid="], capture_output=True, text=True).stdout
    rows = [tuple(int(x) for x in line.split()) for line in out.splitlines() if line.strip()]
    found, frontier = set(), {pid}
    while frontier:
        children = {p for p, pp, _ in rows if pp in frontier} - found
        found |= children
        frontier = children
    return found


def test_dev_starts_broker_worker_and_api_and_ctrl_c_stops_them_all(
    settings_factory: Callable[..., Settings],
) -> None:
    broker_port, controller_port = free_ports(2)
    s = settings_factory(
        kafka_bootstrap=f"127.0.0.1:{broker_port}",
        broker_port=broker_port,
        broker_controller_port=controller_port,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "feynman.cli", "dev"],
        env=child_env(s),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 150
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith("Ctrl-C stops everything"):
                break
        text = "".join(output)
        assert "starting the local KRaft broker" in text, text
        assert f"http://127.0.0.1:{s.api_port}" in text and s.worker_base_url in text, text
        spawned = _descendants(proc.pid)
        broker_pid = int((s.data_dir / "broker.pid").read_text())

        api = f"http://127.0.0.1:{s.api_port}"
        accepted = httpx.post(f"{api}/events", json=TURN, timeout=10)
        assert accepted.status_code == 202, accepted.text
        tid = accepted.json()["task_ids"][0]
        status = None
        while time.monotonic() < deadline and status != "completed":
            status = httpx.get(f"{api}/task/{tid}", timeout=10).json()["status"]
            time.sleep(0.2)
        assert status == "completed"

        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, text + rest
        assert "stopped." in rest
    finally:
        if proc.poll() is None:
            proc.kill()
    leftovers = {pid for pid in spawned | {broker_pid} if _pid_alive(pid)}
    assert not leftovers, f"processes left behind: {leftovers}"
    for port in (s.api_port, s.worker_web_port, broker_port):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            raise AssertionError(f"something still listens on {port}")
        except httpx.ConnectError:
            pass
