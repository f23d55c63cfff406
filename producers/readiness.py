"""``GET /readyz``: can this API accept work right now?

Ready means the API can publish: a broker answers and every declared topic
exists. The worker's health route is asked too, and reported (``checks.worker``,
``degraded``, the ``feynman_api_worker_ready`` gauge), but never decides
readiness: a worker that is behind or absent is what the queue is for, and
taking the API out of a load balancer for it would refuse turns Kafka could
hold. Each check says why it fails, but not where: the route needs no key, so
broker and worker addresses go to the log, never into the answer.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from foundation.settings import Settings
from kafka_io.connection import client_options
from producers.api_models import Readiness
from producers.metrics import ApiMetrics
from producers.status_client import StatusClient
from schemas.topics import Topics

log = logging.getLogger(__name__)


async def broker_and_topics(settings: Settings, timeout_s: float = 3.0) -> tuple[str, str]:
    """(broker check, topics check)."""
    admin = AIOKafkaAdminClient(**client_options(settings.kafka), request_timeout_ms=2000)
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            existing = set(await admin.list_topics())
    except (KafkaError, TimeoutError, OSError) as exc:
        log.warning("readiness: no broker answers at %s (%r)", settings.kafka_bootstrap, exc)
        return f"no broker answers ({type(exc).__name__})", "unknown"
    finally:
        await admin.close()
    missing = [t.name for t in Topics.from_settings(settings).all() if t.name not in existing]
    return "ok", ("ok" if not missing else f"missing: {', '.join(missing)} (run feynman topics create)")


async def check(settings: Settings, status: StatusClient, metrics: ApiMetrics | None = None) -> Readiness:
    """Broker and topics decide ``status``; the worker's answer is reported (and sets the gauge)."""
    (broker, topics), worker = await asyncio.gather(broker_and_topics(settings), status.worker_health())
    if metrics is not None:
        metrics.worker_ready.set(1 if worker.ok else 0)
    if not worker.ok:
        log.info("readiness: %s", worker.detail)
    ready = broker == "ok" and topics == "ok"
    return Readiness(
        status="ready" if ready else "not_ready",
        checks={"broker": broker, "topics": topics, "worker": worker.public},
        degraded=not worker.ok,
    )
