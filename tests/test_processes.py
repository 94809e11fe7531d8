"""pipeline.processes: work in a real child process (a one-worker loky process pool)."""

from __future__ import annotations

import logging
import os
import signal
import sys

import pytest

from pipeline import processes
from pipeline.errors import InputError
from pipeline.taxonomy import load_taxonomy


def die_in_a_child(parent: int) -> int:
    """Kills the process it runs in, unless that is ``parent``."""
    if os.getpid() != parent:
        os._exit(3)
    return parent


def ctrl_c_in_a_child(parent: int) -> int:
    """Ctrl-C to the process it runs in, unless that is ``parent`` (which would then count the call)."""
    if os.getpid() == parent:
        raise AssertionError("redone in the parent")
    os.kill(os.getpid(), signal.SIGINT)
    return parent


def test_in_child_runs_in_another_process_at_low_priority_when_asked():
    here = os.getpid()
    assert processes.start(os.getpid, in_child=True).result(timeout=60) != here
    niceness = os.nice(0)
    assert processes.start(os.nice, 0, in_child=True).result(timeout=60) == niceness
    assert processes.start(os.nice, 0, in_child=True, low_priority=True).result(timeout=60) == min(19, niceness + 19)


def test_not_in_child_is_computed_at_once_errors_included(tmp_path):
    done = processes.start(os.getpid, in_child=False)
    assert done.done() and done.result() == os.getpid()
    failed = processes.start(load_taxonomy, tmp_path / "mangler.yaml", in_child=False)
    assert failed.done() and failed.exception() is not None


def test_an_error_in_the_child_is_raised_whole_in_the_parent(tmp_path):
    broken = tmp_path / "temaer.yaml"
    broken.write_text("themes: [\n", encoding="utf-8")
    with pytest.raises(InputError) as child_error:
        processes.start(load_taxonomy, broken, in_child=True).result(timeout=60)
    with pytest.raises(InputError) as here_error:
        load_taxonomy(broken)
    assert str(child_error.value) == str(here_error.value)
    assert child_error.value.path == broken and child_error.value.message == here_error.value.message


def test_a_child_that_dies_is_replaced_by_this_process(caplog):
    with caplog.at_level(logging.WARNING, logger="pipeline.processes"):
        assert processes.start(die_in_a_child, os.getpid(), in_child=True).result(timeout=60) == os.getpid()
    assert "exit code 3" in caplog.text


def test_a_child_that_cannot_start_is_replaced_by_this_process(monkeypatch, caplog):
    monkeypatch.setattr(sys, "executable", "/no/such/python")  # the interpreter a worker is started with
    with caplog.at_level(logging.WARNING, logger="pipeline.processes"):
        assert processes.start(os.getpid, in_child=True).result(timeout=60) == os.getpid()
    assert "Child process for getpid failed" in caplog.text


def test_a_child_stopped_by_ctrl_c_is_not_redone_here():
    future = processes.start(ctrl_c_in_a_child, os.getpid(), in_child=True)
    assert isinstance(future.exception(timeout=60), KeyboardInterrupt)


def test_what_the_work_prints_does_not_disturb_the_reply(caplog):
    with caplog.at_level(logging.WARNING, logger="pipeline.processes"):
        assert processes.start(print, "noise on stdout", in_child=True).result(timeout=60) is None
    assert caplog.text == ""


def test_the_child_does_not_run_the_parents_script_again(tmp_path):
    # A user's script without a __main__ guard: a child that re-imported it would run the work again.
    import subprocess

    script = tmp_path / "analyse.py"
    script.write_text(
        "import os\nfrom pipeline import processes\n"
        "print('script ran in', os.getpid(), flush=True)\n"
        "print('child', processes.start(os.getpid, in_child=True).result(timeout=60))\n",
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True)
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("script ran in"), done.stdout + done.stderr
    assert lines[1] != f"child {lines[0].split()[-1]}"  # computed in the child, not by the fall-back here
    assert "failed" not in done.stderr
