"""The runtime-only check (scripts/runtime_check.py) and the lock check (scripts/check_lock.py).

``make test`` runs the full runtime check before pytest; here it is shown failing: a scratch
copy of the lock without a package the code imports directly (``lunardate``, which no other
package pulls in, so the scratch lock still installs cleanly with ``pip --require-hashes``)
and the import step names the missing module. ``packaging``, the module of the original
failure, can no longer be left out this way: django-csp declares it as well.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _without(lock: str, package: str) -> str:
    """The lock text without ``package``'s block (its pin, hashes and ``# via`` lines)."""
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock)
    return "\n".join(b for b in blocks if not b.startswith(f"{package}==")) + "\n"


@pytest.mark.slow
def test_runtime_check_names_a_module_missing_from_the_lock(tmp_path):
    # given: a runtime lock that lost a dependency the code imports (the calendar's lunar dates)
    lock = (ROOT / "requirements.lock").read_text()
    scratch = _without(lock, "lunardate")
    assert "lunardate==" not in scratch
    (tmp_path / "scratch.lock").write_text(scratch)

    # when
    done = subprocess.run(
        [
            sys.executable,
            "scripts/runtime_check.py",
            "--lock",
            str(tmp_path / "scratch.lock"),
            "--venv",
            str(tmp_path / "venv"),
            "--logs",
            str(tmp_path / "logs"),
            "--only",
            "imports",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    # then: the scratch lock installed (hash-checked), and the import step failed naming it
    assert (tmp_path / "venv" / ".lock-sha256").exists(), done.stderr[-2000:]
    assert done.returncode == 1
    assert "runtime check FAILED at 'imports': MISSING MODULE: lunardate" in done.stderr


def _copy_requirements(tmp_path: Path) -> None:
    for name in ("requirements.txt", "requirements-dev.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    for name in ("requirements.lock", "requirements-dev.lock"):
        shutil.copy(ROOT / name, tmp_path / name)


def _check_lock(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_lock.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_lock_accepts_the_committed_locks(tmp_path):
    # given
    _copy_requirements(tmp_path)

    # when
    done = _check_lock(tmp_path)

    # then
    assert done.returncode == 0, done.stderr


def test_check_lock_fails_when_a_new_pin_was_not_locked(tmp_path):
    # given: an engineer added a runtime dependency but did not run `make lock`
    _copy_requirements(tmp_path)
    with (tmp_path / "requirements.txt").open("a") as requirements:
        requirements.write("Markdown==3.9\n")

    # when
    done = _check_lock(tmp_path)

    # then
    assert done.returncode == 1
    assert "markdown==3.9 (requirements.txt) is not in requirements.lock" in done.stderr
    assert "Run `make lock`" in done.stderr


def test_check_lock_fails_on_a_version_mismatch_or_missing_hashes(tmp_path):
    # given: a pin changed by hand in the lock, and one package's hashes removed
    _copy_requirements(tmp_path)
    lock = (tmp_path / "requirements.lock").read_text()
    lock = lock.replace("django==5.2.19", "django==5.2.18")
    lock = re.sub(r"(segno==1\.6\.6) \\\n(    --hash=\S+(?: \\)?\n)+", r"\1\n", lock)
    (tmp_path / "requirements.lock").write_text(lock)

    # when
    done = _check_lock(tmp_path)

    # then
    assert done.returncode == 1
    assert "django: requirements.txt pins 5.2.19, requirements.lock has 5.2.18" in done.stderr
    assert "segno has no hashes in requirements.lock" in done.stderr
