"""The one exception root of the project.

Every error the pipeline raises on purpose derives from :class:`FeynmanError`,
so an entry point (the CLI, an HTTP route, an agent) can turn any of them into
a one-line message, a 4xx/503 response or a dead letter in one place::

    FeynmanError
    ├── ConfigError          bad or missing configuration
    ├── BrokerError          the local KRaft broker cannot be set up or run
    ├── TopicMismatchError   an existing topic's settings differ from schemas/topics
    ├── DecodeError          a record is not a valid envelope (schemas/)
    ├── PublishError         Kafka did not take a record (producers/)
    ├── ReplayError          a replay cannot run: topic missing, bad checkpoint (exit 1)
    │   ├── ReplayUsageError     the selection itself is wrong: empty range, future time (exit 2)
    │   └── NothingSelectedError the selection matches no record (exit 3)
    ├── PermanentTaskError   a task handler's failure that no retry can fix (dead-lettered at once)
    ├── LlmError             the LLM backend failed (domain.llm.errors)
    └── PricingError         a usage cannot be priced (domain.pricing)
        └── UnknownModelError    the model is not in the price table
"""

from __future__ import annotations


class FeynmanError(Exception):
    """Root of every error raised on purpose by this project."""


class ConfigError(FeynmanError):
    """Configuration is missing or contradictory."""


class BrokerError(FeynmanError):
    """The local broker cannot be resolved, started or stopped.

    The message is one line a person can act on (no Java, port taken, ...).
    """


class TopicMismatchError(FeynmanError):
    """An existing topic does not match its declaration in ``schemas.topics``."""


class DecodeError(FeynmanError):
    """A record is not a valid envelope of a known type and version.

    ``reason`` is a short machine-friendly code (``not_json``, ``missing_field``,
    ``unknown_type``, ``unknown_version``, ``invalid_payload``, ...) and the
    message says exactly what is wrong, so a dead letter explains itself.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class PublishError(FeynmanError):
    """Kafka did not acknowledge a record; nothing may be reported as accepted."""


class ReplayError(FeynmanError):
    """``feynman replay`` cannot run; exit code 1 unless a subclass says otherwise."""

    exit_code = 1


class ReplayUsageError(ReplayError):
    """The replay's selection is malformed or contradictory (a usage error, exit 2)."""

    exit_code = 2


class NothingSelectedError(ReplayError):
    """The selection is valid but matches no record: nothing to replay (exit 3)."""

    exit_code = 3


class PermanentTaskError(FeynmanError):
    """Raised by a task handler when retrying cannot help (the input itself is wrong)."""
