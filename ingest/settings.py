"""Settings of the ingest side: where the index lives and how documents are cut up.

Built at the edge (CLI, `create_app`) and passed down; never a module-level instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOARDPAPERS_", env_file=".env", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(
        Path("data"), description="Folder holding the Chroma store, manifest and keyword index."
    )
    chroma_mode: Literal["embedded", "server"] = Field(
        "embedded",
        description="'embedded': a PersistentClient in data_dir; 'server': a Chroma server.",
    )
    database_url: str | None = Field(
        None,
        pattern=r"^postgres(ql)?://",
        description="A PostgreSQL URL (postgresql://user:password@host:5432/boardpapers) for"
        " the state every replica shares: the manifest, keys, audit log, conversations and"
        " summaries. Unset, each is a SQLite file in data_dir. With several replicas, use a"
        " Chroma server too (chroma_mode='server').",
    )
    chroma_host: str = Field("127.0.0.1", description="Chroma server host (server mode).")
    chroma_port: int = Field(8001, description="Chroma server port (server mode).")
    collection: str = Field("boardpapers", description="Chroma collection name.")
    hnsw_ef_search: int = Field(
        500,
        ge=10,
        description="How widely Chroma's HNSW graph is searched per query. Chroma's 100 misses"
        " about one in a hundred true neighbours, differently in each process; 500 misses none"
        " on the sample corpus and costs well under a millisecond.",
    )
    hnsw_max_neighbors: int = Field(
        32,
        ge=4,
        description="Links per vector in the HNSW graph of a new index (Chroma's default 16)."
        " On the archive (49k chunks, 160 questions, `python -m bench.dense_recall`) with"
        " ef_construction 400 Chroma returns 0.974 of the exact ten nearest, against 0.951"
        " with 16 and 100; fixed when the index is made.",
    )
    hnsw_ef_construction: int = Field(
        400,
        ge=10,
        description="How widely each vector's links are looked for as a new index is built"
        " (Chroma's default 100); fixed when the index is made.",
    )
    chunk_max_tokens: int = Field(
        250,
        ge=64,
        le=256,
        description="Most word-pieces a chunk (with its title and section) may take; the "
        "embedding model reads 256, so more would never be searched.",
    )
    embedding_batch_size: int = Field(32, ge=1, description="Texts embedded per model call.")
    ocr: bool = Field(
        True,
        description="Read by OCR (Debian's tesseract: scripts/install-ocr.sh) each PDF page with"
        " no usable text layer: a scan, or a scan whose old OCR is junk. Off, or with tesseract"
        " missing, a paper with no usable text is refused saying what to do.",
    )
    held_access: str = Field(
        "exempt",
        min_length=1,
        description="Access level of a paper that marks itself not for the public (not for"
        " publication, exempt information, a Part 2 item, confidential, draft) when"
        " metadata.json gives it none; metadata.json's `access` always wins.",
    )

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.sqlite3"

    @property
    def manifest_database(self) -> Path | str:
        return self.database("manifest.sqlite3")

    def database(self, file_name: str) -> Path | str:
        """Where a store keeps its tables: the shared database when one is set, else its own
        SQLite file in the data folder."""
        return self.database_url or self.data_dir / file_name

    @property
    def keyword_index_path(self) -> Path:
        return self.data_dir / "keyword-index"

    @property
    def glossary_path(self) -> Path:
        return self.data_dir / "glossary.json"
