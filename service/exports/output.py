"""An export from the command line: to the file `--out` names, or text to standard output.
A DOCX is never written to standard output (it would garble a terminal or a pipe meant for
text): it needs `--out`. Without `--format`, the file name's suffix chooses."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path


class ExportNotWritten(Exception):
    """The export cannot go where asked; the message says what to do instead."""


def chosen_format(asked: str | None, out: Path | None, formats: Sequence[str], default: str) -> str:
    """`--format` when given; else the format `--out`'s suffix names (`briefing.docx`); else
    `default`."""
    if asked:
        return asked
    suffix = out.suffix.lower().lstrip(".") if out else ""
    return suffix if suffix in formats else default


def check_destination(file_format: str, out: Path | None, example: str) -> None:
    """Raises ExportNotWritten before any work when the export could not be written there.
    `example` is a file name to suggest."""
    if file_format == "docx" and (out is None or str(out) == "-"):
        raise ExportNotWritten(
            f"A DOCX file is not written to standard output: give --out FILE, e.g. --out {example}"
        )
    if out is not None and str(out) != "-" and not out.parent.is_dir():
        raise ExportNotWritten(f"No folder {out.parent} to write {out.name} in: create it first.")


def deliver(content: str | bytes, out: Path | None) -> None:
    """Write `content` to `out` (saying so on standard error), or text to standard output."""
    if out is None or str(out) == "-":
        if isinstance(content, bytes):  # check_destination refuses this first
            raise ExportNotWritten("A DOCX file is not written to standard output: give --out FILE")
        sys.stdout.write(content)
        return
    if isinstance(content, bytes):
        out.write_bytes(content)
    else:
        out.write_text(content, encoding="utf-8")
    print(f"Wrote {out}.", file=sys.stderr)


def relative_links_note(file_format: str, base_url: str | None) -> None:
    """Say on standard error how to make a file's links open from elsewhere."""
    if file_format in ("md", "docx") and not base_url:
        print(
            "Links are relative (/documents/…/file#page=N): give --base-url with the service's"
            " address (e.g. http://127.0.0.1:8000) so they open from the file.",
            file=sys.stderr,
        )
