"""Docs and code cannot drift: every CLI command and every setting is documented in the README."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.main import get_command

from roadpass.cli.main import app
from roadpass.settings import Settings

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: typer.Typer) -> list[str]:
    root = get_command(group)
    names: list[str] = []

    def walk(command: object, prefix: str) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            names.append(prefix)

    walk(root, "")
    return names


def test_every_cli_command_is_in_the_readme() -> None:
    missing = [name for name in _commands(app) if f"roadpass {name}" not in README]
    assert not missing, f"document these commands in README.md: {missing}"


def test_every_setting_is_in_the_readme() -> None:
    names = [f"ROADPASS_{name.upper()}" for name in Settings.model_fields]
    missing = [name for name in names if name not in README]
    assert not missing, f"document these settings in README.md: {missing}"


def test_every_setting_says_what_it_is_for() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_contributing_names_every_package_and_only_those() -> None:
    """The layout in CONTRIBUTING.md is the layout on disk: every package (a folder with ``__init__.py``,
    or the migrations folder) is named there as ``name/`` or ``parent/name/``, and every name is one."""
    root = Path(__file__).parents[1]
    text = (root / "CONTRIBUTING.md").read_text(encoding="utf-8")
    layout = text.split("```", 2)[1]
    package_root = root / "src" / "roadpass"
    on_disk = {
        str(path.parent.relative_to(package_root)) + "/"
        for path in package_root.rglob("__init__.py")
        if path.parent != package_root and "__pycache__" not in path.parts
    } | {"store/migrations/"}
    named = {line.split()[0] for line in layout.splitlines() if line.strip() and line.split()[0].endswith("/")}
    named.discard("src/roadpass/")
    assert not on_disk - named, f"name these packages in CONTRIBUTING.md: {sorted(on_disk - named)}"
    assert not named - on_disk, f"CONTRIBUTING.md names packages that do not exist: {sorted(named - on_disk)}"
