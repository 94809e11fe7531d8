"""Opening a saved run: `tematik topics`, `tematik edit` and `tematik export` in fresh processes; prints its figures.

    python benchmarks/saved_run.py [--model models/<run id>]

Without ``--model`` the demo workshop is run once (through pipeline/run.py) into a
temporary folder first. Each command runs three times in a new process (wall time,
imports included); a saved run is frozen, so none of them refits or loads a model.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMATIK = [sys.executable, "-m", "flows.cli"]


def timed(command: list[str], repeat: int = 3) -> tuple[float, float]:
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=REPO, check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), min(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a saved run (models/<run id>); default: run the demo first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        model = args.model
        if model is None:
            from pipeline.config import RunConfig, RunOverrides
            from pipeline.run import run_workshop

            config = RunOverrides(workshop="Demo").apply(RunConfig())
            _, _, folder = run_workshop([REPO / "corpora" / "demo"], config, models=scratch / "models", out=scratch / "out")
            model = scratch / "models" / folder.name
        copy = scratch / "edited" / model.name
        shutil.copytree(model, copy)
        print(f"saved run: {model}")
        print(f"{'command':<44} {'median':>8} {'best':>8}")
        for label, command in (
            ("tematik --help", [*TEMATIK, "--help"]),
            ("tematik topics MODEL", [*TEMATIK, "topics", str(copy)]),
            ("tematik edit MODEL --rename 0=Navn", [*TEMATIK, "edit", str(copy), "--rename", "0=Navn"]),
            ("tematik export MODEL", [*TEMATIK, "export", str(copy), "--out", str(scratch / "exports")]),
        ):
            median, best = timed(command)
            print(f"{label:<44} {median:7.2f} s {best:7.2f} s")


if __name__ == "__main__":
    main()
