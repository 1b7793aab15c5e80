"""Module and function sizes: no module under src/roadpass over 600 lines, no function or method over 80.

Generated code is exempt: the passport models (generated from the battery passport schemas) and the Alembic
migrations. A failure lists every offender with its size; split it into cohesive parts rather than raising
the limit.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "roadpass"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
EXEMPT = ("passport/models/", "store/migrations/")


def _modules() -> list[tuple[str, str]]:
    """(path relative to src/roadpass, source) of every module the limits apply to."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if not relative.startswith(EXEMPT):
            found.append((relative, path.read_text(encoding="utf-8")))
    return found


def _function_sizes(source: str) -> list[tuple[int, str, int]]:
    """(line, qualified name, lines from ``def`` to the end of the body) of every function and method."""
    sizes: list[tuple[int, str, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = prefix + child.name
                sizes.append((child.lineno, name, (child.end_lineno or child.lineno) - child.lineno + 1))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return sizes


def _report(kind: str, offenders: list[str]) -> str:
    listing = "\n".join(f"  {line}" for line in offenders)
    text = f"{len(offenders)} {kind} over the limit:\n{listing}"
    print(text)
    return text


def test_the_limits_see_the_sources() -> None:
    modules = dict(_modules())
    assert "trace/identifiers.py" in modules
    assert not any(name.startswith(EXEMPT) for name in modules)
    sizes = {name: lines for _, name, lines in _function_sizes("class A:\n    def f(self):\n        pass\n")}
    assert sizes == {"A.f": 2}


def test_no_module_over_600_lines() -> None:
    offenders = [
        f"src/roadpass/{name}: {len(source.splitlines())} lines"
        for name, source in _modules()
        if len(source.splitlines()) > MAX_MODULE_LINES
    ]
    assert not offenders, _report(f"modules (limit {MAX_MODULE_LINES} lines)", offenders)


def test_no_function_over_80_lines() -> None:
    offenders = [
        f"src/roadpass/{name}:{line} {function}: {lines} lines"
        for name, source in _modules()
        for line, function, lines in _function_sizes(source)
        if lines > MAX_FUNCTION_LINES
    ]
    assert not offenders, _report(f"functions (limit {MAX_FUNCTION_LINES} lines)", offenders)
