"""Compare two export folders file by file, timestamps and run ids aside.

    python benchmarks/same_exports.py OUT_A/<run id> OUT_B/<run id>

Used before and after a restructuring that must not change what users receive. Text files
and the XML members of .xlsx/.docx are compared after replacing run ids, ISO timestamps and
"kl. HH:MM"; in manifest.json the stage timings and the files' sizes and digests (which hash
those timestamps) are left out. Prints each difference and exits 1 if there is one.
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path

RUN_ID = re.compile(rb"[\w.-]+-\d{8}-\d{6}-[0-9a-f]{6}")
ISO_TIME = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
CLOCK = re.compile(rb"kl\. \d{2}[:.]\d{2}")
DANISH_DATE = re.compile(rb"\d{1,2}\. [a-z]+ \d{4}")
SECONDS = re.compile(rb">\d+,\d s<")  # the report's stage timings
VOLATILE_MANIFEST_KEYS = {"run_id", "created", "timings_seconds", "sha256", "bytes", "duration"}


def normalise(data: bytes) -> bytes:
    for pattern, token in ((RUN_ID, b"<run>"), (ISO_TIME, b"<time>"), (CLOCK, b"kl. <hh:mm>"),
                           (DANISH_DATE, b"<dato>"), (SECONDS, b">? s<")):
        data = pattern.sub(token, data)
    return data


def _without_volatile(value):
    if isinstance(value, dict):
        return {k: _without_volatile(v) for k, v in value.items() if k not in VOLATILE_MANIFEST_KEYS}
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def differences(a: Path, b: Path) -> list[str]:
    found: list[str] = []
    names_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    names_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    for name in sorted(names_a ^ names_b):
        found.append(f"only in {'A' if name in names_a else 'B'}: {name}")
    for name in sorted(names_a & names_b):
        file_a, file_b = a / name, b / name
        if name.suffix == ".json":
            same = _without_volatile(json.loads(normalise(file_a.read_bytes()))) == _without_volatile(
                json.loads(normalise(file_b.read_bytes())))
            if not same:
                found.append(f"differs: {name}")
        elif name.suffix in {".xlsx", ".docx"}:
            members_a, members_b = _members(file_a), _members(file_b)
            if members_a.keys() != members_b.keys():
                found.append(f"differs: {name} (members {sorted(members_a.keys() ^ members_b.keys())})")
            for member in sorted(members_a.keys() & members_b.keys()):
                if normalise(members_a[member]) != normalise(members_b[member]):
                    found.append(f"differs: {name}:{member}")
        elif normalise(file_a.read_bytes()) != normalise(file_b.read_bytes()):
            found.append(f"differs: {name}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip())
        return 2
    found = differences(Path(argv[0]), Path(argv[1]))
    for line in found:
        print(line)
    print(f"{'identical' if not found else f'{len(found)} differences'} (timestamps and run ids aside)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
