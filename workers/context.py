"""The StepContext a step function receives at run time (see backend.steps.StepContext)."""

from __future__ import annotations

import io
import logging
import math
import threading
from collections.abc import Callable

from backend.jobs.attempts import Claim, Records
from workers.storable import storable_text

LEVELS = ("debug", "info", "warning", "error")
MAX_LINE = 10_000


class StepInterrupted(BaseException):
    """Raised inside a step to stop it; not an error of the step's own."""


class StepTimedOut(StepInterrupted):
    pass


class StepCancelled(StepInterrupted):
    pass


class ColdShutdown(SystemExit):
    """rq's forced stop of a worker (a second SIGTERM/SIGINT), raised into a step running
    in a SimpleWorker: not the step's failure; the attempt ends as lost with its lease."""


class RunContext:
    def __init__(self, claim: Claim) -> None:
        self.job_id = str(claim.job_id)
        self.step_key = claim.step_key
        self.attempt = claim.attempt_number
        self.input = claim.input
        self.params = claim.params
        self.upstream = claim.upstream
        self.mode = claim.mode
        self.item_id = claim.item_id
        self.payload = claim.payload
        self.records = Records()
        self.lock = threading.Lock()
        self.progress_value: float | None = None
        self.beat_now = threading.Event()
        self._cancelled = threading.Event()
        self.interrupt: Callable[[], None] | None = None  # set while the step runs

    def log(self, message: str, level: str = "info") -> None:
        level = level.lower() if level.lower() in LEVELS else "info"
        line = storable_text(str(message)[:MAX_LINE])
        with self.lock:
            self.records.logs.append((level, line))

    def progress(self, fraction: float) -> None:
        self.progress_value = min(max(float(fraction), 0.0), 1.0)

    def cost(
        self,
        amount_usd: float | None = None,
        *,
        provider: str | None = None,
        model: str | None = None,
        tokens_in: int = 0,
        tokens_out: int = 0,
        kind: str | None = None,
    ) -> None:
        if amount_usd is None or not math.isfinite(amount_usd) or amount_usd < 0:
            raise ValueError("cost() needs a finite amount_usd >= 0")
        entry = {
            "kind": kind or ("llm" if model or tokens_in or tokens_out else "compute"),
            "provider": provider,
            "model": model,
            "tokens_in": int(tokens_in),
            "tokens_out": int(tokens_out),
            "amount_usd": float(amount_usd),
        }
        with self.lock:
            self.records.costs.append(entry)

    def metric(self, name: str, value: float, unit: str | None = None) -> None:
        name = storable_text(str(name)[:100])
        with self.lock:
            self.records.metrics.append((name, float(value), unit and storable_text(unit)))

    def heartbeat(self) -> None:
        """Ask for a heartbeat now (long loops call this); raises if the job was cancelled."""
        self.beat_now.set()
        if self.cancelled:
            raise StepCancelled("the job was cancelled")

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def mark_cancelled(self) -> None:
        self._cancelled.set()

    def put_back_logs(self, logs: list[tuple[str, str]]) -> None:
        """Logs a heartbeat took but could not save, ahead of newer ones."""
        with self.lock:
            self.records.logs[:0] = logs

    def take_logs(self) -> list[tuple[str, str]]:
        with self.lock:
            logs, self.records.logs = self.records.logs, []
        return logs


class LogCapture(io.TextIOBase):
    """stdout of a step, as log lines of its attempt."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.buffer_ = ""

    def write(self, text: str) -> int:
        self.buffer_ += text
        *lines, self.buffer_ = self.buffer_.split("\n")
        for line in lines:
            if line.strip():
                self.ctx.log(line)
        return len(text)

    def flush(self) -> None:
        if self.buffer_.strip():
            self.ctx.log(self.buffer_)
        self.buffer_ = ""


class LogHandler(logging.Handler):
    """`logging` records emitted by the step's thread, as log lines of its attempt."""

    def __init__(self, ctx: RunContext, thread_id: int) -> None:
        super().__init__(logging.INFO)
        self.ctx = ctx
        self.thread_id = thread_id

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread_id and not record.name.startswith(
            ("rq", "backend", "workers")
        ):
            self.ctx.log(record.getMessage(), record.levelname.lower())
