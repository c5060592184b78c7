"""Whether work may go to a forked worker process: the cold path of a large project
(reading transcripts, decoding coding logs) uses a spare core when there is one.

A forked child starts without importing anything again and shares the parent's memory
until either writes to it; it is unsafe in a process running threads (the child would
inherit their locks held) and pointless on a machine whose cores are all busy.
"""

from __future__ import annotations

import os
import sys
import threading


def idle_cores(cores: int) -> float:
    """About how many of ``cores`` nothing else is using: the last minute's load, less
    the one this process makes."""
    try:
        return cores - max(0.0, os.getloadavg()[0] - 1)
    except OSError:
        return cores


def spare_cores() -> int:
    """How many worker processes may be forked now besides this one (0: none)."""
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return 0
    cores = len(os.sched_getaffinity(0))
    # With no core to spare besides this process's (give or take half a core: the load
    # average lags), a worker only adds its own cost to a busy machine.
    if cores < 2 or idle_cores(cores) < 1.5:
        return 0
    return cores - 1
