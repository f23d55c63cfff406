"""The services routes depend on, as typed FastAPI dependencies.

The lifespan (producers/app.py) builds every service once and keeps it on
``app.state``; these providers are the only readers of it, so a route states
the services it needs in its signature and a test swaps any of them through
``app.dependency_overrides`` (no broker, no lifespan). Each provider takes only
the ``Request``, so none adds a parameter to the OpenAPI document. They are
``async`` so FastAPI calls them inline rather than in its thread pool: /chat
resolves several per request within its latency budget.

The web view's authentication (``ViewAuth``) has its provider next to it in
producers/webview/auth.py: importing it here would close an import cycle
(auth -> security -> here).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from foundation.settings import Settings
from producers.idempotency import IdempotencyCache
from producers.metrics import ApiMetrics
from producers.publisher import Publisher
from producers.question_service import QuestionService
from producers.status_client import AcceptedTasks, StatusClient
from producers.status_lookup import StatusLookup
from producers.webview.consumer import ReadModelConsumer
from producers.webview.read_model import ReadModel

T = TypeVar("T")


def _state(attribute: str, kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A provider of the service the lifespan keeps as ``app.state.<attribute>``."""

    async def provide(request: Request) -> T:
        service: T = getattr(request.app.state, attribute)
        return service

    provide.__name__ = f"get_{attribute}"
    provide.__doc__ = f"The app's {kind.__name__} (``app.state.{attribute}``)."
    return provide


get_app_settings = _state("settings", Settings)
get_publisher = _state("publisher", Publisher)
get_accepted_tasks = _state("accepted", AcceptedTasks)
get_metrics = _state("metrics", ApiMetrics)
get_idempotency_cache = _state("idempotency", IdempotencyCache)
get_status_client = _state("status_client", StatusClient)
get_status_lookup = _state("status_lookup", StatusLookup)
get_question_service = _state("questions", QuestionService)
get_read_model = _state("read_model", ReadModel)
get_read_model_consumer = _state("read_model_consumer", ReadModelConsumer)


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
PublisherDep = Annotated[Publisher, Depends(get_publisher)]
AcceptedTasksDep = Annotated[AcceptedTasks, Depends(get_accepted_tasks)]
MetricsDep = Annotated[ApiMetrics, Depends(get_metrics)]
IdempotencyDep = Annotated[IdempotencyCache, Depends(get_idempotency_cache)]
StatusClientDep = Annotated[StatusClient, Depends(get_status_client)]
StatusLookupDep = Annotated[StatusLookup, Depends(get_status_lookup)]
QuestionServiceDep = Annotated[QuestionService, Depends(get_question_service)]
ReadModelDep = Annotated[ReadModel, Depends(get_read_model)]
ReadModelConsumerDep = Annotated[ReadModelConsumer, Depends(get_read_model_consumer)]
