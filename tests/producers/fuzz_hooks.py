"""Schemathesis checks of the API's roles, loaded by the CLI through ``SCHEMATHESIS_HOOKS``."""

from __future__ import annotations

from typing import Any

import schemathesis

# Session routes any valid key may use; everything else that is not a read changes state.
SESSION_ROUTES = {"/ui/api/login", "/ui/api/logout"}
READS = {"GET", "HEAD", "OPTIONS"}


@schemathesis.check
def no_write_with_a_read_key(ctx: Any, response: Any, case: Any) -> None:
    """Run with a read key: a request that would publish or change state must not succeed."""
    if case.method.upper() in READS or case.path in SESSION_ROUTES:
        return
    if response.status_code < 400:
        raise AssertionError(
            f"{case.method} {case.path} was accepted ({response.status_code}) with a read key"
        )
