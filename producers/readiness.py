"""``GET /readyz``: can this API do its job right now?

Ready means: a broker answers, every declared topic exists, and a worker
answers its health route (so accepted events will be processed and status
lookups answered). Each check says why it fails.
"""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from feynman.settings import Settings
from producers.models import Readiness
from producers.status_client import StatusClient
from schemas.topics import Topics


async def broker_and_topics(settings: Settings, timeout_s: float = 3.0) -> tuple[str, str]:
    """(broker check, topics check)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=2000)
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            existing = set(await admin.list_topics())
    except (KafkaError, TimeoutError, OSError) as exc:
        return f"no broker answers at {settings.kafka_bootstrap} ({type(exc).__name__})", "unknown"
    finally:
        await admin.close()
    missing = [t.name for t in Topics.from_settings(settings).all() if t.name not in existing]
    return "ok", ("ok" if not missing else f"missing: {', '.join(missing)} (run feynman topics create)")


async def check(settings: Settings, status: StatusClient) -> Readiness:
    (broker, topics), worker = await asyncio.gather(broker_and_topics(settings), status.worker_health())
    checks = {"broker": broker, "topics": topics, "worker": worker}
    ready = all(v == "ok" for v in checks.values())
    return Readiness(status="ready" if ready else "not_ready", checks=checks)
