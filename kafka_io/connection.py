"""The keyword arguments that connect an aiokafka client to the configured cluster.

Every producer, consumer and admin client of the pipeline is built with
:func:`client_options`, so plaintext, TLS (with a client certificate) and
SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) reach all of them from one place,
the ``FEYNMAN_KAFKA_*`` settings. The password never leaves the
:class:`SecretStr` but for the client that sends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Iterator
from typing import Any

from aiokafka.conn import create_conn
from aiokafka.errors import AuthenticationFailedError, SaslAuthenticationFailed
from aiokafka.helpers import create_ssl_context

from foundation.settings import KafkaConnection


def ssl_context(kafka: KafkaConnection) -> ssl.SSLContext | None:
    """The TLS context of an SSL or SASL_SSL connection (system CAs unless a CA file is given)."""
    if kafka.security_protocol not in ("SSL", "SASL_SSL"):
        return None
    return create_ssl_context(
        cafile=str(kafka.ssl_cafile) if kafka.ssl_cafile else None,
        certfile=str(kafka.ssl_certfile) if kafka.ssl_certfile else None,
        keyfile=str(kafka.ssl_keyfile) if kafka.ssl_keyfile else None,
    )


def client_options(kafka: KafkaConnection) -> dict[str, Any]:
    """``bootstrap_servers`` and the security options, for ``AIOKafka{Producer,Consumer,AdminClient}``."""
    options: dict[str, Any] = {
        "bootstrap_servers": list(kafka.bootstrap),
        "security_protocol": kafka.security_protocol,
    }
    context = ssl_context(kafka)
    if context is not None:
        options["ssl_context"] = context
    if kafka.security_protocol.startswith("SASL_"):
        assert kafka.sasl_password is not None, "the settings refuse SASL without a password"
        options["sasl_mechanism"] = kafka.sasl_mechanism
        options["sasl_plain_username"] = kafka.sasl_username
        options["sasl_plain_password"] = kafka.sasl_password.get_secret_value()
    return options


async def connection_problem(kafka: KafkaConnection, timeout: float = 10.0) -> str:
    """Why a client cannot connect, in one line.

    aiokafka logs the cause and raises only "Unable to bootstrap"; this connects
    to each server once more and names what went wrong there.
    """
    options = client_options(kafka)
    del options["bootstrap_servers"]
    reasons = []
    for server in kafka.bootstrap:
        host, _, port = server.rpartition(":")
        try:
            async with asyncio.timeout(timeout):
                conn = await create_conn(
                    host.strip("[]"), int(port), request_timeout_ms=int(timeout * 1000), **options
                )
            conn.close()
        except (SaslAuthenticationFailed, AuthenticationFailedError):
            reasons.append(
                f"{server} refused the {kafka.sasl_mechanism} credentials of user {kafka.sasl_username!r} "
                "(FEYNMAN_KAFKA_SASL_USERNAME, FEYNMAN_KAFKA_SASL_PASSWORD)"
            )
        except ssl.SSLError as exc:
            reasons.append(f"{server}: TLS failed ({exc.reason or exc}); check FEYNMAN_KAFKA_SSL_CAFILE")
        except (OSError, TimeoutError) as exc:
            reasons.append(f"{server} does not answer ({exc.__class__.__name__})")
        except Exception as exc:  # noqa: BLE001 - anything else is named as it is
            hint = (
                "; a listener that wants TLS or SASL closes a plaintext client "
                "(FEYNMAN_KAFKA_SECURITY_PROTOCOL)"
                if kafka.security_protocol == "PLAINTEXT"
                else ""
            )
            reasons.append(f"{server} closed the {kafka.security_protocol} connection ({exc}){hint}")
        else:
            return f"{server} answers over {kafka.security_protocol}"
    return "; ".join(reasons)


@contextlib.contextmanager
def quiet_client_logs() -> Iterator[None]:
    """Hold back aiokafka's own error lines: a command states the failure once, in its own words."""
    logger = logging.getLogger("aiokafka")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
