"""Each export format's media type and file name, and the HTTP response that carries one
(`POST /themes?format=…`, `POST /ask?format=…`)."""

from __future__ import annotations

from typing import Literal

from fastapi.responses import Response

from ingest.reading.metadata import slug
from service.exports.docx import DOCX_MEDIA_TYPE

FileFormat = Literal["md", "csv", "docx"]
MEDIA_TYPES: dict[str, str] = {
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "docx": DOCX_MEDIA_TYPE,
}
_NAME_CHARS = 60


def file_name(kind: str, subject: str, file_format: FileFormat) -> str:
    """`theme-domestic-abuse.docx`: what the export is of, safe as a file name anywhere."""
    stem = slug(subject)[:_NAME_CHARS].strip("-")
    return f"{kind}-{stem or kind}.{file_format}"


def download(content: str | bytes, file_format: FileFormat, name: str) -> Response:
    """The export with its media type; a DOCX as an attachment (a browser saves it), text
    inline (shown, and saved under `name` when the reader saves it)."""
    disposition = "attachment" if file_format == "docx" else "inline"
    return Response(
        content,
        media_type=MEDIA_TYPES[file_format],
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )
