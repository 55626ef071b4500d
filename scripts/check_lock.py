#!/usr/bin/env python3
"""Fail when requirements*.txt and their hashed locks disagree (run by ``make check``).

Every pin in ``requirements.txt`` must be in ``requirements.lock`` at the same version (with
its extras), every pin in ``requirements-dev.txt`` in ``requirements-dev.lock``, and every
locked package must carry hashes. It reads files only (no network): after editing
requirements*.txt, ``make lock`` regenerates the locks. Standard library only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")
PAIRS = [
    ("requirements.txt", "requirements.lock"),
    ("requirements-dev.txt", "requirements-dev.lock"),
]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, tuple[str, str]]:
    """name -> (version, extras) of the ``name[extras]==version`` lines, following ``-r``."""
    found: dict[str, tuple[str, str]] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found.update(pins(path.parent / line[3:].strip()))
            continue
        match = PIN.match(line)
        if match:
            extras = ",".join(
                sorted(normalise(e) for e in (match[2] or "[]")[1:-1].split(",") if e)
            )
            found[normalise(match[1])] = (match[3], extras)
    return found


def unhashed(lock: Path) -> list[str]:
    """Locked packages without a ``--hash`` line."""
    missing: list[str] = []
    text = lock.read_text()
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = PIN.match(block)
        if match and "--hash=sha256:" not in block:
            missing.append(match[1])
    return missing


def main(root: Path = ROOT) -> int:
    problems: list[str] = []
    for source, lock in PAIRS:
        if not (root / lock).exists():
            problems.append(f"{lock} is missing")
            continue
        wanted, locked = pins(root / source), pins(root / lock)
        for name, (version, extras) in sorted(wanted.items()):
            have = locked.get(name)
            if have is None:
                problems.append(f"{name}=={version} ({source}) is not in {lock}")
            elif have[0] != version:
                problems.append(f"{name}: {source} pins {version}, {lock} has {have[0]}")
            elif extras and not set(extras.split(",")) <= set(have[1].split(",")):
                problems.append(f"{name}[{extras}] ({source}): {lock} lacks the extras")
        problems += [f"{name} has no hashes in {lock}" for name in unhashed(root / lock)]
    if problems:
        print("requirements and locks disagree:", *problems, sep="\n  ", file=sys.stderr)
        print("Run `make lock` and commit requirements*.lock.", file=sys.stderr)
        return 1
    print("locks: requirements.lock and requirements-dev.lock match requirements*.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT))
