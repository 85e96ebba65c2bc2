"""The ranges a config field may declare, through ``Annotated``: ``Annotated[int, Ge(1)]``.

`emergence.settings` checks them (and shows them in messages and docs/config.md); the common
ones have names (`PositiveInt`, `Fraction`, ...).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class _Bound:
    """The key must be ``op value``; made by `Ge`, `Gt`, `Le`, `Lt`."""

    op: str
    value: float

    def ok(self, x: Any) -> bool:
        return _OPS[self.op](x, self.value)

    def text(self) -> str:
        return f"{self.op} {self.value:g}"


def Ge(value: float) -> _Bound:
    return _Bound(">=", value)


def Gt(value: float) -> _Bound:
    return _Bound(">", value)


def Le(value: float) -> _Bound:
    return _Bound("<=", value)


def Lt(value: float) -> _Bound:
    return _Bound("<", value)


@dataclass(frozen=True)
class MinLen:
    """A list or mapping key must hold at least ``n`` items."""

    n: int

    def ok(self, x: Any) -> bool:
        return len(x) >= self.n

    def text(self) -> str:
        return f"with at least {self.n} item{'s' if self.n > 1 else ''}"


@dataclass(frozen=True)
class Pattern:
    """A string must match ``regex`` in full."""

    regex: str

    def ok(self, x: Any) -> bool:
        return re.fullmatch(self.regex, x) is not None

    def text(self) -> str:
        return f"matching {self.regex}"


PositiveInt = Annotated[int, Ge(1)]
NonNegativeInt = Annotated[int, Ge(0)]
PositiveFloat = Annotated[float, Gt(0)]
NonNegativeFloat = Annotated[float, Ge(0)]
Fraction = Annotated[float, Ge(0), Le(1)]
"""A share in [0, 1]."""
OpenFraction = Annotated[float, Gt(0), Lt(1)]
"""A share in (0, 1)."""
