"""The Faust app: ``faust -A streams.app worker -l info`` (or ``feynman worker``).

Built by :func:`create_app` from the environment's settings, so tests and
several workers on one machine can each get their own ids, ports and topics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import faust
from faust.types.auth import CredentialsT

from foundation.errors import ConfigError
from foundation.settings import KafkaConnection, Settings, get_settings
from kafka_io.connection import ssl_context
from schemas.tasks import TASK_ROUTES
from schemas.topics import Topics
from streams import (
    analysis_tasks,
    consolidation_tasks,
    costs,
    health,
    monitoring,
    status_table,
    transcripts,
    vectors,
    worker_llm,
)
from streams.consumer import PipelineApp
from streams.runtime import Runtime
from streams.tasks import TaskType
from streams.worker import PipelineWorker


def pipeline_app(settings: Settings) -> PipelineApp:
    """A Faust app configured as the worker's, with no agents or tables yet."""
    # Faust creates only the last level of its datadir.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return PipelineApp(
        settings.app_id,
        broker=[f"kafka://{server}" for server in settings.bootstrap_servers],
        store=settings.store,
        datadir=str(settings.data_dir / f"worker-{settings.app_id}-{settings.worker_web_port}"),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.worker_session_timeout_s,
        producer_acks=-1,
        producer_compression_type="lz4",
        # Status rows of many tasks share a produce request: fewer, larger requests
        # cost the worker's one event loop far less than one request per row.
        producer_linger=settings.worker_linger_ms / 1000,
        producer_max_batch_size=256 * 1024,
        web_host=settings.worker_host,
        web_bind=settings.worker_bind or settings.worker_host,
        web_port=settings.worker_web_port,
        canonical_url=f"http://{settings.worker_host}:{settings.worker_web_port}",
        # Faust's own pages would serve any table row (/table/{name}/{key}/) and the
        # app's internals to whoever reaches the port: the worker serves only its routes.
        web_tables_enabled=False,
        web_router_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        broker_credentials=broker_credentials(settings.kafka),
        Worker=PipelineWorker,
    )


def broker_credentials(kafka: KafkaConnection) -> CredentialsT | None:
    """The worker's Kafka security, from the same settings as every other client (kafka_io.connection)."""
    context = ssl_context(kafka)
    if kafka.security_protocol.startswith("SASL_"):
        assert kafka.sasl_password is not None, "the settings refuse SASL without a password"
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password.get_secret_value(),
            ssl_context=context,
            mechanism=kafka.sasl_mechanism,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def create_app(
    settings: Settings,
    *,
    task_types: Sequence[TaskType] = (),
    routes: Mapping[str, tuple[str, ...]] | None = None,
) -> faust.App:
    """The worker's app; ``task_types`` and ``routes`` add to the built-in ones (tests use them)."""
    if settings.production and settings.worker_api_key is None:
        raise ConfigError(
            "FEYNMAN_ENV=production requires FEYNMAN_WORKER_API_KEY: the worker's routes show statuses, "
            "analyses and memories, and in production none is open"
        )
    topics = Topics.from_settings(settings)
    app = pipeline_app(settings)
    rt = Runtime(app=app, settings=settings, topics=topics, routes={**TASK_ROUTES, **(routes or {})})
    monitor = monitoring.Monitor(rt)
    probe = health.install(
        app,
        stall_after_s=settings.worker_stall_after_s,
        collectors=[monitor, rt.metrics],
        key=settings.worker_api_key,
    )
    monitoring.install(rt, monitor, probe)
    status_table.install(rt)
    transcripts.install(rt)
    analysis_tasks.install(rt)
    memory = consolidation_tasks.install(rt, llm=worker_llm.install(rt))
    vectors.install(rt, route_by=memory)
    costs.install(rt)
    rt.add_task_types(task_types)
    rt.install()
    return app


app = create_app(get_settings())
