"""Worker subprocesses of the adapters: spawned in their own group, killed with SIGKILL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from compose.processes import Child


def spawn(name: str, argv: list[str], env: Mapping[str, str], log_dir: Path) -> Child:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FEYNMAN_")}
    return Child.spawn(name, argv, {**clean, **env}, log_dir)


def kill9(child: Child) -> None:
    """What a crash looks like: SIGKILL to the worker's whole process group, no cleanup."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.process.pid, signal.SIGKILL)
    child.process.wait(10)


async def wait_http_ok(url: str, child: Child, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if not child.alive():
                raise RuntimeError(f"{child.name} exited early:\n{child.tail(30)}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{child.name} not ready after {timeout}s:\n{child.tail(30)}")
