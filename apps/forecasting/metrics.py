"""Forecast error measures (pure functions over aligned sequences of Wh)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def mae(forecast: Sequence[float], actual: Sequence[float]) -> float | None:
    if not forecast:
        return None
    return sum(abs(f - a) for f, a in zip(forecast, actual, strict=True)) / len(forecast)


def rmse(forecast: Sequence[float], actual: Sequence[float]) -> float | None:
    if not forecast:
        return None
    squares = sum((f - a) ** 2 for f, a in zip(forecast, actual, strict=True))
    return math.sqrt(squares / len(forecast))


def skill(error: float | None, reference_error: float | None) -> float | None:
    """1 - error / reference: 1 perfect, 0 as good as the reference, < 0 worse."""
    if error is None or not reference_error:
        return None
    return 1 - error / reference_error
