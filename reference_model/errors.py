"""Errors the reference model raises on bad input (missing checkpoint, config mismatch, ...).

`musebench`'s CLI catches this and prints its one-line message with exit code 2.
"""


class ReferenceModelError(ValueError):
    """Bad input to the reference model: a one-line message naming the file or value and the fix."""
