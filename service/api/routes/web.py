from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


@router.get("/")
def index_page() -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", media_type="text/html")
