"""Layering rules that keep the modules small and free of import cycles."""

import ast
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[2] / "apps"


def _service_files() -> list[Path]:
    files = list(APPS.glob("*/services.py")) + list(APPS.glob("*/services/*.py"))
    assert files, "no service modules found"
    return sorted(files)


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


@pytest.mark.parametrize("path", _service_files(), ids=lambda p: str(p.relative_to(APPS)))
def test_services_send_tasks_by_name_and_never_import_task_modules(path: Path) -> None:
    tasks = {m for m in _imported_modules(path) if m.endswith(".tasks") or ".tasks." in m}
    assert not tasks, f"{path.relative_to(APPS)} imports {sorted(tasks)}: use apps.core.queue"


def test_enqueue_by_name_runs_the_registered_task_in_eager_mode(monkeypatch) -> None:
    from apps.core import services
    from apps.core.queue import enqueue

    calls = []
    monkeypatch.setattr(services, "check_calendar", lambda **kwargs: calls.append(kwargs))
    result = enqueue("core.check_calendar")
    assert result.successful()
    assert len(calls) == 1
    assert "first_year" in calls[0]
