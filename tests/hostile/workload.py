"""Pages for a ``CleaningPool`` in tests: module-level (a spawned worker imports them) and light to import."""

from __future__ import annotations

import os
import resource


def spin_or_pid(item: str) -> tuple[str, int, int]:
    """A page for the pool: "spin" loops in Python until stopped; "in C" stays in one C call that never
    looks at signals (some 8 s of ``sum``, out of a signal handler's reach); others report the worker
    and its RLIMIT_AS."""
    if item == "spin":
        while True:
            pass
    if item == "in C":
        sum(range(4 * 10**8))
    return item, os.getpid(), resource.getrlimit(resource.RLIMIT_AS)[0]
