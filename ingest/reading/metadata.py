"""Document metadata: title, body, date, type and access for each paper.

A sidecar `metadata.json` in the file's folder is the authority (publishers know their
papers); anything it does not give is read from the paper's front sheet (`front_sheet`), then
from its file name. `Described.inferred` names what was not given, for the ingest report.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path, PurePath
from typing import Any

from ingest.models import Block, BlockKind, DocumentMeta
from ingest.reading.front_sheet import FrontSheet, date_in_name, read_front_sheet

SIDECAR_NAME = "metadata.json"
UNKNOWN_BODY = "Unknown body"

_DATE_PREFIX = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})(?:-(?P<d>\d{2}))?")
_DOC_TYPES: list[tuple[str, re.Pattern[str]]] = [
    ("agenda pack", re.compile(r"agenda[ _-]?pack|agenda", re.IGNORECASE)),
    ("minutes", re.compile(r"minutes|note of decisions", re.IGNORECASE)),
    ("annual report", re.compile(r"annual[ _-]report", re.IGNORECASE)),
    ("strategy", re.compile(r"strateg|agreement|plan\b", re.IGNORECASE)),
    ("meeting notes", re.compile(r"key[ _-]points|notes", re.IGNORECASE)),
    ("report", re.compile(r"report|protocol", re.IGNORECASE)),
]


def slug(text: str) -> str:
    """Lower-case letters and digits, runs of anything else one hyphen: safe in a URL."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def document_id(path: Path) -> str:
    """A stable, URL-safe id from the file name: the same paper keeps its id across versions.

    A paper's id when nothing else claims it, so a flat folder's ids are its file names; papers
    in sub-folders that share a name take one of `document_id_candidates` instead."""
    return slug(path.stem) or "document"


def document_id_candidates(relative: PurePath, root_name: str) -> list[str]:
    """The ids a paper found at `relative` in a folder named `root_name` may take, one per
    round of `ingest.pipeline.assign_document_ids`, the most wanted first: its file name (as
    `document_id`), its path in the folder (the same again for a paper at the top), the
    folder's name and that path, and that with a digest of the exact path (two names that slug
    alike, `A b.pdf` and `a-b.pdf`, digest apart). Nothing here depends on where the folder
    is, so a copy of it elsewhere gets the same ids."""
    in_folder = slug("-".join((*relative.parent.parts, relative.stem))) or "document"
    with_root = slug(f"{root_name}-{in_folder}") or in_folder
    exact = f"{root_name}/{relative.as_posix()}"
    digest = hashlib.sha256(exact.encode()).hexdigest()[:8]
    return [document_id(Path(relative.name)), in_folder, with_root, f"{with_root}-{digest}"]


def read_sidecar(folder: Path) -> dict[str, dict[str, Any]]:
    """The sidecar's entries keyed by file name; empty when there is none."""
    sidecar = folder / SIDECAR_NAME
    if not sidecar.is_file():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{sidecar}: not valid JSON ({exc}); fix or remove it") from exc
    files = data.get("files", data)
    return {str(name): dict(entry) for name, entry in files.items() if isinstance(entry, dict)}


def describe(
    path: Path,
    blocks: list[Block],
    pdf_title: str | None,
    sidecar: dict[str, dict[str, Any]],
    doc_id: str | None = None,
    held_access: str | None = None,
    first_page: str = "",
) -> DocumentMeta:
    """The paper's metadata; `doc_id` as assigned for its place (default: from its name);
    `held_access`: the level the paper is held at for marking itself not for the public,
    where the sidecar gives no `access`; `first_page`: its first page's text, whose front
    sheet says what the sidecar does not."""
    entry = sidecar.get(path.name, {})
    sheet = read_front_sheet(first_page) if first_page else FrontSheet()
    return DocumentMeta(
        doc_id=doc_id or document_id(path),
        source=path.name,
        title=str(entry.get("title") or _infer_title(path, blocks, pdf_title, sheet, first_page)),
        body=str(entry.get("body") or sheet.body or _infer_body(path)),
        date=entry.get("date") or sheet.date or date_in_name(path.stem),
        doc_type=str(entry.get("doc_type") or sheet.doc_type or _infer_type(path)),
        access=str(entry.get("access") or held_access or "public"),
        url=entry.get("url"),
    )


def inferred_note(meta: DocumentMeta, sidecar: dict[str, dict[str, Any]]) -> str | None:
    """What of `meta` the sidecar did not give, as the ingest report shows it."""
    entry = sidecar.get(meta.source, {})
    parts = [
        f"{name} {value!r}" if value and value != UNKNOWN_BODY else f"no {name}"
        for name, key, value in (
            ("title", "title", meta.title),
            ("body", "body", meta.body),
            ("date", "date", meta.date),
            ("type", "doc_type", meta.doc_type),
        )
        if not entry.get(key)
    ]
    return "inferred " + ", ".join(parts) if parts else None


def _name_parts(path: Path) -> list[str]:
    """A name of the form "2024-12-05_body_title" in its parts after the date ("body",
    "title"); any other name is one part ("SF424_page2" names no body)."""
    stem = _DATE_PREFIX.sub("", path.stem).strip("_- ")
    if not _DATE_PREFIX.match(path.stem):
        return [stem] if stem else []
    return [part for part in stem.split("_") if part]


def _infer_body(path: Path) -> str:
    parts = _name_parts(path)
    if len(parts) >= 2:
        return parts[0].replace("-", " ").title()
    return UNKNOWN_BODY


def _infer_title(
    path: Path, blocks: list[Block], pdf_title: str | None, sheet: FrontSheet, first_page: str
) -> str:
    """The front sheet's subject; else the PDF's own title if the paper prints it (a title
    like "Agenda Template" or "Binder1" left by the tool that made the PDF is not on the
    page); else the file's name when it is made of words; else the first heading."""
    if sheet.title:
        return sheet.title
    if pdf_title and _printed(pdf_title, first_page):
        return pdf_title
    named = _title_from_name(path)
    if named:
        return named
    for block in blocks[:10]:
        if block.kind is BlockKind.HEADING and len(block.text) > 8:
            return block.text
    return path.stem


_WORD = re.compile(r"[A-Za-z]{3,}")
# A title names at least this many words of three letters or more ("Binder1", "THE REPORT" no).
MIN_TITLE_WORDS = 2


def _printed(title: str, page: str) -> bool:
    words = {w.lower() for w in _WORD.findall(title)} - {"the", "and", "for"}
    printed = {w.lower() for w in _WORD.findall(page)}
    return len(words) >= MIN_TITLE_WORDS and words <= printed


def _title_from_name(path: Path) -> str | None:
    """The file's name as a title: the part after a leading date and body
    ("2016-05-12_scrutiny_sop-partnership-protocol" → "Sop partnership protocol"), or the
    name as it stands when written in words ("Appendix H - Reserves Policy")."""
    parts = _name_parts(path)
    name = parts[-1] if parts else ""
    if len(_WORD.findall(name)) < MIN_TITLE_WORDS:
        return None
    if name == name.lower():  # a slug: "community-safety-agreement-2017-18"
        return name.replace("-", " ").replace("_", " ").capitalize()
    return " ".join(name.replace("_", " ").split())


def _infer_type(path: Path) -> str:
    for doc_type, pattern in _DOC_TYPES:
        if pattern.search(path.stem):
            return doc_type
    return "paper"
