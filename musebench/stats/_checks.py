"""Input checks shared by the stats modules: one home for each rule, one-line MusebenchError messages."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from musebench.errors import MusebenchError


class BadParameter(MusebenchError):
    """A scalar parameter out of range. Keeps the parameter's name so that a CLI can name its flag."""

    def __init__(self, name: str, value: object, fix: str):
        self.name, self.value, self.fix = name, value, fix
        super().__init__(f"{name}={value}: {fix}")


def finite(name: str, value: float) -> float:
    """`value` as a float, refusing NaN and infinities (argparse's float() accepts 'nan' and 'inf')."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadParameter(name, value, "expected a number") from None
    if not math.isfinite(number):
        raise BadParameter(name, value, "must be a finite number")
    return number


def open_unit(name: str, value: float, example: str) -> float:
    """A probability strictly inside (0, 1): a rate, a confidence level, alpha or power."""
    number = finite(name, value)
    if not 0.0 < number < 1.0:
        raise BadParameter(name, value, f"must lie strictly between 0 and 1, e.g. {example}")
    return number


def confidence(value: float) -> float:
    return open_unit("confidence", value, "0.95")


def alpha(value: float) -> float:
    number = open_unit("alpha", value, "0.05")
    if number >= 0.5:
        raise BadParameter("alpha", value, "must be below 0.5 (a one-sided test level), e.g. 0.05")
    return number


def margin(value: float) -> float:
    number = finite("margin", value)
    if number <= 0.0:
        raise BadParameter("margin", value, "the equivalence margin must be > 0, declared before looking, e.g. 0.03")
    return number


def sides(value: int) -> int:
    if value not in (1, 2):
        raise BadParameter("sides", value, "must be 1 (one-sided: only a drop matters) or 2")
    return int(value)


def paired_arrays(where: str, a: Sequence, b: Sequence, min_n: int = 1,
                  names: tuple[str, str] = ("a", "b")) -> tuple[np.ndarray, np.ndarray]:
    """a and b as float64 arrays of the same length (>= min_n), every value finite. Shapes: (n,), (n,).
    `names` are the caller's names for a and b, used in the messages."""
    x, y = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    first, second = names
    if x.size != y.size:
        raise MusebenchError(f"{where}: {first} has {x.size} items and {second} has {y.size}; "
                             "pass values for the same items in the same order")
    if x.size < min_n:
        raise MusebenchError(f"{where}: need at least {min_n} paired items, got {x.size}")
    for name, values in ((first, x), (second, y)):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise MusebenchError(f"{where}: {name}[{bad[0]}] = {values[bad[0]]} is not finite; "
                                 f"drop that item from both {first} and {second}")
    return x, y


def paired_outcomes(where: str, a: Sequence, b: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """a and b as boolean arrays (True = correct) of the same length; values must be 0/1 or bools."""
    x, y = paired_arrays(where, a, b)
    for name, values in (("a", x), ("b", y)):
        bad = np.flatnonzero((values != 0) & (values != 1))
        if bad.size:
            raise MusebenchError(f"{where}: {name}[{bad[0]}] = {values[bad[0]]} is not a correct/incorrect outcome; "
                                 "pass True/False (or 1/0) per item")
    return x.astype(bool), y.astype(bool)
