from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from service.api.access import CallerDep, ReadDep, readable_or_404
from service.api.deps import ServicesDep
from service.api.schemas import DocumentDetail

router = APIRouter(tags=["documents"])

_MEDIA_TYPES = {".pdf": "application/pdf", ".md": "text/markdown", ".txt": "text/plain"}


@router.get("/documents", response_model=list[DocumentDetail])
def list_documents(services: ServicesDep, caller: CallerDep) -> list[DocumentDetail]:
    """The papers this key may read (the others are not counted either)."""
    return [
        DocumentDetail.of_stored(doc)
        for doc in services.index.documents()
        if caller.may_read(doc.meta)
    ]


@router.get("/documents/{doc_id}", response_model=DocumentDetail)
def get_document(
    doc_id: str, services: ServicesDep, caller: CallerDep, read: ReadDep
) -> DocumentDetail:
    read.asked = doc_id
    stored = readable_or_404(services, caller, doc_id)
    read.saw(doc_id)
    return DocumentDetail.of_stored(stored)


@router.get("/documents/{doc_id}/file", response_class=FileResponse)
def get_document_file(
    doc_id: str, services: ServicesDep, caller: CallerDep, read: ReadDep
) -> FileResponse:
    """The original file, so a citation's URL opens it at `#page=N`."""
    read.asked = doc_id
    stored = readable_or_404(services, caller, doc_id)
    read.saw(doc_id, range(1, stored.pages + 1))
    path = Path(stored.path)
    if not path.is_file():
        raise HTTPException(
            410, f"The file of '{doc_id}' is no longer at {path.name}; ingest it again."
        )
    media_type = _MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return FileResponse(
        path, media_type=media_type, filename=stored.meta.source, content_disposition_type="inline"
    )
