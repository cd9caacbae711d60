"""The one error type users see.

Any problem caused by the user's input (a suite file, a path, a value) raises `MusebenchError` with
a one-line message that names the file (file:line where it applies), the key or value, and the fix.
The CLI prints it without a traceback and exits with code 2.
"""


class MusebenchError(Exception):
    """Bad input: the message is one line that says what is wrong and how to fix it."""


class GateFailed(Exception):
    """A regression gate failed (CLI exit code 1). Not an input error."""
