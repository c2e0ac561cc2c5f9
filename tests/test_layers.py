"""Layers point one way. The models import none of the layers above them (services, API, pages,
admin, interchange format); the services do not import the interchange format (which writes
through them); the scoring engine imports neither Django nor anything of the project's but
itself. A model calling a service was the one cycle of the import graph."""

import ast
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1] / "projects"
ABOVE_THE_MODELS = (
    "projects.services",
    "projects.api",
    "projects.web",
    "projects.admin",
    "projects.interchange",
)


def imported_modules(path: Path, root: Path) -> set[str]:
    """The modules ``path`` imports (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(root.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            found.add(".".join(part for part in (base, node.module or "") if part))
    return found


def upward_imports(folder: str, forbidden: tuple[str, ...], root: Path = PROJECT) -> list[str]:
    return sorted(
        f"{path.relative_to(root.parent).as_posix()} imports {module}"
        for path in (root / folder).rglob("*.py")
        for module in imported_modules(path, root)
        if module == forbidden or module.startswith(forbidden)
    )


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("models", ABOVE_THE_MODELS),
        ("services", ("projects.interchange",)),
        ("scoring", ("django", "projects.models", "projects.selectors", *ABOVE_THE_MODELS)),
    ],
)
def test_a_layer_imports_nothing_above_it(folder, forbidden):
    assert upward_imports(folder, forbidden) == []


def test_the_check_sees_an_upward_import_even_inside_a_function(tmp_path):
    models = tmp_path / "projects" / "models"
    models.mkdir(parents=True)
    (models / "bad.py").write_text("def f():\n    from ..services.ratings import assessment_save\n")
    found = upward_imports("models", ABOVE_THE_MODELS, root=tmp_path / "projects")
    assert found == ["projects/models/bad.py imports projects.services.ratings"]
