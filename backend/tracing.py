"""OpenTelemetry tracing, optional and off by default: a span per API request and per step
attempt. `pip install 'jobmonitor[tracing]'` and `JOBMONITOR_TRACING=otlp` (the OTLP/HTTP
exporter, configured by the standard OTEL_EXPORTER_OTLP_* variables) or `console`.

Off, `span()` hands out a do-nothing span and nothing of OpenTelemetry is imported. The
tracer provider is this module's own (not OpenTelemetry's global one), set up once per
process on first use; `configure(exporter)` replaces it (the tests' in-memory exporter).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from backend.settings import get_settings

SERVICE = "jobmonitor"


class Span(Protocol):
    def set_attribute(self, key: str, value: Any) -> Any: ...
    def update_name(self, name: str) -> Any: ...
    def set_status(self, status: Any, description: str | None = None) -> Any: ...


class _NoSpan:
    def set_attribute(self, key: str, value: Any) -> None:
        return None

    def update_name(self, name: str) -> None:
        return None

    def set_status(self, status: Any, description: str | None = None) -> None:
        return None


_tracer: Any = None
_tracer_pid: int | None = None


def enabled() -> bool:
    return get_settings().tracing != "off"


def configure(exporter: Any = None) -> None:
    """Set up this process's tracer: `exporter` (synchronous export), or the configured one
    (batched export)."""
    global _tracer, _tracer_pid
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as exc:
        raise RuntimeError(
            "JOBMONITOR_TRACING needs the tracing extra: pip install 'jobmonitor[tracing]'"
        ) from exc
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        provider.add_span_processor(BatchSpanProcessor(_configured_exporter()))
    _tracer, _tracer_pid = provider.get_tracer("jobmonitor"), os.getpid()


def _configured_exporter() -> Any:
    if get_settings().tracing == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def mark_error(current: Span, description: str) -> None:
    """Give the span the error status (a failed attempt, a 5xx answer)."""
    if isinstance(current, _NoSpan):
        return
    from opentelemetry.trace import Status, StatusCode

    current.set_status(Status(StatusCode.ERROR, description))


def reset() -> None:
    """Forget the tracer (tests)."""
    global _tracer, _tracer_pid
    _tracer, _tracer_pid = None, None


@contextmanager
def span(name: str, kind: str = "internal", **attributes: Any) -> Iterator[Span]:
    """A span around the block when tracing is on (an exception marks it as an error); else a
    span that records nothing. `kind`: internal, server or consumer."""
    if not enabled():
        yield _NoSpan()
        return
    if _tracer is None or _tracer_pid != os.getpid():
        configure()
    from opentelemetry.trace import SpanKind

    kinds = {"server": SpanKind.SERVER, "consumer": SpanKind.CONSUMER}
    values = {k: v for k, v in attributes.items() if v is not None}
    with _tracer.start_as_current_span(
        name, kind=kinds.get(kind, SpanKind.INTERNAL), attributes=values
    ) as current:
        yield current
