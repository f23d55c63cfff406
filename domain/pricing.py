"""What an LLM call cost, from a price table file, in exact decimal arithmetic.

Prices change more often than code, so they live in ``data/prices.toml`` (or any file
of that shape, see docs/analysis.md) and are read with ``tomllib`` with every number
parsed as a :class:`~decimal.Decimal`: a float would turn $0.15 per million tokens into
a sum that drifts by fractions of a cent over millions of calls. A model missing from
the table is an error, not a zero, so an unpriced model shows up instead of looking free.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from foundation.errors import FeynmanError

_MILLION = Decimal(1_000_000)


class PricingError(FeynmanError):
    """A usage cannot be priced or added up: a bad price table, a currency mixed into a bucket."""


class UnknownModelError(PricingError):
    """The model is not in the price table; retrying will not help until the table lists it."""

    def __init__(self, model: str) -> None:
        super().__init__(f"no price for model {model!r}: add it to the price table")
        self.model = model


@dataclass(frozen=True)
class ModelPrice:
    """Prices per million input (prompt) and output (completion) tokens."""

    input_per_million: Decimal
    output_per_million: Decimal


@dataclass(frozen=True)
class PriceTable:
    """Every priced model, in one currency."""

    currency: str
    models: Mapping[str, ModelPrice]

    def price_of(self, model: str) -> ModelPrice:
        """The model's price; a dated snapshot ("gpt-4o-2024-08-06") takes its family's.

        Providers answer with the snapshot they served, not the name asked for, so
        the longest listed name followed by "-" is the price of an unlisted name.
        """
        if model in self.models:
            return self.models[model]
        families = [name for name in self.models if model.startswith(name + "-")]
        if not families:
            raise UnknownModelError(model)
        return self.models[max(families, key=len)]


@dataclass(frozen=True)
class PricedUsage:
    """One call's tokens and what they cost."""

    model: str
    input_tokens: int
    output_tokens: int
    input_cost: Decimal
    output_cost: Decimal
    currency: str

    @property
    def cost(self) -> Decimal:
        """Input and output together."""
        return self.input_cost + self.output_cost


def load_prices(path: Path | None = None) -> PriceTable:
    """The price table at ``path``, or the one shipped in ``domain/data/prices.toml``."""
    if path is None:
        text = resources.files("domain").joinpath("data", "prices.toml").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
        return PriceTable(currency=str(raw["currency"]), models=_models(raw["models"]))
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise PricingError(f"price table {path or 'prices.toml'} is invalid: {exc}") from exc


def _models(raw: Mapping[str, Any]) -> dict[str, ModelPrice]:
    models = {}
    for name, entry in raw.items():
        prices = [Decimal(entry[k]) for k in ("input_per_million", "output_per_million")]
        if any(p < 0 for p in prices):
            raise ValueError(f"negative price for {name!r}")
        models[name] = ModelPrice(*prices)
    return models


def price_usage(table: PriceTable, model: str, input_tokens: int, output_tokens: int) -> PricedUsage:
    """The cost of one call (exact: no rounding until someone displays it)."""
    if input_tokens < 0 or output_tokens < 0:
        raise PricingError(f"negative token count for {model!r}")
    price = table.price_of(model)
    return PricedUsage(
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        input_cost=price.input_per_million * input_tokens / _MILLION,
        output_cost=price.output_per_million * output_tokens / _MILLION,
        currency=table.currency,
    )
