"""The index: the one place that reads and writes the store — a Chroma collection of chunk
vectors, the manifest of live documents, and the keyword index.

Write order for a new or changed document: stage its chunks in the manifest, add their
vectors to Chroma, publish (one SQLite transaction switches the live version), then delete
the old version's vectors. Every query filters Chroma to live versions, so a reader never
sees two versions of a paper, and a crash at any point leaves the old version live and the
new one's leftovers to be swept by the next run. Several documents go in together
(`replace_documents`): all staged, all their vectors computed in one model call and added,
then each published in turn, so each is still published only once all its vectors are in.

The keyword index and the glossary follow what is live (the manifest's generation), each
rebuilt from the last one, reading only the papers new since.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.models import Chunk, DocumentMeta, Page
from ingest.settings import IngestSettings
from ingest.store.disk_full import ChromaCopy, DataDiskFull, ReadOnlyCollection, is_disk_full
from ingest.store.keyword_index import DocumentKey, KeywordIndex, document_key
from ingest.store.manifest import Manifest, StoredDocument
from ingest.store.shared_use import SharedUse
from ingest.text.acronyms import (
    DocumentDefinitions,
    Glossary,
    count_definitions,
    load_document_definitions,
    save_document_definitions,
)

log = logging.getLogger(__name__)

# Vectors per Chroma upsert (Chroma takes at most a few thousand at once).
ADD_BATCH = 1024
# Papers whose chunks the keyword index and glossary fetch one by one; more are read at once.
_FETCH_ONE_BY_ONE = 20


def make_chroma_client(settings: IngestSettings, path: Path | None = None) -> Any:
    """The Chroma client the settings ask for: embedded on disk (in `path`, else the data
    folder's), or a Chroma server."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_mode == "server":
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
        )
    path = path or settings.chroma_path
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _open_chroma(settings: IngestSettings) -> tuple[Any, ChromaCopy | None]:
    """The settings' Chroma client; on a full disk (Chroma writes as it opens a store), one
    reading a copy of the store, with the copy."""
    try:
        return make_chroma_client(settings), None
    except Exception as error:
        if settings.chroma_mode == "server" or not is_disk_full(error, settings.chroma_path):
            raise
    copy = ChromaCopy(settings.chroma_path)
    log.warning("%s; searching a copy of the index in %s meanwhile", DataDiskFull(), copy.path)
    return make_chroma_client(settings, copy.path), copy


@dataclass(frozen=True)
class NewVersion:
    """A document's new version, read and chunked, to be made live."""

    meta: DocumentMeta
    version: str
    path: str
    pages: Sequence[Page]
    chunks: list[Chunk]
    extraction_json: str | None = None


@dataclass(frozen=True)
class SearchFilters:
    """Restrictions applied inside both indexes, never after them."""

    documents: tuple[str, ...] = ()
    bodies: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    date_from: str | None = None  # ISO dates, inclusive
    date_to: str | None = None
    access: tuple[str, ...] = ()

    def admits(self, meta: DocumentMeta) -> bool:
        if self.documents and meta.doc_id not in self.documents:
            return False
        if self.bodies and meta.body.lower() not in {b.lower() for b in self.bodies}:
            return False
        if self.doc_types and meta.doc_type.lower() not in {t.lower() for t in self.doc_types}:
            return False
        if self.access and meta.access not in self.access:
            return False
        date = meta.date or ""
        if self.date_from and (not date or date < self.date_from):
            return False
        return not (self.date_to and (not date or date > self.date_to))


class PaperIndex:
    def __init__(
        self, settings: IngestSettings, embeddings: Embeddings, chroma_client: Any | None = None
    ) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.manifest = Manifest(settings.manifest_database)
        # An embedded client never sees vectors another process adds after its first query
        # (its HNSW graph is built once), so it is re-opened when what is live changes.
        self._reopens_on_change = chroma_client is None and settings.chroma_mode == "embedded"
        self._chroma_lock = threading.RLock()  # guards which generation the client is of
        self._chroma_users = SharedUse()
        self._client, self._copy = (
            (chroma_client, None) if chroma_client is not None else _open_chroma(settings)
        )
        self._collection_now = self._open_collection()
        self._chroma_generation = self.manifest.generation()
        self._keyword: KeywordIndex | None = None
        self._glossary: tuple[int, Glossary] | None = None
        self._definitions: DocumentDefinitions | None = None  # per paper, for the glossary

    def _open_collection(self) -> Any:
        # embedding_function=None: Chroma must never embed (its default downloads a model).
        settings = self.settings
        ef_search = settings.hnsw_ef_search
        # How the graph is built applies to a new index only; Chroma keeps an existing one's.
        graph = {
            "max_neighbors": settings.hnsw_max_neighbors,
            "ef_construction": settings.hnsw_ef_construction,
        }
        collection = self._client.get_or_create_collection(
            name=settings.collection,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_search": ef_search, **graph}},
        )
        # A store made before the setting (or with another value) is searched as set now.
        hnsw = (collection.configuration_json or {}).get("hnsw") or {}
        if hnsw.get("ef_search") != ef_search:
            with warnings.catch_warnings():
                # Chroma 1.5 warns that a collection without an embedding function has a
                # "legacy" config when it re-reads it after the change; ours has none.
                warnings.simplefilter("ignore", DeprecationWarning)
                collection.modify(configuration={"hnsw": {"ef_search": ef_search}})
        return collection if self._copy is None else ReadOnlyCollection(collection)

    @contextmanager
    def _chroma(self) -> Iterator[Any]:
        """The collection, re-opened first when another process has changed what is live since
        this one last looked (or, read from a copy while the disk was full, once there is
        room). Calls run side by side; a re-open waits for them and runs alone. A write that
        fails for want of room raises DataDiskFull."""
        if self._chroma_stale():
            with self._chroma_users.exclusive():
                if self._chroma_stale():  # not re-opened by another thread meanwhile
                    self._reopen_chroma()
        with self._chroma_users.shared():
            try:
                yield self._collection_now
            except Exception as error:
                if is_disk_full(error, self.settings.chroma_path):
                    raise DataDiskFull() from error
                raise

    def _chroma_stale(self) -> bool:
        changed = self._reopens_on_change and self.manifest.generation() != self._chroma_generation
        return changed or (self._copy is not None and self._copy.worth_leaving())

    def _reopen_chroma(self) -> None:
        with self._chroma_lock:
            generation = self.manifest.generation()  # first: a change after it is seen next
            self._client.close()  # stops the stale system when no one else holds it
            if self._copy is not None:
                self._copy.remove()
            self._client, self._copy = _open_chroma(self.settings)
            self._collection_now = self._open_collection()
            self._chroma_generation = generation

    def _saw_own_change(self) -> None:
        """After this process published or removed (one step of the generation), through the
        client it holds: no need to re-open. A larger step means another process wrote too,
        and the next call re-opens."""
        with self._chroma_lock:
            generation = self.manifest.generation()
            if generation == self._chroma_generation + 1:
                self._chroma_generation = generation

    # --- reads -----------------------------------------------------------------------------

    def documents(self) -> list[StoredDocument]:
        return self.manifest.documents()

    def document(self, doc_id: str) -> StoredDocument | None:
        return self.manifest.document(doc_id)

    def version_of(self, doc_id: str) -> str | None:
        stored = self.manifest.document(doc_id)
        return stored.version if stored else None

    def live_versions(self, filters: SearchFilters | None = None) -> list[str]:
        docs = self.manifest.documents()
        return [d.version for d in docs if filters is None or filters.admits(d.meta)]

    def dense_search(
        self, query_vector: Sequence[float], k: int, filters: SearchFilters | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the nearest chunks that pass the filters.

        With filters, Chroma searches only the admitted documents' live versions. Without,
        it searches everything (a third faster), and a chunk of a version being written may
        come back: callers resolve ids through `manifest.chunks_by_id`, which returns live
        chunks only.
        """
        where: dict[str, Any] | None = None
        if filters is not None and filters != SearchFilters():
            documents = self.manifest.documents()
            versions = [d.version for d in documents if filters.admits(d.meta)]
            if not versions:
                return []
            if len(versions) < len(documents):  # filters that admit every paper need no `where`
                where = {"version": {"$in": versions}}
        with self._chroma() as collection:
            result = collection.query(
                query_embeddings=[list(query_vector)],
                n_results=k,
                where=where,
                include=["distances"],
            )
        ids = result["ids"][0]
        distances = result["distances"][0] if result.get("distances") else [1.0] * len(ids)
        return [(chunk_id, 1.0 - float(d)) for chunk_id, d in zip(ids, distances, strict=True)]

    def keyword_index(self) -> KeywordIndex:
        """The keyword index for what is live now, loaded or rebuilt when it is stale."""
        keyword, _ = self._refresh(keyword=True, glossary=False)
        assert keyword is not None, "refreshed just now"
        return keyword

    def chunk_vectors(self, chunk_ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored embedding of each chunk, so later steps need not embed again."""
        if not chunk_ids:
            return {}
        with self._chroma() as collection:
            result = collection.get(ids=list(chunk_ids), include=["embeddings"])
        embeddings = result.get("embeddings")
        if embeddings is None:
            return {}
        return {i: list(map(float, v)) for i, v in zip(result["ids"], embeddings, strict=True)}

    def unit_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Each chunk's stored embedding scaled to length one: a dot product is the cosine."""
        unit = {}
        for chunk_id, vector in self.chunk_vectors(chunk_ids).items():
            array = np.asarray(vector, dtype=np.float32)
            unit[chunk_id] = array / (np.linalg.norm(array) or 1.0)
        return unit

    def chroma_ids(self) -> list[str]:
        """Every chunk id in the Chroma collection, live or not (for consistency checks)."""
        with self._chroma() as collection:
            return list(collection.get(include=[])["ids"])

    def glossary(self) -> Glossary:
        """Acronyms the live papers define, learned again whenever what is live changes (each
        paper's definitions are counted once, when it is new)."""
        _, glossary = self._refresh(keyword=False, glossary=True)
        assert glossary is not None, "refreshed just now"
        return glossary

    def chunk_count(self) -> int:
        with self._chroma() as collection:
            return int(collection.count())

    # --- writes ----------------------------------------------------------------------------

    def sweep(self) -> None:
        """Remove what a run that died left behind: staged rows and unpublished vectors."""
        try:
            self.manifest.drop_unpublished()
            documents = self.manifest.documents()
            live = [doc.version for doc in documents]
            where: dict[str, Any] = {"version": {"$nin": live}} if live else {}
            with self._chroma() as collection:
                # Every live chunk's vector is in (published only after), so as many vectors
                # as live chunks means no leftovers: no search through all the vectors for
                # them (seconds for an archive), which an unchanged re-ingest would spend.
                if collection.count() == sum(doc.chunk_count for doc in documents):
                    return
                if where:
                    collection.delete(where=where)
                elif collection.count():
                    collection.delete(where={"version": {"$ne": ""}})
        except DataDiskFull:
            # Leftovers are never live, so they can wait; the writes that follow say the rest.
            log.warning("%s; leftovers of a run are swept once there is room", DataDiskFull())

    def replace_document(
        self,
        meta: DocumentMeta,
        version: str,
        path: str,
        pages: Sequence[Page],
        chunks: list[Chunk],
        extraction_json: str | None = None,
    ) -> None:
        """Make `chunks` the live content of `meta.doc_id`, replacing any earlier version;
        `extraction_json` (recommendations, agenda) goes live with them."""
        new = NewVersion(meta, version, path, pages, chunks, extraction_json)
        error = self.replace_documents([new])[0]
        if error is not None:
            raise error

    def replace_documents(self, versions: Sequence[NewVersion]) -> list[Exception | None]:
        """Make each new version live as `replace_document` does, with all their vectors
        computed in one model call (so short and long chunks of several papers share the
        padding) and written to Chroma together; then each is published on its own, in order,
        only once all its vectors are in. Per version: None, or the error that kept it from
        going live; the others go on regardless."""
        errors: list[Exception | None] = [None] * len(versions)
        staged: list[int] = []
        for position, new in enumerate(versions):
            try:
                self.manifest.stage(new.meta, new.version, new.pages, new.chunks)
                if new.extraction_json is not None:
                    self.manifest.store_extraction(
                        new.meta.doc_id, new.version, new.extraction_json
                    )
                staged.append(position)
            except Exception as error:  # this paper stays as it was; the batch goes on
                errors[position] = error
        for position, refused in self._add_vectors(versions, staged).items():
            errors[position] = refused
        replaced: list[NewVersion] = []
        for position, new in enumerate(versions):
            if errors[position] is not None:
                continue
            try:
                earlier = self.manifest.document(new.meta.doc_id)
                self.manifest.publish(
                    new.meta, new.version, new.path, pages=len(new.pages),
                    chunk_count=len(new.chunks),
                )  # fmt: skip
            except Exception as error:
                errors[position] = error
                continue
            self._saw_own_change()
            if earlier is not None and earlier.version != new.version:
                replaced.append(new)
        # The old versions' vectors: never live now; a crash before this leaves them to sweep.
        for new in replaced:
            with self._chroma() as collection:
                collection.delete(
                    where={"$and": [{"doc_id": new.meta.doc_id}, {"version": {"$ne": new.version}}]}
                )
        return errors

    def _add_vectors(
        self, versions: Sequence[NewVersion], positions: list[int]
    ) -> dict[int, Exception]:
        """Embed the chunks of `versions` at `positions` and add them to Chroma; the errors of
        those that could not go in, by position. Each step is tried for all together first;
        when that fails, for one version at a time, so only the paper at fault is held back."""
        errors: dict[int, Exception] = {}
        if not positions:
            return errors
        try:
            vectors = self._embed({p: versions[p].chunks for p in positions})
        except Exception:
            vectors = {}
            for position in positions:
                try:
                    vectors |= self._embed({position: versions[position].chunks})
                except Exception as error:
                    errors[position] = error
        ready = [p for p in positions if p in vectors]
        try:
            self._upsert([(versions[p].chunks, vectors[p]) for p in ready])
        except Exception:
            for position in ready:
                try:
                    self._upsert([(versions[position].chunks, vectors[position])])
                except Exception as error:
                    errors[position] = error
        return errors

    def _embed(self, chunks: dict[int, list[Chunk]]) -> dict[int, list[list[float]]]:
        """The vectors of each list of chunks, all computed in one model call, longest text
        first so each of the model's batches holds texts of like length (less padding)."""
        texts = [
            (key, n, c.context_text()) for key, group in chunks.items() for n, c in enumerate(group)
        ]
        texts.sort(key=lambda item: -len(item[2]))
        computed = self.embeddings.embed_documents([text for _, _, text in texts])
        vectors: dict[int, list[list[float]]] = {
            key: [[]] * len(group) for key, group in chunks.items()
        }
        for (key, n, _), vector in zip(texts, computed, strict=True):
            vectors[key][n] = vector
        return vectors

    def _upsert(self, pieces: list[tuple[list[Chunk], list[list[float]]]]) -> None:
        chunks = [chunk for group, _ in pieces for chunk in group]
        vectors = [vector for _, group in pieces for vector in group]
        for start in range(0, len(chunks), ADD_BATCH):
            batch = chunks[start : start + ADD_BATCH]
            with self._chroma() as collection:
                collection.upsert(
                    ids=[c.chunk_id for c in batch],
                    embeddings=vectors[start : start + ADD_BATCH],
                    documents=[c.text for c in batch],
                    metadatas=[_chroma_metadata(c) for c in batch],
                )

    def move_document(self, meta: DocumentMeta, path: str) -> bool:
        """Record that a live document's file is now at `path` (moved or renamed, the same
        bytes): its chunks and vectors stand, so nothing is embedded again."""
        moved = self.manifest.relocate(meta, path)
        self._saw_own_change()
        return moved

    def restate_document(self, meta: DocumentMeta) -> bool:
        """Record new metadata (an access level the sidecar changed) for a live document whose
        file is unchanged: its title is unchanged too, so its vectors stand."""
        stored = self.manifest.document(meta.doc_id)
        if stored is None:
            return False
        restated = self.manifest.relocate(meta, stored.path)
        self._saw_own_change()
        return restated

    def store_extraction(self, doc_id: str, version: str, extraction_json: str) -> None:
        """Add an extraction to a version already live (documents ingested before it existed)."""
        self.manifest.store_extraction(doc_id, version, extraction_json)

    def remove_document(self, doc_id: str) -> bool:
        removed = self.manifest.remove(doc_id)
        self._saw_own_change()
        with self._chroma() as collection:
            collection.delete(where={"doc_id": doc_id})
        return removed

    def refresh_keyword_index(self) -> None:
        """Bring the keyword index and glossary up to what is live now (after a batch), not
        on the next query."""
        self._refresh(keyword=True, glossary=True)

    def _refresh(
        self, *, keyword: bool, glossary: bool
    ) -> tuple[KeywordIndex | None, Glossary | None]:
        """The keyword index and the glossary asked for, each for what is live now: as held,
        else as saved in the data folder (another process may have built it), else built
        afresh, reading only the papers new since (their chunks fetched once for both)."""
        generation = self.manifest.generation()
        previous: KeywordIndex | None = None
        rebuild_keyword = False
        if keyword and (self._keyword is None or self._keyword.generation != generation):
            loaded = KeywordIndex.load(self.settings.keyword_index_path)
            if loaded is not None and loaded.generation == generation:
                self._keyword = loaded
            else:
                rebuild_keyword = True
                # Any earlier index lends the tokens of the papers it shares with this one.
                previous = loaded if loaded is not None and loaded.documents else self._keyword
        learn_glossary = glossary and (self._glossary is None or self._glossary[0] != generation)
        if rebuild_keyword or learn_glossary:
            documents = sorted(self.manifest.documents(), key=lambda doc: doc.meta.doc_id)
            tokenized = previous.documents if previous is not None else {}
            definitions = self._document_definitions() if learn_glossary else {}
            missing = [
                doc for doc in documents
                if (rebuild_keyword and _document_key(doc) not in tokenized)
                or (learn_glossary and definitions.get(doc.meta.doc_id, ("",))[0] != doc.version)
            ]  # fmt: skip
            fetched = self._chunks_of(missing)
            if rebuild_keyword:
                self._keyword = self._rebuild_keyword_index(
                    generation, documents, fetched, previous
                )
            if learn_glossary:
                self._glossary = (generation, self._learn_glossary(documents, fetched, definitions))
        return (
            self._keyword if keyword else None,
            self._glossary[1] if glossary and self._glossary else None,
        )

    def _chunks_of(self, documents: Sequence[StoredDocument]) -> dict[str, list[Chunk]]:
        """The live chunks of these documents by id: fetched one document at a time for a
        few, all at once for many."""
        if len(documents) <= _FETCH_ONE_BY_ONE:
            return {
                doc.meta.doc_id: self.manifest.document_chunks(doc.meta.doc_id) for doc in documents
            }
        wanted = {doc.meta.doc_id for doc in documents}
        fetched: dict[str, list[Chunk]] = {}
        for chunk in self.manifest.live_chunks():
            if chunk.doc_id in wanted:
                fetched.setdefault(chunk.doc_id, []).append(chunk)
        return fetched

    def _rebuild_keyword_index(
        self,
        generation: int,
        documents: list[StoredDocument],
        fetched: dict[str, list[Chunk]],
        previous: KeywordIndex | None,
    ) -> KeywordIndex:
        known = previous.documents if previous is not None else {}
        order: list[DocumentKey] = []
        fresh: dict[DocumentKey, list[Chunk]] = {}
        for doc in documents:
            key = _document_key(doc)
            chunks = fetched.get(doc.meta.doc_id)
            if key in known:  # (fetched, if at all, for the glossary's sake)
                order.append(key)
            elif chunks:  # keyed as read: a paper replaced meanwhile is a later generation's
                key = document_key(chunks[0])
                order.append(key)
                fresh[key] = chunks
        keyword = KeywordIndex.assemble(order, fresh, generation, previous)
        try:
            keyword.save(self.settings.keyword_index_path)
        except OSError as error:  # a read-only or full data folder still answers from memory
            log.warning("could not save the keyword index: %s", error)
        return keyword

    def _document_definitions(self) -> DocumentDefinitions:
        if self._definitions is None:
            self._definitions = load_document_definitions(self._definitions_path)
        return self._definitions

    def _learn_glossary(
        self,
        documents: list[StoredDocument],
        fetched: dict[str, list[Chunk]],
        known: DocumentDefinitions,
    ) -> Glossary:
        live: DocumentDefinitions = {}
        for doc in documents:
            doc_id = doc.meta.doc_id
            chunks = fetched.get(doc_id)
            if chunks:
                live[doc_id] = (chunks[0].version, count_definitions(c.text for c in chunks))
            elif doc_id in known and known[doc_id][0] == doc.version:
                live[doc_id] = known[doc_id]
        glossary = Glossary.merged(counts for _, counts in live.values())
        try:
            glossary.save(self.settings.glossary_path)
            if live != known:
                save_document_definitions(self._definitions_path, live)
        except OSError as error:  # a read-only or full data folder still answers from memory
            log.warning("could not save the glossary: %s", error)
        self._definitions = live
        return glossary

    @property
    def _definitions_path(self) -> Path:
        return self.settings.glossary_path.with_name("glossary-by-document.json")


def _document_key(doc: StoredDocument) -> DocumentKey:
    return (doc.meta.doc_id, doc.version, doc.meta.title)


def _chroma_metadata(chunk: Chunk) -> dict[str, str | int | bool]:
    return {
        "ocr": chunk.ocr,
        "doc_id": chunk.doc_id,
        "version": chunk.version,
        "page": chunk.page,
        "page_end": chunk.page_end,
        "kind": chunk.kind,
        "section": chunk.section,
        "paragraph": chunk.paragraph or "",
    }
