"""The FastAPI app: ``feynman api`` or ``uvicorn --factory producers.app:create_app``.

Routes are thin: they validate, call the tutor, publish through the one
:class:`Publisher` and read status from the workers. Every error the project
raises on purpose is mapped to an HTTP answer here, in one place: bad input is
a 4xx with its reason, Kafka or the workers being away is a 503 with
``Retry-After``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from foundation.errors import DecodeError, PublishError
from foundation.settings import Settings, get_settings
from producers.api_models import FORBIDDEN, REQUEST_ERRORS
from producers.body_limit import BodyLimitMiddleware
from producers.idempotency import IdempotencyCache, IdempotencyError
from producers.metrics import ApiMetrics, MetricsMiddleware
from producers.publisher import Publisher
from producers.question_service import QuestionService
from producers.refusals import RequestRefusedError
from producers.routes_chat import router as chat_router
from producers.routes_docs import router as docs_router
from producers.routes_events import router as events_router
from producers.routes_learning import router as learning_router
from producers.routes_ops import router as ops_router
from producers.routes_sessions import router as sessions_router
from producers.routes_tasks import router as tasks_router
from producers.security import check_bind_address, check_key_configuration, require_read, require_write
from producers.status_client import AcceptedTasks, StatusClient, StatusUnavailableError
from producers.status_lookup import StatusLookup
from producers.webview import routes_auth, routes_data, routes_page
from producers.webview.auth import ViewAuth
from producers.webview.consumer import ReadModelConsumer
from producers.webview.metrics import ReadModelCollector
from producers.webview.read_model import ReadModel

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    check_key_configuration(settings)
    check_bind_address(settings)
    view_auth = ViewAuth(settings)
    metrics = ApiMetrics()
    read_model = ReadModel.from_settings(settings)
    metrics.registry.register(ReadModelCollector(read_model))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.metrics = metrics
        app.state.publisher = Publisher(settings)
        app.state.accepted = AcceptedTasks()
        app.state.idempotency = IdempotencyCache(max_bytes=settings.idempotency_max_bytes)
        app.state.status_client = StatusClient(settings.worker_base_url, key=settings.worker_api_key)
        app.state.questions = QuestionService.from_settings(settings, app.state.publisher)
        app.state.view_auth = view_auth
        app.state.read_model = read_model
        # The web view's read model fills in the background; the API serves meanwhile.
        app.state.read_model_consumer = ReadModelConsumer(settings, read_model)
        app.state.status_lookup = StatusLookup(
            read_model, app.state.accepted, app.state.read_model_consumer, app.state.status_client
        )
        app.state.read_model_consumer.start()
        try:
            await app.state.publisher.start()
        except PublishError as exc:
            # Serve anyway: health checks answer and publishing retries per request (503 meanwhile).
            log.warning("starting without Kafka: %s", exc)
        try:
            yield
        finally:
            await app.state.read_model_consumer.stop()
            await app.state.questions.aclose()
            await app.state.publisher.stop()
            await app.state.status_client.close()

    app = FastAPI(
        title="Feynman pipeline API",
        version="0.1.0",
        summary="The Feynman tutor's chat API: replies at once, publishes the background work to Kafka.",
        lifespan=lifespan,
        # Served by producers/routes_docs.py instead, behind a key in production.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    # Publishing needs a write key; reading, any key (producers/security.py).
    for router in (chat_router, events_router):
        app.include_router(
            router, dependencies=[Depends(require_write)], responses={**REQUEST_ERRORS, **FORBIDDEN}
        )
    for router in (tasks_router, sessions_router, learning_router):
        app.include_router(router, dependencies=[Depends(require_read)], responses=REQUEST_ERRORS)
    app.include_router(ops_router)
    app.include_router(docs_router)
    # The web view authenticates on its own terms: a session cookie as well as X-API-Key.
    for router in (routes_page.router, routes_auth.router, routes_data.router):
        app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=routes_page.STATIC), name="ui-static")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()[:20]
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"]) or "request"
        return JSONResponse(
            {"detail": f"{where}: {first['msg']}", "reason": "invalid_request", "errors": errors},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def framework_refusal(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # The framework's own refusals (no such route, method not allowed) get a reason too.
        reason = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, f"http_{exc.status_code}")
        return JSONResponse(
            {"detail": exc.detail, "reason": reason}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(DecodeError)
    async def bad_event(_: Request, exc: DecodeError) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "reason": exc.reason}, status_code=422)

    @app.exception_handler(IdempotencyError)
    async def bad_idempotency_key(_: Request, exc: IdempotencyError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "reason": "idempotency_key"}, status_code=422)

    @app.exception_handler(RequestRefusedError)
    async def refused(_: Request, exc: RequestRefusedError) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail, "reason": exc.reason}, status_code=exc.status, headers=exc.headers
        )

    @app.exception_handler(PublishError)
    async def kafka_away(_: Request, exc: PublishError) -> JSONResponse:
        log.warning("publish failed: %s", exc)
        metrics.publish_failures.inc()
        return JSONResponse(
            {
                "detail": "Kafka did not acknowledge the event; nothing was accepted",
                "reason": "kafka_unavailable",
            },
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    @app.exception_handler(StatusUnavailableError)
    async def workers_away(_: Request, exc: StatusUnavailableError) -> JSONResponse:
        log.warning("status lookup failed: %s", exc)
        return JSONResponse(
            {"detail": "no worker answered the status lookup", "reason": "worker_unavailable"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    return app
