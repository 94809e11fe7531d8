"""The Prefect API a command-line run reports to, and how a run stops on Ctrl-C.

A flow run needs a Prefect API. ``tematik run`` finds one in this order and says in the
log which one it uses:

1. ``PREFECT_API_URL`` (environment or the active Prefect profile): that server;
2. a local server answering on ``http://127.0.0.1:4200`` (``prefect server start``);
3. otherwise a *temporary* server on a free local port, started in the background the
   moment the command has found its inputs, so it boots while the inputs are checked and
   spaCy, BERTopic and the models load (3–4 s on an idle 2-core machine, about as long
   as the server takes), and stopped when the command ends. Once it answers, it sends
   itself the first request of each part of the API a run uses (:data:`WARM_UP_REQUESTS`),
   so the run does not wait for that one-time work.

Use::

    from flows.server import prefect_api, exit_on_interrupt

    with exit_on_interrupt() as interrupt, prefect_api(log) as api:   # returns at once
        interrupt.on_timeout(api.stop)       # a hard exit still stops the server
        ...check the inputs, load models, import the flows...
        api.wait()                           # blocks (up to 120 s) until the API answers
        with api.run_settings():             # no heartbeats for a temporary server
            workshop_flow(...)

The temporary server never outlives the command: it is stopped on leaving the block,
and it dies with the command even after ``kill -9`` (Linux ``PR_SET_PDEATHSIG``, plus a
watchdog thread in the server process that exits when its parent is gone, for other
systems). It runs in its own process group, so a Ctrl-C in the terminal reaches only the
command, which then stops its flow run, reports it to the still-running server and stops
the server.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.danish import number

LOCAL_SERVER = "http://127.0.0.1:4200/api"
#: How long to wait for a temporary server to answer. Measured: 7–9 s warm and 20–25 s
#: with a fresh Prefect home (database migrations) on an idle 2-core machine; several
#: times that under load. Prefect's own default (20 s) made first runs fail.
STARTUP_TIMEOUT = float(os.environ.get("TEMATIK_PREFECT_STARTUP_TIMEOUT", "120"))
#: The temporary server's log folder in the temp dir: ``tematik-prefect-<pid of the command>-<random>``.
SERVER_FOLDER_PREFIX = "tematik-prefect-"
#: Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED_EXIT_CODE = 130

logger = logging.getLogger("tematik.server")
logger.setLevel(logging.INFO)  # shown by the command's progress display (a handler on "tematik")


class PrefectServerError(RuntimeError):
    """The Prefect API could not be reached; the message says what to do (Danish)."""


#: Read-only requests, one per part of the API a run calls (its flow run, states, logs,
#: artifacts, events). FastAPI builds a router's routes on the first request that reaches
#: it, and the server's first queries set up SQLAlchemy and pydantic: 0.2-0.4 s per part, on
#: the run's path when the run makes that first request. The temporary server makes them
#: itself as soon as it answers, while the run still loads its models.
WARM_UP_REQUESTS = (
    ("GET", "/admin/version", None),
    ("POST", "/flows/filter", {"limit": 1}),
    ("POST", "/flow_runs/filter", {"limit": 1}),
    ("POST", "/task_runs/filter", {"limit": 1}),
    ("POST", "/logs/filter", {"limit": 1}),
    ("POST", "/artifacts/filter", {"limit": 1}),
    ("POST", "/events/filter", {"limit": 1}),
)

# Runs inside the server process before uvicorn: die with the parent process, also after
# SIGKILL. prctl is Linux; the polling thread covers other systems and the moment between
# fork and prctl (if the parent is already gone, exit at once). A second thread sends
# WARM_UP_REQUESTS once the server answers.
_LAUNCHER = """
import json, os, sys, threading, time, urllib.request
parent, api, warm_up = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
if sys.platform.startswith("linux"):
    import ctypes, signal
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
def request(method, path, body, timeout):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(api + path, data, headers, method=method), timeout=timeout):
        pass
def warm():
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            request("GET", "/health", None, 0.5)
            break
        except Exception:
            time.sleep(0.05)
    for method, path, body in warm_up:
        try:
            request(method, path, body, 60)
        except Exception:
            pass
if os.getppid() != parent:
    os._exit(0)
threading.Thread(target=watch, daemon=True, name="tematik-parent-watch").start()
threading.Thread(target=warm, daemon=True, name="tematik-warm-up").start()
sys.argv = ["uvicorn", *sys.argv[4:]]
import runpy
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
"""


def _answers(api_url: str, timeout: float = 0.5) -> bool:
    """Whether ``<api_url>/health`` answers 200 (urllib: no Prefect import needed)."""
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):  # URLError, ConnectionRefused, timeouts are OSErrors
        return False


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _profile_api_url() -> str | None:
    """PREFECT_API_URL of the active Prefect profile, read without importing Prefect (3 s)."""
    import tomllib

    home = Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH", home / "profiles.toml")).expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active", "ephemeral")
    url = (profiles.get("profiles", {}).get(active) or {}).get("PREFECT_API_URL")
    return str(url) if url else None


@dataclass
class PrefectApi:
    """The API a run reports to: ``url``, ``kind`` and, for a temporary server, its process."""

    url: str
    kind: str  # "configured" (PREFECT_API_URL), "running" (127.0.0.1:4200) or "temporary"
    log: Callable[[str], object]
    startup_timeout: float = STARTUP_TIMEOUT
    process: subprocess.Popen | None = None
    started: float = field(default_factory=time.monotonic)
    ready_after: float | None = None  # seconds from start until the API answered
    fresh_home: bool = False  # no Prefect database yet: the first start creates it (slower)
    _stderr: Path | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def wait(self) -> float:
        """Block until the API answers; seconds waited here. Raises PrefectServerError."""
        if self.ready_after is not None:
            return 0.0
        began = time.monotonic()
        if self.kind != "temporary":
            if not _answers(self.url, timeout=5):
                raise PrefectServerError(
                    f"Prefect-serveren på {self.url} svarer ikke; start den (`prefect server start`) "
                    "eller fjern PREFECT_API_URL, så starter tematik selv en midlertidig server."
                )
            self.ready_after = time.monotonic() - self.started
            return time.monotonic() - began
        deadline = self.started + self.startup_timeout
        told = time.monotonic()
        if not _answers(self.url):
            first = " (første gang opretter den sin database)" if self.fresh_home else ""
            self.log(f"Venter på at den midlertidige Prefect-server svarer{first}; højst {self.startup_timeout:.0f} s …")
        while not _answers(self.url):
            now = time.monotonic()
            if self.process is not None and self.process.poll() is not None:
                raise PrefectServerError(
                    f"Den midlertidige Prefect-server stoppede under opstarten (kode {self.process.returncode})"
                    f"{self._stderr_tail()}"
                )
            if now >= deadline:
                self.stop()
                raise PrefectServerError(
                    f"Den midlertidige Prefect-server svarede ikke inden for {self.startup_timeout:.0f} s "
                    f"({self.url}/health). Maskinen er måske meget belastet: sæt "
                    "TEMATIK_PREFECT_STARTUP_TIMEOUT højere, eller start en server selv "
                    "(`prefect server start`) og sæt PREFECT_API_URL=http://127.0.0.1:4200/api."
                )
            if now - told >= 15:
                self.log(f"Venter stadig på Prefect-serveren: {now - self.started:.0f} s af højst {self.startup_timeout:.0f} s …")
                told = now
            time.sleep(0.1)
        self.ready_after = time.monotonic() - self.started
        waited = time.monotonic() - began
        self.log(f"Prefect-serveren er klar ({number(self.ready_after, 1)} s efter start; ventede {number(waited, 1)} s på den).")
        return waited

    def announce(self) -> None:
        """Say which API the run reports to (one log line)."""
        self.log({
            "configured": f"Prefect: bruger serveren på {self.url} (PREFECT_API_URL).",
            "running": f"Prefect: bruger den kørende lokale server på {self.url} (kørslen ses i dens UI).",
            "temporary": f"Prefect: starter en midlertidig server på {self.url} i baggrunden, mens modellerne indlæses.",
        }[self.kind])

    @contextlib.contextmanager
    def run_settings(self) -> Iterator[None]:
        """Prefect settings for the flow runs of the block (Prefect imported). For a temporary
        server: no heartbeats. They tell a lasting server that a run has crashed; a temporary
        one dies with the command. And the flow run's end waits for the heartbeat thread,
        which sleeps in 1 s steps: 0.5 s on average."""
        if self.kind != "temporary":
            yield
            return
        from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield

    def _stderr_tail(self) -> str:
        try:
            lines = self._stderr.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except (OSError, AttributeError):
            return ""
        return f": {lines[-1][:200]}" if lines else ""

    def stop(self, timeout: float = 3.0) -> None:
        """Stop the temporary server (SIGTERM, SIGKILL after ``timeout``); no-op for other kinds."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._stderr is not None:
            shutil.rmtree(self._stderr.parent, ignore_errors=True)


def remove_stale_server_folders(parent: Path | None = None) -> list[Path]:
    """Remove the temporary servers' log folders (``/tmp/tematik-prefect-<pid>-*``) of commands
    that died without their cleanup (SIGTERM, SIGKILL, a power cut); a live command's stays."""
    from pipeline.atomic import process_alive

    removed = []
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{SERVER_FOLDER_PREFIX}*"):
        pid = folder.name[len(SERVER_FOLDER_PREFIX) :].split("-", 1)[0]
        try:
            info = folder.stat()
        except OSError:
            continue
        if not folder.is_dir() or info.st_uid != getattr(os, "getuid", lambda: info.st_uid)():
            continue
        if pid.isdigit() and "-" in folder.name[len(SERVER_FOLDER_PREFIX) :]:
            stale = int(pid) != os.getpid() and not process_alive(int(pid))
        else:  # named by an older tematik, without the pid: stale when a day old
            stale = time.time() - info.st_mtime > 24 * 3600
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


# Prefect's own launcher, ``prefect.server.api.server.SubprocessASGIServer`` (what its ephemeral
# mode and ``prefect_test_harness`` use), runs the same uvicorn command with the same settings,
# but cannot do the job here: ``start()`` blocks until the server answers, and it needs Prefect
# imported first (~3 s), so the server could not boot while the models load; its server shares
# the terminal's process group (a Ctrl-C would stop it before the flow run is reported) and
# outlives a killed command. So the command line is its, started our way.
def _start_temporary_server(log: Callable[[str], object], startup_timeout: float) -> PrefectApi:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    import importlib.util

    # uvicorn's --app-dir: the folder holding the prefect package, as Prefect's own ephemeral server.
    prefect_dir = Path(importlib.util.find_spec("prefect").origin).parent.parent
    remove_stale_server_folders()
    stderr_dir = Path(tempfile.mkdtemp(prefix=f"{SERVER_FOLDER_PREFIX}{os.getpid()}-"))
    stderr_path = stderr_dir / "server.log"
    env = {
        **os.environ,
        # As Prefect's own ephemeral server: no UI, ephemeral-mode services.
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [
                sys.executable, "-c", _LAUNCHER, str(os.getpid()), url, json.dumps(WARM_UP_REQUESTS),
                "--app-dir", str(prefect_dir), "--factory", "prefect.server.api.server:create_app",
                "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            # Own process group: a Ctrl-C in the terminal goes to tematik only, which stops the
            # flow run, reports it to the server, and then stops the server itself.
            start_new_session=True,
        )
    home = Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser()
    api = PrefectApi(
        url=url, kind="temporary", log=log, startup_timeout=startup_timeout, process=process,
        fresh_home=not (home / "prefect.db").exists(),
    )
    api._stderr = stderr_path
    return api


def find_or_start_api(
    log: Callable[[str], object] | None = None, startup_timeout: float | None = None, *, announce: bool = True
) -> PrefectApi:
    """The configured or running Prefect API, or a temporary server being started (not waited for);
    ``announce``: say which at once (else call ``api.announce()``)."""
    log = log or logger.info
    startup_timeout = STARTUP_TIMEOUT if startup_timeout is None else startup_timeout
    configured = os.environ.get("PREFECT_API_URL") or _profile_api_url()
    if "prefect.settings" in sys.modules and not configured:
        # Prefect already imported (tests, Python use): its settings may come from anywhere.
        from prefect.settings import get_current_settings

        configured = get_current_settings().api.url
    if configured:
        api = PrefectApi(url=configured, kind="configured", log=log, startup_timeout=startup_timeout)
    elif _answers(LOCAL_SERVER):
        api = PrefectApi(url=LOCAL_SERVER, kind="running", log=log, startup_timeout=startup_timeout)
    else:
        api = _start_temporary_server(log, startup_timeout)
    if announce:
        api.announce()
    return api


def _drain_prefect_workers(timeout: float) -> None:
    """Send queued logs and events before the server goes away (Prefect drains them only at exit)."""
    if "prefect.logging.handlers" in sys.modules:
        from prefect.logging.handlers import APILogWorker

        with contextlib.suppress(Exception):
            APILogWorker.drain_all(timeout=timeout, at_exit=False)
    if "prefect.events.worker" in sys.modules:
        from prefect.events.worker import EventsWorker

        with contextlib.suppress(Exception):
            EventsWorker.drain_all(timeout=timeout, at_exit=False)


@contextlib.contextmanager
def prefect_api(
    log: Callable[[str], object] | None = None, *, startup_timeout: float | None = None, announce: bool = True
) -> Iterator[PrefectApi]:
    """Point Prefect at an API for the block; a temporary server is started now and stopped after.

    Returns at once: call ``api.wait()`` right before the first flow call. ``log`` gets one
    Danish line per event (default: the ``tematik.server`` logger); ``announce=False`` leaves
    the first, which API, to ``api.announce()``. Enter it on the main thread: Linux ties the
    server's life to the thread that started it.
    """
    api = find_or_start_api(log, startup_timeout, announce=announce)
    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = api.url  # for a Prefect imported inside the block
    try:
        with contextlib.ExitStack() as stack:
            if "prefect.settings" in sys.modules:  # already imported: its settings are fixed
                from prefect.settings import PREFECT_API_URL, temporary_settings

                stack.enter_context(temporary_settings(updates={PREFECT_API_URL: api.url}))
            try:
                yield api
            finally:
                if api.process is not None and api.ready_after is not None:
                    _drain_prefect_workers(timeout=2.0)
    finally:
        api.stop()
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous


def remove_own_staging(*parents: Path | str) -> None:
    """Remove this process's staging folders under ``parents`` (before a hard exit skips their cleanup)."""
    from pipeline.atomic import own_staging

    for parent in parents:
        for folder in own_staging(Path(parent)):
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class _Interrupt:
    grace: float
    message: Callable[[], object]
    cleanups: list[Callable[[], object]] = field(default_factory=list)
    interrupted_at: float | None = None
    handled: bool = False  # the block was left: the command has said "Afbrudt" itself

    def on_timeout(self, cleanup: Callable[[], object]) -> None:
        """Run ``cleanup`` before a hard exit (when Ctrl-C did not end the run within the grace time)."""
        self.cleanups.append(cleanup)

    def _skip_teardown(self) -> None:
        """atexit, registered first so it runs last: after an interrupt, exit without the
        interpreter's teardown of torch, numba & co. (measured: 3–4 s on a busy machine)."""
        if self.interrupted_at is not None:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(INTERRUPTED_EXIT_CODE)

    def _hard_exit(self) -> None:
        if not self.handled:
            self.message()
        for cleanup in self.cleanups:
            with contextlib.suppress(BaseException):
                cleanup()
        os._exit(INTERRUPTED_EXIT_CODE)


@contextlib.contextmanager
def exit_on_interrupt(
    message: Callable[[], object] | None = None, *, grace: float = 3.0
) -> Iterator[_Interrupt]:
    """Ctrl-C ends the run within ``grace`` seconds, whatever the run is doing.

    The first SIGINT raises KeyboardInterrupt as usual (so staging folders are removed, the
    flow run is reported as crashed and the server stopped by their own ``finally``), and
    starts a timer: a run still alive after ``grace`` s (stuck in native code, a retry, a
    slow API) prints ``message``, runs the ``on_timeout`` cleanups and exits with 130. A
    second Ctrl-C exits at once the same way. An interrupted process skips the interpreter's
    final teardown (after the atexit handlers) and exits with 130. Main thread only (Python
    delivers signals there).
    """
    message = message or (lambda: print("Afbrudt.", file=sys.stderr))
    interrupt = _Interrupt(grace=grace, message=message)

    def handle(signum, frame):  # noqa: ARG001 - signal handler signature
        if interrupt.interrupted_at is not None:
            interrupt._hard_exit()
        interrupt.interrupted_at = time.monotonic()
        timer = threading.Timer(grace, interrupt._hard_exit)
        timer.daemon = True
        timer.start()
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield interrupt
        return
    previous = signal.signal(signal.SIGINT, handle)
    atexit.register(interrupt._skip_teardown)
    try:
        yield interrupt
    except Exception:
        # After Ctrl-C, what the run's cleanup raised on the way out (Prefect: "Task run is
        # not set") is the interrupt, not a failure of its own: reported as Ctrl-C (exit 130).
        if interrupt.interrupted_at is not None:
            raise KeyboardInterrupt from None
        raise
    finally:
        # After an interrupt the timer keeps running: the exit itself is bounded too.
        interrupt.handled = True
        signal.signal(signal.SIGINT, previous)
        if interrupt.interrupted_at is None:
            atexit.unregister(interrupt._skip_teardown)
