"""The Faust app: ``faust -A streams.app worker -l info`` (or ``feynman worker``).

Built by :func:`create_app` from the environment's settings, so tests and
several workers on one machine can each get their own ids, ports and topics.
"""

from __future__ import annotations

import faust

from feynman.settings import Settings, get_settings
from schemas.topics import Topics
from streams import health, session_tasks, status_table, transcripts
from streams.runtime import Runtime


def create_app(settings: Settings) -> faust.App:
    topics = Topics.from_settings(settings)
    # Faust creates only the last level of its datadir.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
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
        producer_acks=-1,
        producer_compression_type="lz4",
        web_host=settings.worker_host,
        web_bind=settings.worker_bind or settings.worker_host,
        web_port=settings.worker_web_port,
        canonical_url=f"http://{settings.worker_host}:{settings.worker_web_port}",
    )
    rt = Runtime(app=app, settings=settings, topics=topics)
    health.install(app)
    status_table.install(rt)
    transcripts.install(rt)
    session_tasks.install(rt)
    conversations = topics.conversations

    @app.agent(rt.topic(conversations), name="conversations")
    async def process_conversations(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await rt.run_tasks(event, conversations)

    return app


app = create_app(get_settings())
