"""Seconds spent per phase of an unlearning run (stage 5's profile,
forget_report.json "phases_s"), and how long the process had been running
before the work began (start-up and imports)."""

import os
import time
from contextlib import contextmanager
from typing import Dict, Optional


class Phases:
    def __init__(self) -> None:
        self.seconds: Dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def process_age_s() -> Optional[float]:
    """Seconds since this process started (Linux /proc); None elsewhere."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
