"""How fast `tematik run` tells a bad input, in fresh processes; prints its figures.

    python benchmarks/bad_input.py

Every check that needs no model runs before the Prefect server and the models start
(pipeline/preflight.py); before, each of these waited for the server (20-30 s on a busy
2-core machine). Each case runs three times (wall time, imports included, exit code 1).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMATIK = [sys.executable, "-m", "flows.cli"]


def timed(command: list[str], env: dict, repeat: int = 3) -> tuple[float, float, str]:
    seconds, last = [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        seconds.append(time.perf_counter() - start)
        if done.returncode != 1:
            raise SystemExit(f"{' '.join(command)}: exit {done.returncode}, expected 1\n{done.stderr}")
        last = done.stderr.strip()
    return statistics.median(seconds), min(seconds), last


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        (scratch / "tom-mappe").mkdir()
        (scratch / "uden-tekst.csv").write_text("svar\n\n  \n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(scratch / "prefect")}
        folders = ["--out", str(scratch / "outputs"), "--models", str(scratch / "models")]
        demo = str(REPO / "corpora" / "demo")
        print(f"{'tematik run …':<40} {'median':>8} {'best':>8}  message")
        for label, arguments in (
            ("a missing path", [str(scratch / "findes-ikke")]),
            ("an empty folder", [str(scratch / "tom-mappe")]),
            ("a file without texts", [str(scratch / "uden-tekst.csv")]),
            ("the demo, unknown taxonomy", [demo, "--taxonomy", "findes-ikke"]),
        ):
            median, best, message = timed([*TEMATIK, "run", *arguments, *folders], env)
            print(f"{label:<40} {median:7.2f} s {best:7.2f} s  {message[:70]}")


if __name__ == "__main__":
    main()
