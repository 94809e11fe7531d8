"""Work handed to a child process, so that a run uses a machine's second core.

Most of tematik's own stages are single-threaded Python, and lingua and numba hold the
GIL, so threads cannot overlap them; another process can. :func:`start` returns a
:class:`concurrent.futures.Future` at once: in a child process when asked, otherwise
already computed in this one. Two users, both only for large corpora where the seconds
saved outweigh a child's start (~0.5 s of Python and pandas):

- language detection (:meth:`pipeline.language.LanguageDetection.start`) at the lowest
  CPU priority beside the embedding and topic stages, taking the CPU they leave idle;
- the people's assignments CSV (:func:`pipeline.export.write_run`), written while this
  process writes the other files.

The child is ``python -m pipeline.processes``: the function and its arguments come
pickled on stdin, the result (or the exception) goes back pickled on stdout. Unlike
multiprocessing's spawn, it does not re-import the parent's ``__main__`` (the command
line, Prefect). Pickle is safe here: both ends are this process and its own child.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_LOW_PRIORITY_FLAG = "--low-priority"
# The interpreter a child runs (a test replaces it to make the child fail).
CHILD_COMMAND = [sys.executable]


class ChildProcessFailed(RuntimeError):
    """The child process died without a result (killed, out of memory, broken interpreter)."""


def start(function: Callable[..., Any], *args: Any, in_child: bool, low_priority: bool = False) -> Future:
    """``function(*args)`` as a future: in a child process when ``in_child``, else computed now.

    ``function`` and ``args`` must pickle (a module-level function, plain data, DataFrames).
    With ``low_priority`` the child runs at the lowest CPU priority (``nice 19``; idle
    priority class on Windows), so it only takes CPU that this process leaves idle.
    An exception that ``function`` raises in the child is raised by ``result()``, as in
    this process; a child that cannot start or dies without a result is logged, and
    ``function`` runs in this process instead: a run never depends on the child. A child
    stopped by Ctrl-C raises ``KeyboardInterrupt``.
    """
    if not in_child:
        done: Future = Future()
        try:
            done.set_result(function(*args))
        except Exception as error:  # noqa: BLE001 - handed to the caller through result(), as a child's would be
            done.set_exception(error)
        return done
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tematik-child")  # the thread waits on the child
    future = pool.submit(_in_child_or_here, function, args, low_priority)
    pool.shutdown(wait=False)  # returns now; the thread ends with the child
    return future


def _in_child_or_here(function: Callable[..., Any], args: tuple, low_priority: bool) -> Any:
    try:
        return _run_child(function, args, low_priority)
    except ChildProcessFailed as failure:
        log.warning("Child process for %s failed (%s); running it in this process", function.__qualname__, failure)
        return function(*args)


def _run_child(function: Callable[..., Any], args: tuple, low_priority: bool) -> Any:
    request = pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)
    package_root = str(Path(__file__).resolve().parents[1])  # the child imports this very pipeline package
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run(
            # -P: not the current directory first on sys.path (a folder there named pipeline would win).
        [*CHILD_COMMAND, "-P", "-m", "pipeline.processes", *([_LOW_PRIORITY_FLAG] if low_priority else [])],
            input=request, capture_output=True, env=environment, check=False,
            creationflags=getattr(subprocess, "IDLE_PRIORITY_CLASS", 0) if low_priority else 0,
        )  # fmt: skip
    except OSError as error:  # no interpreter to start
        raise ChildProcessFailed(str(error)) from None
    if done.returncode == -signal.SIGINT:  # Ctrl-C reached the child too: stop, do not redo its work here
        raise KeyboardInterrupt
    if done.returncode != 0 or not done.stdout:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ChildProcessFailed(lines[-1] if lines else f"exit code {done.returncode}")
    try:
        succeeded, value = pickle.loads(done.stdout)
    except Exception as error:  # noqa: BLE001 - a reply that does not unpickle is no reply
        raise ChildProcessFailed(f"unreadable reply ({type(error).__name__})") from None
    if not succeeded:
        raise value
    return value


def _main() -> None:
    if _LOW_PRIORITY_FLAG in sys.argv[1:] and hasattr(os, "nice"):
        os.nice(19)  # the parent's stages come first
    # The reply goes to the original stdout; anything the work prints (Python or C) goes to stderr.
    reply = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    function, args = pickle.loads(sys.stdin.buffer.read())
    try:
        outcome = (True, function(*args))
    except Exception as error:  # noqa: BLE001 - every error goes back to the parent, which raises it
        outcome = (False, error)
    try:
        payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an exception that does not pickle goes back as its text
        payload = pickle.dumps((False, RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]}")))
    with reply:
        reply.write(payload)


if __name__ == "__main__":
    _main()
