"""Refusals of the web view's routes, answered by the app as ``{detail, reason}`` (producers/app.py)."""

from __future__ import annotations

from feynman.errors import FeynmanError


class ViewRefusedError(FeynmanError):
    """A web view request is refused: ``status`` is the HTTP code (4xx), ``reason`` a stable code."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail
