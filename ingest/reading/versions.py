"""A document's version: the file's bytes and the rules that read them.

Ingest and sync skip a file whose version is live already. When a release reads papers
differently (where headings fall, how chunks are cut), or the chunk size setting changes,
the same bytes give other chunks, so the rules' number and the chunk size are part of the
version: the next ingest or sync reads every file again once, and a data folder built by an
older release catches up without being wiped. (Stored summaries belong to a version, so they
are made again; a document kept after its file went, `sync --keep-removed`, keeps its chunks.)
"""

from __future__ import annotations

import hashlib

# Bump whenever the same file would be stored differently: what the loaders read, the
# structure (blocks, headings, sections), chunking, extraction or the metadata described.
# 2: a heading set right above another introduces it; dates and addresses head no section.
# 3: PDF pages with no usable text layer are read by OCR, and their chunks say so.
# 4: title, body, meeting date and type from the paper's front sheet and its file name.
READING_RULES = 4


def document_version(file_sha256: str, chunk_max_tokens: int) -> str:
    """The version of a document read from a file with this SHA-256 by the current rules
    into chunks of at most `chunk_max_tokens` (a setting: changing it re-chunks too)."""
    rules = f"reading-rules-{READING_RULES}:chunk-tokens-{chunk_max_tokens}"
    return hashlib.sha256(f"{file_sha256}:{rules}".encode()).hexdigest()
