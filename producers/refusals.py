"""Refusals of the API's and the web view's routes, answered by the app as ``{detail, reason}``
with their status (producers/app.py)."""

from __future__ import annotations

from collections.abc import Mapping

from foundation.errors import FeynmanError


class RequestRefusedError(FeynmanError):
    """A request is refused: ``status`` is the HTTP code (4xx), ``reason`` a stable code.

    ``headers`` go on the answer too, e.g. ``Retry-After`` on a 429, so a client
    knows when trying again can succeed.
    """

    def __init__(
        self, status: int, reason: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail
        self.headers = dict(headers or {})
