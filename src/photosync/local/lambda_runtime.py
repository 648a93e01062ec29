"""Running Lambda handlers on one machine the way Lambda runs them.

Lambda gives each concurrent invocation its own execution environment: a process with its own copy
of every module and its own database connection, which handles one event at a time and is reused
for later events. `LocalLambdaRuntime` keeps a pool of such environments as worker processes. That
isolation is not a nicety: Powertools keeps the current event in a class attribute, so two events
handled at once in one process would see each other's requests.

Like Lambda, the runtime reads the metric documents (CloudWatch EMF) a handler prints: each
environment hands them back with the result, and the runtime adds them to `metrics`, which
`photosync serve` exposes at `/metrics`.
"""

from __future__ import annotations

import importlib
import io
import multiprocessing
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from photosync.local.metrics import LocalMetrics
from photosync.observability import EMF_PREFIX


class LocalLambdaContext:
    """The attributes of `LambdaContext` that handlers and Powertools read."""

    def __init__(self, function_name: str, timeout_seconds: int = 30) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self.memory_limit_in_mb = 1024
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class EnvironmentCrashed(RuntimeError):
    """The execution environment died while handling the event (as a Lambda runtime can)."""


class _MetricDocuments(io.TextIOBase):
    """This environment's stdout: EMF documents (one JSON line starting `EMF_PREFIX`) are kept for the
    runtime, as Lambda takes them out of a function's output; everything else is printed."""

    def __init__(self, out: Any) -> None:
        self._out = out
        self._line = ""
        self.documents: list[str] = []

    def write(self, text: str) -> int:
        *complete, self._line = (self._line + text).split("\n")
        for line in complete:
            if line.startswith(EMF_PREFIX):
                self.documents.append(line)
            else:
                self._out.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self._out.flush()

    def take(self) -> list[str]:
        taken, self.documents = self.documents, []
        return taken


def _handle_in_environment(function_name: str, handler: str, event: dict[str, Any]) -> tuple[Any, list[str]]:
    module_name, attribute = handler.rsplit(".", 1)
    function = getattr(importlib.import_module(module_name), attribute)
    stdout = sys.stdout
    try:
        return function(event, LocalLambdaContext(function_name)), stdout.take()
    except Exception as error:
        # A failed invocation's metrics count too (as in Lambda); they travel with the error.
        error.metric_documents = stdout.take()  # type: ignore[attr-defined]
        raise


def _start_environment(server_pid: int) -> None:
    sys.stdout = _MetricDocuments(sys.stdout)
    _exit_with_the_server(server_pid)


def _exit_with_the_server(server_pid: int) -> None:
    """Runs in each environment: a server killed with `kill -9` cannot stop its environments, and
    their task pipe never closes (they hold both ends), so each one watches for its parent to go."""

    def watch() -> None:
        while os.getppid() == server_pid:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _warm(handlers: tuple[str, ...]) -> None:
    for handler in handlers:
        importlib.import_module(handler.rsplit(".", 1)[0])


class LocalLambdaRuntime:
    def __init__(self, *, environments: int, metrics: LocalMetrics | None = None) -> None:
        self._environments = environments
        self._lock = threading.Lock()
        # Runtimes that share `metrics` show up together at `/metrics`, as one account's functions do.
        self.metrics = metrics or LocalMetrics()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # "spawn": a fresh interpreter per environment, configured by the environment variables the
        # server set, like a cold start; forking a threaded server would copy its locks mid-use.
        return ProcessPoolExecutor(
            max_workers=self._environments,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_environment,
            initargs=(os.getpid(),),
        )

    def warm_up(self, handlers: tuple[str, ...]) -> None:
        """Start every environment and import the handlers, so the first requests are not cold."""
        futures = [self._pool.submit(_warm, handlers) for _ in range(self._environments)]
        for future in futures:
            future.result()

    def function(self, name: str, handler: str) -> "LocalFunction":
        return LocalFunction(self, name, handler)

    def invoke(self, name: str, handler: str, event: dict[str, Any]) -> Any:
        pool = self._pool
        try:
            result, documents = pool.submit(_handle_in_environment, name, handler, event).result()
        except BrokenProcessPool as crash:
            # Lambda replaces an environment that died; the event that killed it fails.
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new_pool()
            pool.shutdown(wait=False, cancel_futures=True)
            raise EnvironmentCrashed(f"the {name} function's environment crashed") from crash
        except Exception as error:
            self.metrics.record(getattr(error, "metric_documents", []))
            raise
        self.metrics.record(documents)
        return result

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class LocalFunction:
    """One function of the template: a handler, invoked in the runtime's environments."""

    def __init__(self, runtime: LocalLambdaRuntime, name: str, handler: str) -> None:
        self.runtime = runtime
        self.name = name
        self.handler = handler

    def invoke(self, event: dict[str, Any]) -> Any:
        return self.runtime.invoke(self.name, self.handler, event)
