"""The argparse types the examples share: numbers that must be positive, or at least zero.

Each refuses, with the value it was given, what would otherwise end in a traceback or a
silently odd run: a batch size of 0, a negative epoch count, a learning rate of ``nan``.

>>> positive(float)("0.5"), non_negative(int)("0")
(0.5, 0)
>>> positive(int)("0")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: must be positive, got 0
"""

import argparse

__all__ = ["positive", "non_negative"]


def parsed(kind, text):
    """``kind(text)``, or an argparse error saying what was expected."""
    try:
        return kind(text)
    except ValueError:
        expected = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def positive(kind):
    """An argparse type: ``kind`` (int or float) of a string, refusing zero, negatives, nan, inf."""
    def convert(text):
        value = parsed(kind, text)
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    convert.__name__ = f"positive {kind.__name__}"
    return convert


def non_negative(kind):
    """An argparse type: ``kind`` of a string, refusing negatives, nan and infinity."""
    def convert(text):
        value = parsed(kind, text)
        if not 0 <= value < float("inf"):
            raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
        return value
    convert.__name__ = f"non-negative {kind.__name__}"
    return convert
