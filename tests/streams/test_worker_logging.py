"""The worker logs at the level it was started with, and no lower.

``faust.Worker`` at ``-l warn`` lowers the root logger to DEBUG for its startup
spinner and leaves it there: every debug call in aiokafka and Faust then builds
a record, about a tenth of a busy worker's CPU (docs/runtime.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from foundation.settings import Settings
from streams.app import pipeline_app
from streams.worker import PipelineWorker


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield root
    root.setLevel(level)
    root.handlers[:] = handlers


def test_the_worker_app_starts_with_the_pipeline_worker(tmp_path: Path) -> None:
    app = pipeline_app(Settings(data_dir=tmp_path))
    assert app.conf.Worker is PipelineWorker


def test_at_warn_the_root_logger_stays_at_warn(tmp_path: Path, root_logger: logging.Logger) -> None:
    app = pipeline_app(Settings(data_dir=tmp_path))
    worker = PipelineWorker(app, loglevel="warn")
    root_logger.setLevel(logging.WARNING)
    root_logger.handlers[:] = [logging.StreamHandler()]
    worker.on_setup_root_logger(root_logger, logging.WARNING)
    assert root_logger.getEffectiveLevel() == logging.WARNING
    assert not logging.getLogger("aiokafka.producer.producer").isEnabledFor(logging.DEBUG)
