"""Refusals of the API's and the web view's routes, answered by the app as ``{detail, reason}``
with their status (producers/app.py)."""

from __future__ import annotations

from foundation.errors import FeynmanError


class RequestRefusedError(FeynmanError):
    """A request is refused: ``status`` is the HTTP code (4xx), ``reason`` a stable code."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail
