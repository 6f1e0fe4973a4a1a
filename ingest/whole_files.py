"""A file written whole: into a temporary file of its own beside it, then renamed over it in
one step. Concurrent writers never share a temporary name, and a reader sees one whole file,
the old or the new, never a torn one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_whole(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, path)
