"""Operations routes: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from producers import readiness
from producers.api_models import Health, Readiness
from producers.dependencies import MetricsDep, SettingsDep, StatusClientDep
from producers.security import require_read

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up (no dependency checked); for liveness probes."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={
        200: {
            "description": "Ready: a broker answers and every topic exists. A worker behind or absent "
            "shows in `checks.worker` and `degraded: true`, not in the status code"
        },
        503: {"model": Readiness, "description": "Not ready: no broker answers or a topic is missing"},
    },
)
async def readyz(settings: SettingsDep, status_client: StatusClientDep, metrics: MetricsDep) -> Response:
    """Ready when the API can publish (the broker answers, every topic exists); 503 naming the failing check.

    The worker's health is reported in the body (`checks.worker`, `degraded`) and in the
    `feynman_api_worker_ready` gauge, but never makes this 503: events accepted while
    workers are behind wait in Kafka, which is what the queue is for.
    """
    result = await readiness.check(settings, status_client, metrics)
    return JSONResponse(result.model_dump(), status_code=200 if result.status == "ready" else 503)


@router.get(
    "/metrics",
    dependencies=[Depends(require_read)],
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(api_metrics: MetricsDep) -> Response:
    """Prometheus metrics of this API process."""
    return Response(generate_latest(api_metrics.registry), media_type=CONTENT_TYPE_LATEST)
