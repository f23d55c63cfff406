"""The worker's web routes answer only requests that carry the worker key, once one is set.

The routes show task statuses, transcripts' analyses and learners' memory:
whoever reaches the port could read them. With ``FEYNMAN_WORKER_API_KEY`` set
(required in production) every route but ``/health/`` (probes, compose's
healthcheck) wants it in ``X-API-Key``; the API, Prometheus and a worker
forwarding a lookup to the row's owner (Faust passes the headers on) send it.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.web import Request, Response, View
from pydantic import SecretStr

HEADER = "X-API-Key"
Handler = Callable[..., Awaitable[Response]]


def refusal(web: View, request: Request, key: SecretStr | None) -> Response | None:
    """A 401 unless ``key`` is unset or the request carries it (compared in constant time)."""
    if key is None:
        return None
    given = request.headers.get(HEADER, "")
    if hmac.compare_digest(given.encode(), key.get_secret_value().encode()):
        return None
    body = {"detail": f"missing or wrong {HEADER} (FEYNMAN_WORKER_API_KEY)", "reason": "unauthorized"}
    return web.json(body, status=401)


def guarded_page(
    app: faust.App,
    path: str,
    key: SecretStr | None,
    *,
    table: faust.Table | None = None,
    match_info: str | None = None,
) -> Callable[[Handler], Any]:
    """``app.page(path)`` (and ``app.table_route`` when ``table`` is given) behind the worker key.

    The key is checked first, so a request without it is refused here rather
    than forwarded to the worker that owns the row.
    """

    def register(handler: Handler) -> Any:
        routed = (
            app.table_route(table=table, match_info=match_info)(handler) if table is not None else handler
        )

        @functools.wraps(routed)
        async def guarded(web: View, request: Request, **kwargs: Any) -> Response:
            refused = refusal(web, request, key)
            if refused is not None:
                return refused
            return await routed(web, request, **kwargs)

        return app.page(path)(guarded)

    return register
