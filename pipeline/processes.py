"""Work handed to a child process, so that a run uses a machine's second core.

Most of tematik's own stages are single-threaded Python, and lingua and numba hold the
GIL, so threads cannot overlap them; another process can. :func:`start` returns a
:class:`concurrent.futures.Future` at once: in a child process when asked, otherwise
already computed in this one. Two users, both only for large corpora where the seconds
saved outweigh a child's start (~0.7 s of Python, loky and pandas; busy 2 cores):

- language detection (:meth:`pipeline.language.LanguageDetection.start`) at the lowest
  CPU priority beside the embedding and topic stages, taking the CPU they leave idle;
- both assignments CSVs, for people and in ``data/`` (:func:`pipeline.export.write_run`), written while this
  process writes the other files.

The child is a one-worker process pool from loky (joblib's, installed with scikit-learn):
``concurrent.futures``' interface on a fresh interpreter, as the standard library's
``spawn``, but one that does not re-import the parent's ``__main__`` (the command line,
Prefect, or a user's script without a ``__main__`` guard, which ``spawn`` would run again).
Not ``fork``: it would copy a parent that runs threads (Prefect's, torch's) in the middle
of their work. (Measured on a busy 2-core machine: a trivial call takes 0.5-1.1 s with
loky, 0.1-0.3 s with ``spawn`` and with the hand-written child this replaced; the child
works beside stages that take longer, so its start is off the run's critical path.)
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from joblib.externals.loky import ProcessPoolExecutor
from joblib.externals.loky.backend.context import LokyContext

log = logging.getLogger(__name__)

#: A child's exit code when Ctrl-C stopped it (128 + SIGINT, as shells report it).
INTERRUPTED = 128 + signal.SIGINT


def start(function: Callable[..., Any], *args: Any, in_child: bool, low_priority: bool = False) -> Future:
    """``function(*args)`` as a future: in a child process when ``in_child``, else computed now.

    ``function`` and ``args`` must pickle (a module-level function, plain data, DataFrames).
    With ``low_priority`` the child runs at the lowest CPU priority (``nice 19``; idle
    priority class on Windows), so it only takes CPU that this process leaves idle. An
    exception that ``function`` raises in the child is raised by ``result()``, as in this
    process; a child that cannot start or dies without a result is logged, and ``function``
    runs in this process instead: a run never depends on the child. A child stopped by
    Ctrl-C raises ``KeyboardInterrupt``.
    """
    if not in_child:
        done: Future = Future()
        try:
            done.set_result(function(*args))
        except Exception as error:  # noqa: BLE001 - handed to the caller through result(), as a child's would be
            done.set_exception(error)
        return done
    waiter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tematik-child")  # the thread waits on the child
    future = waiter.submit(_in_child_or_here, function, args, low_priority)
    waiter.shutdown(wait=False)  # returns now; the thread ends with the child
    return future


class _Context(LokyContext):
    """loky's context, keeping the worker it starts: its exit code tells a Ctrl-C from a crash,
    which the pool reports alike (``BrokenProcessPool``)."""

    def __init__(self) -> None:
        super().__init__()
        self.workers: list = []

    def Process(self, *args, **kwargs):  # noqa: N802 - the name the pool calls
        worker = super().Process(*args, **kwargs)
        self.workers.append(worker)
        return worker


def _in_child_or_here(function: Callable[..., Any], args: tuple, low_priority: bool) -> Any:
    context = _Context()
    child = ProcessPoolExecutor(max_workers=1, context=context, initializer=_start_worker, initargs=(low_priority,))
    try:
        try:
            submitted = child.submit(function, *args)
        except OSError as error:  # no interpreter to start
            return _here(function, args, str(error))
        try:
            return submitted.result()
        except BrokenProcessPool as broken:
            worker = context.workers[0] if context.workers else None
            if worker is not None:
                worker.join(timeout=5)  # the pool reports the break before it reaps the worker
            code = None if worker is None else worker.exitcode
            if code in (INTERRUPTED, -signal.SIGINT):  # Ctrl-C reached the child too: stop, do not redo its work here
                raise KeyboardInterrupt from None
            return _here(function, args, f"exit code {code}" if code is not None else str(broken))
    finally:
        child.shutdown(wait=True)  # the worker reaped, as a finished child is (its CPU counts as the run's)


def _here(function: Callable[..., Any], args: tuple, reason: str) -> Any:
    log.warning("Child process for %s failed (%s); running it in this process", function.__qualname__, reason)
    return function(*args)


def _start_worker(low_priority: bool) -> None:
    """The child's set-up: lowest CPU priority when asked (the parent's stages come first), and
    Ctrl-C ends it with :data:`INTERRUPTED` wherever it is, so the parent can tell."""
    if low_priority and hasattr(os, "nice"):
        os.nice(19)
    elif low_priority and sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        kernel32.SetPriorityClass(kernel32.GetCurrentProcess(), 0x40)  # IDLE_PRIORITY_CLASS
    signal.signal(signal.SIGINT, lambda *_: os._exit(INTERRUPTED))
