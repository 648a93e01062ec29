"""The functions' metrics on one machine: the EMF documents their handlers print, as Prometheus
metrics for `/metrics` of `photosync serve` (counts as counters, durations as summaries in seconds).

The names follow Prometheus conventions: `UploadsGranted` is `photosync_uploads_granted_total`,
`SweepDuration` is `photosync_sweep_duration_seconds` (with `_count` and `_sum`).
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Summary, generate_latest

from photosync import observability

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_SECONDS_PER_UNIT = {"Milliseconds": 0.001, "Seconds": 1.0, "Microseconds": 0.000001}


def prometheus_name(name: str) -> str:
    return "photosync_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class LocalMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._lock = threading.Lock()
        self._counters: dict[str, Counter] = {}
        self._durations: dict[str, Summary] = {}
        # Every metric the functions can emit is there from the start, at zero.
        for name, unit in observability.METRICS.items():
            self._metric(name, unit.value)

    def _metric(self, name: str, unit: str) -> Counter | Summary:
        if unit in _SECONDS_PER_UNIT:
            if name not in self._durations:
                self._durations[name] = Summary(
                    prometheus_name(name) + "_seconds", f"{name} (EMF unit {unit}), in seconds", registry=self.registry
                )
            return self._durations[name]
        if name not in self._counters:
            self._counters[name] = Counter(prometheus_name(name), f"{name} (EMF unit {unit})", registry=self.registry)
        return self._counters[name]

    def record(self, documents: list[str]) -> None:
        """Add the EMF documents one invocation printed."""
        with self._lock:
            for document in map(json.loads, documents):
                for directive in document["_aws"]["CloudWatchMetrics"]:
                    for definition in directive["Metrics"]:
                        self._add(document, definition["Name"], definition.get("Unit", "None"))

    def _add(self, document: dict[str, Any], name: str, unit: str) -> None:
        values = document[name] if isinstance(document[name], list) else [document[name]]
        metric = self._metric(name, unit)
        for value in values:
            if isinstance(metric, Summary):
                metric.observe(value * _SECONDS_PER_UNIT[unit])
            else:
                metric.inc(value)

    def increment(self, name: str, value: float = 1) -> None:
        """A count measured by the runtime itself (the local store), not by a function's EMF."""
        with self._lock:
            self._metric(name, "Count").inc(value)

    def render(self) -> bytes:
        return generate_latest(self.registry)
