"""The Faust worker class the app starts with (``faust -A streams.app worker``).

At ``-l warn`` or quieter, ``faust.Worker`` shows a startup spinner by setting
the root logger to DEBUG with a handler that turns each record into a spinner
tick, and leaves it so after startup. Every debug call in aiokafka and Faust
(several per record sent or fetched) then builds a log record only to drop it:
about a tenth of the worker's CPU at full load. This worker keeps the root
logger at the level asked for.
"""

from __future__ import annotations

import logging

import faust


class PipelineWorker(faust.Worker):
    """A Faust worker whose log level is the one given on the command line."""

    def _setup_spinner_handler(self, logger: logging.Logger, level: int) -> None:
        self.spinner = None


__all__ = ["PipelineWorker"]
