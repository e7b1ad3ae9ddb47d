"""One rule for every progress bar: silent unless asked, or attached to a terminal when not specified."""

from __future__ import annotations

import sys


def bar_disabled(progress) -> bool:
    """tqdm's ``disable`` for ``progress`` = True (show), False (hide) or None (show on a terminal only)."""
    if progress is None:
        return not sys.stderr.isatty()
    return not progress
