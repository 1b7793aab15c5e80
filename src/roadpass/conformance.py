"""Where the standards' own artefacts are read from.

roadpass interprets published artefacts (GS1 EPCIS 2.0 JSON Schemas, the Battery Pass data model and its
attribute long-list) rather than retyping them. They live in a conformance folder beside the checkout
(``../shared/conformance`` relative to the project root) or wherever ``ROADPASS_CONFORMANCE_DIR`` points.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

__all__ = ["ConformanceMissing", "conformance_dir", "conformance_path"]


class ConformanceMissing(FileNotFoundError):
    """A standards artefact roadpass needs is not where it was looked for."""


def _candidates() -> list[Path]:
    found: list[Path] = []
    env = os.environ.get("ROADPASS_CONFORMANCE_DIR")
    if env:
        found.append(Path(env))
    # src/roadpass/conformance.py -> project root is parents[2]; the folder sits beside the project.
    project_root = Path(__file__).resolve().parents[2]
    found.append(project_root.parent / "shared" / "conformance")
    found.append(Path.cwd().parent / "shared" / "conformance")
    return found


@cache
def conformance_dir() -> Path:
    """The conformance folder, or :class:`ConformanceMissing` naming where it was looked for."""
    candidates = _candidates()
    for candidate in candidates:
        if (candidate / "epcis").is_dir():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise ConformanceMissing(
        f"standards artefacts not found (looked in {looked}); set ROADPASS_CONFORMANCE_DIR to the folder "
        "that holds epcis/ and batterypass/"
    )


def conformance_path(*parts: str) -> Path:
    """A file inside the conformance folder; raises :class:`ConformanceMissing` if it is absent."""
    path = conformance_dir().joinpath(*parts)
    if not path.exists():
        raise ConformanceMissing(f"standards artefact missing: {path}")
    return path
