"""Ctrl-C and kill -9 on a real ``tematik run``: it stops at once, leaves nothing half-written,
and its temporary Prefect server does not outlive it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import DEMO

from flows import server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups, kill -9 and /proc"),
    pytest.mark.skipif(server._answers(server.LOCAL_SERVER), reason="a Prefect server runs on 127.0.0.1:4200"),
]

TEMATIK = Path(sys.executable).with_name("tematik")
SERVER_URL = re.compile(r"http://127\.0\.0\.1:(\d+)/api")
# Task runs (flows/tasks.py task_run_name) of the analysis proper, after ingestion and start-up.
ANALYSIS_TASKS = {"lemmatisér", "embeddings", "roller i notatet", "find emner", "tildel temaer"}


def _running_tasks(port: int) -> set[str]:
    """Names of the task runs the run's Prefect server records as running now."""
    body = json.dumps({"task_runs": {"state": {"type": {"any_": ["RUNNING"]}}}, "limit": 50}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/task_runs/filter", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return {run["name"] for run in json.load(response)}
    except OSError:
        return set()


class _Run:
    """``tematik run`` in its own process group, as a terminal runs it; stderr read as it comes."""

    def __init__(self, tmp_path: Path):
        self.out, self.models = tmp_path / "outputs", tmp_path / "models"
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env["PREFECT_HOME"] = str(tmp_path / "prefect")
        env["COLUMNS"] = "200"
        self.process = subprocess.Popen(
            [str(TEMATIK), "run", str(DEMO), "--out", str(self.out), "--models", str(self.models)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        self.lines: list[str] = []
        self.server_pids: set[int] = set()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip())

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, reached, what: str, timeout: float = 400) -> None:
        deadline = time.monotonic() + timeout
        while not reached():
            assert self.process.poll() is None, f"run ended early ({self.process.returncode}):\n{self.log[-3000:]}"
            assert time.monotonic() < deadline, f"no {what} within {timeout} s:\n{self.log[-3000:]}"
            self.server_pids |= _children(self.process.pid)
            time.sleep(0.1)
        self.server_pids |= _children(self.process.pid)

    def server_port(self) -> int | None:
        match = SERVER_URL.search(self.log)
        return int(match.group(1)) if match else None


def _children(pid: int) -> set[int]:
    """The Prefect server processes ``pid`` started."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) != pid:
            continue
        try:
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if b"prefect.server.api.server:create_app" in command:
            found.add(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _assert_nothing_half_written(folder: Path) -> None:
    """No run folder, no staging folder: the interrupted run left nothing to mistake for results."""
    left = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    assert not [name for name in left if name.endswith(".partial")], left
    assert left == [], f"{folder} holds {left} after an interrupted run"


@pytest.mark.timeout(600)
def test_ctrl_c_stops_the_run_within_5_s_with_exit_130_and_leaves_nothing(tmp_path):
    run = _Run(tmp_path)
    try:
        run.wait_for(lambda: run.server_port() and ANALYSIS_TASKS & _running_tasks(run.server_port()), "analysis")
        port = run.server_port()
        assert run.server_pids, f"no temporary Prefect server seen:\n{run.log}"
        interrupted = time.monotonic()
        os.killpg(run.process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        code = run.process.wait(timeout=30)
        took = time.monotonic() - interrupted
    finally:
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)
    time.sleep(0.2)  # the stderr reader catches the last lines
    assert code == 130, run.log[-3000:]
    assert took < 5, f"Ctrl-C took {took:.1f} s:\n{run.log[-3000:]}"
    assert "Afbrudt" in run.log
    assert "Traceback" not in run.log and "Connection refused" not in run.log, run.log[-3000:]
    _assert_nothing_half_written(run.out)
    _assert_nothing_half_written(run.models)
    assert not [pid for pid in run.server_pids if _running(pid)], "the temporary Prefect server still runs"
    assert not server._answers(f"http://127.0.0.1:{port}/api")


@pytest.mark.timeout(600)
def test_the_temporary_server_dies_with_a_killed_run(tmp_path):
    run = _Run(tmp_path)
    try:
        run.wait_for(lambda: "Prefect-serveren er klar" in run.log, "server ready")
        port = run.server_port()
        # A generous timeout: the run loads its models on both cores meanwhile, and a busy
        # server may take more than _answers' default half second to reply.
        assert run.server_pids and server._answers(f"http://127.0.0.1:{port}/api", timeout=10)
    finally:
        run.process.kill()  # SIGKILL to the run only: nothing of it gets to clean up
        run.process.wait()
    deadline = time.monotonic() + 5
    while any(_running(pid) for pid in run.server_pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in run.server_pids if _running(pid)], "the temporary Prefect server outlived the run"
    assert not server._answers(f"http://127.0.0.1:{port}/api")
    # The killed command could not remove its server's log folder; the next start does.
    left = list(Path(tempfile.gettempdir()).glob(f"{server.SERVER_FOLDER_PREFIX}{run.process.pid}-*"))
    assert len(left) == 1
    assert left[0] in server.remove_stale_server_folders() and not left[0].exists()


def test_stale_temporary_server_folders_are_removed_and_nothing_else(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"tematik-prefect-{dead.stdout.strip()}-k3j2"  # its command died (SIGKILL, SIGTERM)
    live = tmp_path / f"tematik-prefect-{os.getppid()}-x8d1"  # a command that still runs
    old, recent = tmp_path / "tematik-prefect-abc123xy", tmp_path / "tematik-prefect-def456zw"  # named before pids were
    for folder in (stale, live, old, recent):
        folder.mkdir()
        (folder / "server.log").write_text("")
    os.utime(old, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    assert sorted(server.remove_stale_server_folders(tmp_path)) == sorted([stale, old])
    assert live.exists() and recent.exists()


_EMBEDS_A_LONG_TEXT = """
import sys
from flows.server import exit_on_interrupt
from pipeline.embeddings import E5Embedder

embedder = E5Embedder()
embedder.embed(["varm op"])
text = " ".join(f"ord{i}" for i in range(300_000))  # ~2 MB: minutes in one call of e5's C engine
with exit_on_interrupt(grace=30.0):  # a hard exit after 30 s would hide a late Ctrl-C
    print("embedder", flush=True)
    try:
        embedder.embed([text])
    except KeyboardInterrupt:
        print("afbrudt", file=sys.stderr, flush=True)
        raise SystemExit(130)
"""


@pytest.mark.timeout(120)
def test_ctrl_c_stops_e5_while_it_embeds_a_long_text_within_5_s():
    process = subprocess.Popen(
        [sys.executable, "-c", _EMBEDS_A_LONG_TEXT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert process.stdout.readline().strip() == "embedder", process.stderr.read()
        time.sleep(1.0)  # well inside the native call
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=40)
        took = time.monotonic() - interrupted
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 130 and took < 5, (code, took)
    assert "afbrudt" in process.stderr.read()


_SWALLOWS_CTRL_C = """
import sys, time
from flows.server import exit_on_interrupt
with exit_on_interrupt(lambda: print("Afbrudt (hårdt)", file=sys.stderr), grace=1.0) as interrupt:
    interrupt.on_timeout(lambda: print("oprydning", file=sys.stderr))
    ready = False
    while True:  # code that catches KeyboardInterrupt and carries on (a retry loop, a library)
        try:
            if not ready:
                ready = print("klar", flush=True) or True
            time.sleep(0.05)
        except KeyboardInterrupt:
            pass
"""


def _interrupted_when_ready(script: str) -> tuple[subprocess.Popen, float]:
    """Run ``script`` in a child Python, wait until it prints "klar", send it Ctrl-C; the child and when it was sent."""
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert process.stdout.readline().strip() == "klar"
    interrupted = time.monotonic()
    process.send_signal(signal.SIGINT)
    return process, interrupted


@pytest.mark.timeout(60)
def test_a_run_that_swallows_ctrl_c_is_still_stopped_after_the_grace_time():
    process, interrupted = _interrupted_when_ready(_SWALLOWS_CTRL_C)
    code = process.wait(timeout=10)
    took = time.monotonic() - interrupted
    stderr = process.stderr.read()
    assert code == 130 and 0.9 < took < 3, (code, took, stderr)
    assert stderr.splitlines() == ["Afbrudt (hårdt)", "oprydning"]


_FAILS_WHILE_STOPPING = """
import sys, time
from flows.server import exit_on_interrupt
try:
    with exit_on_interrupt(grace=10.0):
        try:
            print("klar", flush=True)
            time.sleep(30)
        except KeyboardInterrupt:
            raise ValueError("Task run is not set")  # what Prefect's task engine raised on its way out
except KeyboardInterrupt:
    print("afbrudt", flush=True)
    sys.exit(130)
except ValueError as error:
    print(f"fejlede: {error}", flush=True)
    sys.exit(2)
"""


@pytest.mark.timeout(60)
def test_an_error_raised_while_stopping_on_ctrl_c_is_reported_as_the_interrupt():
    process, _ = _interrupted_when_ready(_FAILS_WHILE_STOPPING)
    code = process.wait(timeout=20)
    assert (code, process.stdout.read().strip()) == (130, "afbrudt"), process.stderr.read()
