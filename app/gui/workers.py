"""Background work: one small helper over Qt's thread pool.

``run_task(fn, on_done, on_error)`` runs ``fn`` on a pool thread and calls
``on_done(result)`` or ``on_error(exception)`` on the GUI thread, through a
queued signal.  ``fn`` gets a :class:`TaskControl` to report progress and to
ask whether the user cancelled; it takes and returns plain data (frozen
records, tuples, lists) and never touches a widget or a model.  Only the
slots, on the GUI thread, do that (Picard's rule: never access the UI from a
background thread).

Tests pass a :class:`SynchronousPool`, which runs the task at once on the
calling thread, so no test has to wait for a thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class TaskControl:
    """What a running task may do: report progress, notice cancellation."""

    def __init__(self, signals: _TaskSignals) -> None:
        self._signals = signals
        self._cancelled = threading.Event()

    def progress(self, done: int, total: int, label: str) -> None:
        self._signals.progress.emit(done, total, label)

    def cancel(self) -> None:
        self._cancelled.set()

    def cancelled(self) -> bool:
        return self._cancelled.is_set()


class _TaskSignals(QObject):
    finished = Signal(object)
    failed = Signal(object)
    progress = Signal(int, int, str)


class Pool(Protocol):
    def start(self, runnable: QRunnable) -> None: ...


class _Runnable(QRunnable):
    def __init__(self, name: str, fn: Callable[[TaskControl], Any], task: Task) -> None:
        super().__init__()
        self._name = name
        self._fn = fn
        self._task = task
        self.setAutoDelete(True)

    def run(self) -> None:
        signals = self._task.signals
        try:
            result = self._fn(self._task.control)
        except Exception as exc:  # noqa: BLE001 - handed to on_error on the GUI thread
            # Only the type is logged: an exception may carry a value.
            log.info("task %s failed: %s", self._name, type(exc).__name__)
            signals.failed.emit(exc)
        else:
            signals.finished.emit(result)


class _Relay(QObject):
    """Receives a task's signals on the GUI thread and calls the callbacks.

    The receiver must be a QObject living on the GUI thread: a signal
    connected to a plain Python function would run it on the emitting
    (pool) thread.
    """

    def __init__(self, task: Task, on_done: Callable[[Any], None],
                 on_error: Callable[[BaseException], None],
                 on_progress: Callable[[int, int, str], None] | None) -> None:
        super().__init__()
        self._task = task
        self._on_done = on_done
        self._on_error = on_error
        self._on_progress = on_progress

    @Slot(object)
    def finished(self, result: Any) -> None:
        self._task.done = True
        self._on_done(result)

    @Slot(object)
    def failed(self, exc: BaseException) -> None:
        self._task.done = True
        self._on_error(exc)

    @Slot(int, int, str)
    def progress(self, done: int, total: int, label: str) -> None:
        if self._on_progress is not None:
            self._on_progress(done, total, label)


class Task:
    """A handle on one background task: cancel it, or follow its progress."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.signals = _TaskSignals()
        self.control = TaskControl(self.signals)
        self.done = False
        self.relay: _Relay | None = None

    def cancel(self) -> None:
        self.control.cancel()

    def __repr__(self) -> str:
        return f"<Task {self.name} done={self.done}>"


def run_task(
    name: str,
    fn: Callable[[TaskControl], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
    *,
    on_progress: Callable[[int, int, str], None] | None = None,
    pool: Pool | None = None,
) -> Task:
    """Run ``fn(control)`` in the background; the callbacks run on the GUI thread."""
    task = Task(name)
    # The relay lives on this (the GUI) thread: signals emitted on the pool
    # thread are queued to it, so the callbacks run here.
    task.relay = relay = _Relay(task, on_done, on_error, on_progress)
    task.signals.finished.connect(relay.finished)
    task.signals.failed.connect(relay.failed)
    task.signals.progress.connect(relay.progress)
    (pool or QThreadPool.globalInstance()).start(_Runnable(name, fn, task))
    return task


class SynchronousPool:
    """A pool that runs each task immediately, on the caller's thread (tests)."""

    def start(self, runnable: QRunnable) -> None:
        runnable.run()
