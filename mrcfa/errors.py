"""Mistakes in what the user asked for or gave, told apart from bugs.

`mrcfa` prints a `UserError` as one last line, `error: …`, naming the culprit and what to do, and exits 2;
anything else is a bug and keeps its traceback. `mrcfa --debug` (or `MRCFA_DEBUG=1`) shows the traceback
of a mistake too.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence


class UserError(Exception):
    """A wrong name, value or file. `details` are lines printed before the one-line message (a list of
    problems, say), so that the message stays the last line."""

    def __init__(self, message: str, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.details = list(details)


class DataError(UserError, ValueError):
    """Data on disk, or asked for, that cannot be used: missing, malformed or out of range."""


def hint(name: str, known: Sequence[str], shown: int = 6) -> str:
    """'did you mean X?' when a known name is close to `name`, else the first few known names and how many."""
    close = difflib.get_close_matches(name, list(known), n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    more = f", … ({len(known)} in all)" if len(known) > shown else ""
    return f"known: {', '.join(known[:shown])}{more}"
