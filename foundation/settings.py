"""Configuration from the environment (``FEYNMAN_*``), in one class.

Every process (CLI, API, worker, tests) reads the same settings; tests override
them by environment or by constructing :class:`Settings` directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    """The bootstrap servers and the security of a Kafka connection (``kafka_io.client_options``)."""

    bootstrap: tuple[str, ...]
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None


class ModelBudget(BaseModel):
    """One model's LLM budget per minute; a figure left out is unlimited.

    Checked here so a malformed ``FEYNMAN_LLM_LIMITS`` stops start-up, naming
    the variable, rather than a worker's first LLM call.
    """

    model_config = ConfigDict(extra="forbid")

    rpm: float | None = Field(None, gt=0, strict=True)
    tpm: float | None = Field(None, gt=0, strict=True)

    def as_config(self) -> dict[str, float]:
        """The ``{"rpm": n, "tpm": n}`` mapping the rate limiter reads."""
        return self.model_dump(exclude_none=True)


# The settings holding API keys, highest role first (producers/security.py reads them by role).
API_KEY_FIELDS = ("api_keys", "api_keys_write", "api_keys_read")
# A key is a bearer secret sent on every request: long enough that guessing it is hopeless.
MIN_API_KEY_CHARS = 32


class Settings(BaseSettings):
    """All knobs of the pipeline; see docs/configuration.md for the list."""

    # An empty variable (FEYNMAN_X=) means unset, as an operator clearing it expects.
    model_config = SettingsConfigDict(env_prefix="FEYNMAN_", extra="ignore", env_ignore_empty=True)

    env: Literal["development", "production"] = "development"
    kafka_bootstrap: str = "localhost:9092"
    # How every Kafka client of the pipeline connects (docs/security.md).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None

    # Topics (declared in schemas.topics; these scale them per deployment).
    topic_partitions: int = Field(12, ge=1, le=1000)
    replication_factor: int = Field(1, ge=1)
    topic_prefix: str = Field("feynman", pattern=r"^[A-Za-z0-9._-]+$")

    # Local KRaft broker (compose.local_broker).
    broker_port: int = 9092
    broker_controller_port: int = 9093
    data_dir: Path = Path(".feynman")
    cache_dir: Path = Path.home() / ".cache" / "feynman"
    kafka_version: str = "4.1.1"
    broker_heap: str = "512m"
    # `feynman broker start --secure`: a SASL_SSL listener (docs/security.md).
    broker_secure: bool = False

    # API (producers.api).
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # API keys by role (docs/api.md, "Keys and roles"): FEYNMAN_API_KEYS are admin keys;
    # these JSON lists hold keys that may publish and read, or only read.
    api_keys: list[SecretStr] = Field(default_factory=list)
    api_keys_write: list[SecretStr] = Field(default_factory=list)
    api_keys_read: list[SecretStr] = Field(default_factory=list)
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    # Memory the Idempotency-Key cache may spend on remembered responses (oldest dropped first):
    # a /chat reply carries its short-term memory, so a count of entries alone bounds nothing.
    idempotency_max_bytes: int = Field(64 * 1024 * 1024, ge=1024 * 1024)
    # How many turns of short-term memory /chat keeps and returns.
    memory_turns: int = Field(10, ge=1, le=100)

    # Optional OpenAI-compatible LLM backend; the local tutor answers when unset or failing.
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(20.0, gt=0)
    llm_max_retries: int = Field(3, ge=0, le=10)
    # Per-model budgets of the worker's LLM calls, {model: {"rpm": n, "tpm": n}} ("*" = any other
    # model), per worker process; empty = unlimited. See docs/rate-limits.md.
    llm_limits: dict[str, ModelBudget] = Field(default_factory=dict)
    # Cap on the reply of a consolidation summary call (also the token estimate's reply share).
    llm_summary_max_tokens: int = Field(400, ge=16, le=8192)

    # Where the API asks for task status; by default the local worker's web port.
    worker_url: str | None = None

    # Worker (streams.app).
    app_id: str = Field("feynman", pattern=r"^[A-Za-z0-9._-]+$")
    # The host other workers and the API reach this worker at (Faust's canonical URL).
    worker_host: str = "127.0.0.1"
    # The address the worker's web server binds to; defaults to worker_host.
    worker_bind: str | None = None
    worker_web_port: int = 6066
    # The key every request to a worker's web routes carries (X-API-Key) but /health/: the
    # API's status lookups, Prometheus, workers forwarding to the owner of a row. Required
    # in production; at least 32 characters.
    worker_api_key: SecretStr | None = None
    store: str = "rocksdb://"
    # How long the group waits for a silent worker before moving its partitions
    # (a crashed worker's work resumes elsewhere after this).
    worker_session_timeout_s: float = Field(30.0, ge=6, le=300)
    # Seconds a partition may have lag with no commit progress before GET /health/ reports "stalled".
    worker_stall_after_s: float = Field(120.0, gt=0)
    status_retention_s: int = Field(7 * 24 * 3600, ge=1)
    # How long a completed task's marker (a redelivery is skipped while it lasts)
    # and a cached result are kept; at most the input topics' retention.
    result_retention_s: int = Field(7 * 24 * 3600, ge=1)
    # A session's working state (transcript, task index, consolidation window,
    # quality reports) is deleted once the session has been quiet this long; as
    # long as the conversations topic keeps its events by default.
    session_retention_s: int = Field(30 * 24 * 3600, ge=1)
    # Tables with a retention (results, sessions, cost buckets) are pruned this often.
    table_expiry_interval_s: float = Field(600.0, gt=0)
    # Events read ahead and in flight per input topic on one worker (the replay
    # lane gets a quarter); bounds memory while slow task types catch up.
    worker_max_pending: int = Field(1000, ge=1, le=100_000)
    # How long the worker's producer waits to fill a batch of records (status rows, table
    # rows): a little latency for far fewer produce requests under load.
    worker_linger_ms: float = Field(2.0, ge=0, le=100)
    # A record larger than this on an input topic is dead-lettered as ``too_large``
    # with a preview of its first bytes (never whole: a dead letter must fit a request).
    max_record_bytes: int = Field(512 * 1024, ge=1024, le=8 * 1024 * 1024)
    # On SIGTERM (or a rebalance), how long running tasks may finish before they are
    # cancelled and their events left to the next owner, unacked.
    worker_stop_grace_s: float = Field(15.0, ge=0, le=600)

    # Task types (streams/*_tasks.py; docs/task-types.md).
    # Consolidate a session's memory every this many chat turns (and at its end).
    consolidate_every_turns: int = Field(5, ge=1, le=1000)
    # Turns of one session kept for consolidation (the latest win).
    consolidation_max_turns: int = Field(50, ge=1, le=500)
    # A session with turns not yet consolidated is consolidated once it has
    # been quiet this long (as if it had ended: reason "idle").
    consolidate_idle_s: float = Field(600.0, gt=0)
    # Quality reports kept per session for GET /sessions/{id}/analysis.
    analysis_keep_reports: int = Field(20, ge=1, le=500)
    # Vector writes are batched: up to this many items, or this long, whichever first.
    vector_batch_size: int = Field(32, ge=1, le=10_000)
    vector_batch_ms: float = Field(50.0, gt=0, le=60_000)
    vector_dim: int = Field(384, ge=8, le=8192)
    # Cost buckets: the learners' calendar (IANA zone), how long buckets are kept after their window.
    cost_timezone: str = "UTC"
    cost_day_retention_days: int = Field(400, ge=1)
    cost_hour_retention_days: int = Field(35, ge=1)
    # Price table file (TOML, see docs/analysis.md); the shipped one when unset.
    price_table: Path | None = None
    # The leader publishes cost.report this often (daily).
    cost_report_interval_s: float = Field(24 * 3600.0, gt=0)
    # Every worker publishes a monitoring.snapshot this often.
    monitoring_interval_s: float = Field(15.0, gt=0)

    # Status web view (producers.webview), served by the API.
    # Signs the view's session cookies (HMAC); required in production, random per process otherwise.
    ui_session_secret: SecretStr | None = None
    ui_session_max_age_s: int = Field(8 * 3600, ge=60)
    # Mark the session cookie Secure (HTTPS only); defaults to on in production.
    ui_secure_cookie: bool | None = None
    # Bounds of the view's in-memory read model: newest tasks and dead letters kept.
    ui_max_tasks: int = Field(200_000, ge=100)
    ui_max_dead_letters: int = Field(1_000, ge=10)

    # `feynman replay` checkpoints (one JSON file per replay id); default <data_dir>/replays.
    replay_dir: Path | None = None

    @model_validator(mode="after")
    def _api_keys_are_long_and_have_one_role(self) -> Settings:
        """Refuse at start-up a key that could be guessed, or one whose role is ambiguous.

        The message names the variable, never the key: start-up errors end up in logs.
        """
        roles = {f"FEYNMAN_{name.upper()}": getattr(self, name) for name in API_KEY_FIELDS}
        for variable, keys in roles.items():
            short = sum(len(k.get_secret_value()) < MIN_API_KEY_CHARS for k in keys)
            if short:
                raise ValueError(
                    f"{variable}: {short} key(s) shorter than {MIN_API_KEY_CHARS} characters; generate "
                    "one with python -c 'import secrets; print(secrets.token_urlsafe(32))'"
                )
        worker_key = self.worker_api_key.get_secret_value() if self.worker_api_key else None
        if worker_key is not None and len(worker_key) < MIN_API_KEY_CHARS:
            raise ValueError(f"FEYNMAN_WORKER_API_KEY is shorter than {MIN_API_KEY_CHARS} characters")
        seen: dict[str, str] = {}
        for variable, keys in roles.items():
            for key in keys:
                other = seen.setdefault(key.get_secret_value(), variable)
                if other != variable:
                    raise ValueError(f"a key is in both {other} and {variable}: give each key one role")
        return self

    @property
    def replay_checkpoint_dir(self) -> Path:
        return self.replay_dir or self.data_dir / "replays"

    @property
    def production(self) -> bool:
        return self.env == "production"

    def as_env(self) -> dict[str, str]:
        """These settings as ``FEYNMAN_*`` variables, for a child process."""
        env = {}
        for name, value in self.model_dump(mode="json").items():
            secret = getattr(self, name)
            if name in API_KEY_FIELDS:
                value = json.dumps([k.get_secret_value() for k in secret])
            elif isinstance(secret, SecretStr):
                value = secret.get_secret_value()  # the child needs the secret itself
            elif value is None:
                continue
            elif isinstance(value, list | dict):
                value = json.dumps(value)
            env[f"FEYNMAN_{name.upper()}"] = str(value)
        return env

    @property
    def worker_base_url(self) -> str:
        return self.worker_url or f"http://{self.worker_host}:{self.worker_web_port}"

    @property
    def bootstrap_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap.split(",") if s.strip()]

    @property
    def kafka(self) -> KafkaConnection:
        """Where and how every Kafka client of the pipeline connects."""
        return KafkaConnection(
            bootstrap=tuple(self.bootstrap_servers),
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password,
            ssl_cafile=self.kafka_ssl_cafile,
            ssl_certfile=self.kafka_ssl_certfile,
            ssl_keyfile=self.kafka_ssl_keyfile,
        )

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> Settings:
        """Refuse at start-up a connection the broker would refuse later, naming the variables."""
        sasl = self.kafka_security_protocol.startswith("SASL_")
        if sasl and not (self.kafka_sasl_mechanism and self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(
                f"FEYNMAN_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "FEYNMAN_KAFKA_SASL_MECHANISM, FEYNMAN_KAFKA_SASL_USERNAME and FEYNMAN_KAFKA_SASL_PASSWORD"
            )
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError("FEYNMAN_KAFKA_SSL_CERTFILE and FEYNMAN_KAFKA_SSL_KEYFILE go together")
        tls = self.kafka_security_protocol in ("SSL", "SASL_SSL")
        if not tls and (self.kafka_ssl_cafile or self.kafka_ssl_certfile):
            raise ValueError(
                "FEYNMAN_KAFKA_SSL_* files are used only with FEYNMAN_KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
