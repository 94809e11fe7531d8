"""Prefect as its users know it: the ``prefect`` CLI against our server, the deployment form,
and the Prefect API a command-line run uses (``flows/server.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from flows import server

pytestmark = pytest.mark.slow

PREFECT = Path(sys.executable).with_name("prefect")


def _prefect(*args: str, api_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_API_URL": api_url, "COLUMNS": "250"}
    return subprocess.run([str(PREFECT), *args], env=env, capture_output=True, text=True, timeout=180)


def _api_url() -> str:
    from prefect.settings import get_current_settings

    return get_current_settings().api.url


def test_prefect_cli_lists_runs_artifacts_deployments_and_shows_logs(prefect_server):
    """With FastAPI >= 0.151 each of these ended in '422 Unprocessable Entity'."""
    from prefect import flow, get_run_logger
    from prefect.artifacts import create_markdown_artifact
    from prefect.logging.handlers import APILogWorker

    @flow(name="tematik-cli-proeve")
    def probe() -> None:
        get_run_logger().info("Hej fra tematik")
        create_markdown_artifact("| tema | andel |\n|---|---|\n| grøn | 40 % |", key="tematik-proeve")

    flow_run_id = str(probe(return_state=True).state_details.flow_run_id)
    APILogWorker.drain_all(timeout=30)  # the logs reach the server before the CLI asks
    api_url = _api_url()

    runs = _prefect("flow-run", "ls", api_url=api_url)
    assert runs.returncode == 0, runs.stderr[-2000:]
    assert flow_run_id[:8] in runs.stdout
    logs = _prefect("flow-run", "logs", flow_run_id, api_url=api_url)
    assert logs.returncode == 0, logs.stderr[-2000:]
    assert "Hej fra tematik" in logs.stdout
    artifacts = _prefect("artifact", "ls", api_url=api_url)
    assert artifacts.returncode == 0, artifacts.stderr[-2000:]
    assert "tematik-proeve" in artifacts.stdout
    deployments = _prefect("deployment", "ls", api_url=api_url)
    assert deployments.returncode == 0, deployments.stderr[-2000:]


def test_deployment_form_has_danish_descriptions_and_the_shipped_taxonomies_as_choices(prefect_server, tmp_path):
    """What the UI's "Custom run" form is drawn from: the schema stored with each deployment."""
    from prefect import get_client

    from flows.deploy import deployments
    from pipeline.taxonomy import shipped_taxonomies

    assert shipped_taxonomies() == ("deb-2020-2023", "nordjylland-2023")
    for deployment in deployments(taxonomy="deb-2020-2023", out=str(tmp_path / "ud"), models=str(tmp_path / "m")):
        deployment_id = deployment.apply()
        with get_client(sync_client=True) as client:
            stored = client.read_deployment(deployment_id)
        schema = stored.parameter_openapi_schema
        assert stored.parameters["taxonomy"] == "deb-2020-2023"
        for name, prop in schema["properties"].items():
            # Every field explains itself, in Danish (no English leftovers such as "Folder for").
            assert prop.get("description"), f"{stored.name}: {name} has no description"
        taxonomy = schema["properties"]["taxonomy"]
        # A drop-down of the shipped taxonomies (enum), next to a free path field.
        alternatives = taxonomy.get("anyOf", [taxonomy])
        choices = [alt for alt in alternatives if "enum" in alt]
        assert choices and choices[0]["enum"] == list(shipped_taxonomies()), taxonomy
        assert any(alt.get("type") == "string" and "enum" not in alt for alt in alternatives), taxonomy


def test_a_configured_api_is_used_and_no_server_started(prefect_server):
    lines: list[str] = []
    api = server.find_or_start_api(lines.append)
    assert api.kind == "configured" and api.process is None
    assert api.url == _api_url()
    assert api.wait() < 5
    assert "bruger serveren" in lines[0] and api.url in lines[0]


def test_a_lasting_server_keeps_prefects_heartbeats(prefect_server):
    """Heartbeats tell a lasting server that a run crashed: only a temporary server goes without."""
    from prefect.settings import get_current_settings

    api = server.find_or_start_api(lambda line: None)
    default = get_current_settings().flows.heartbeat_frequency
    with api.run_settings():
        assert api.kind == "configured" and get_current_settings().flows.heartbeat_frequency == default


def test_a_running_local_server_is_reused(prefect_server, monkeypatch, tmp_path):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    # No URL configured anywhere; the harness's server plays the one on 127.0.0.1:4200.
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.setattr(server, "LOCAL_SERVER", _api_url())
    lines: list[str] = []
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        api = server.find_or_start_api(lines.append)
    assert api.kind == "running" and api.process is None
    assert "kørende lokale server" in lines[0]


# A command-line process using the temporary server as `tematik run` does; nothing else runs
# on 127.0.0.1:4200 for it (LOCAL_SERVER points at the discard port).
_USER = textwrap.dedent(
    """
    import json, sys, time
    from flows import server
    server.LOCAL_SERVER = "http://127.0.0.1:9/api"
    lines = []
    with server.prefect_api(lines.append) as api:
        print(json.dumps({"pid": api.pid, "url": api.url, "kind": api.kind}), flush=True)
        api.wait()
        from prefect.settings import get_current_settings
        print(json.dumps({"ready_after": api.ready_after, "lines": lines,
                          "settings_url": get_current_settings().api.url}), flush=True)
        if sys.argv[1] == "hang":
            time.sleep(600)
    print("LEFT", flush=True)
    """
)


def _user_process(mode: str, prefect_home: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(prefect_home)
    return subprocess.Popen(
        [sys.executable, "-c", _USER, mode], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[1],
    )


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed child waits for init to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory) -> Path:
    """One Prefect home for the temporary-server tests: the first start creates the database."""
    return tmp_path_factory.mktemp("prefect-home")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_temporary_server_answers_inside_the_block_and_is_stopped_after(prefect_home):
    started = time.monotonic()
    user = _user_process("leave", prefect_home)
    out, err = user.communicate(timeout=300)
    assert user.returncode == 0, err[-3000:]
    first, ready, left = out.strip().splitlines()
    first, ready = json.loads(first), json.loads(ready)
    assert first["kind"] == "temporary" and first["url"].startswith("http://127.0.0.1:")
    assert ready["settings_url"] == first["url"]  # Prefect inside the block talks to it
    assert any("starter en midlertidig server" in line for line in ready["lines"])
    assert any("klar" in line for line in ready["lines"])
    assert left == "LEFT"
    assert not _running(first["pid"])
    assert not server._answers(first["url"])
    print(f"temporary server ready after {ready['ready_after']:.1f} s (process {time.monotonic() - started:.1f} s)")


# The temporary server's warm-up requests, sent again: each is one the API answers (a renamed
# route would leave its part of the API cold); and the flow-run settings inside the block.
_WARM_UP = textwrap.dedent(
    """
    import json, urllib.error, urllib.request
    from flows import server
    server.LOCAL_SERVER = "http://127.0.0.1:9/api"
    with server.prefect_api(lambda line: None) as api:
        api.wait()
        codes = {}
        for method, path, body in server.WARM_UP_REQUESTS:
            data = None if body is None else json.dumps(body).encode()
            request = urllib.request.Request(api.url + path, data, {"Content-Type": "application/json"}, method=method)
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    codes[path] = response.status
            except urllib.error.HTTPError as error:
                codes[path] = error.code
        from prefect.settings import get_current_settings
        with api.run_settings():
            inside = get_current_settings().flows.heartbeat_frequency
        print(json.dumps({"codes": codes, "heartbeats": [inside, get_current_settings().flows.heartbeat_frequency]}))
    """
)


def test_temporary_server_answers_its_warm_up_requests_and_runs_flows_without_heartbeats(prefect_home):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(prefect_home)
    done = subprocess.run([sys.executable, "-c", _WARM_UP], check=False, env=env, capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["codes"] == {path: 200 for _, path, _ in server.WARM_UP_REQUESTS}
    inside, outside = found["heartbeats"]
    assert inside is None and outside  # none for the temporary server's flow runs; Prefect's default after


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kill -9 and /proc")
def test_temporary_server_dies_with_a_killed_process(prefect_home):
    user = _user_process("hang", prefect_home)
    try:
        first = json.loads(user.stdout.readline())
        assert json.loads(user.stdout.readline())["ready_after"] > 0, user.stderr.read()[-3000:]
        assert _running(first["pid"]) and server._answers(first["url"], timeout=10)  # the server may be busy
    finally:
        user.kill()  # SIGKILL: no finally, no atexit in the user process
        user.wait()
    deadline = time.monotonic() + 5
    while _running(first["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(first["pid"]), "the temporary Prefect server outlived its killed parent"
    assert not server._answers(first["url"])
