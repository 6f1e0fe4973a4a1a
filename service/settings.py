"""Settings of the service: retrieval, answering, LLM and HTTP.

Extends the ingest settings (one env prefix, `BOARDPAPERS_`, and a `.env` file) so one object
configures the whole process. Built at the edge and passed down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from ingest.settings import IngestSettings
from service.access.roles import DEFAULT_ROLES

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(IngestSettings):
    host: str = Field("127.0.0.1", description="Address `boardpapers serve` binds to.")
    port: int = Field(8000, description="Port `boardpapers serve` listens on.")
    workers: int = Field(
        1,
        ge=1,
        description="Processes `boardpapers serve` answers with (`--workers`). Each loads the"
        " model (~800 MB) and has its own work slots and rate limits; `/metrics` sums them all."
        " On 2 cores one is enough.",
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="How `boardpapers serve` logs: 'text' (uvicorn's lines), or 'json', one"
        " object per line (time, level, logger, pid, message; an access line's method, path,"
        " route, status and duration_ms) for a log collector.",
    )
    serve_embedding_threads: int = Field(
        1,
        ge=1,
        description="Threads one embedding uses when serving (ONNX Runtime's intra-op"
        " threads). A question is small: one thread embeds it in ~4 ms, and requests run side"
        " by side on the other cores.",
    )
    serve_embedding_int8: bool = Field(
        False,
        description="Serve with the model's matrix products in 8-bit integers: a question"
        " costs ~0.9 ms of CPU against ~3.1 ms, for vectors at cosine >= 0.99 to the stored"
        " ones' model. Rankings move a little: on the development sets recall@10 0.896 ->"
        " 0.884 (Oxfordshire), 0.882 either way (Kent), MRR 0.897 / 0.816 -> 0.897 / 0.821."
        " Off by default. On the archive (bench.archive --serve-only) /ask at 8 clients goes"
        " from 33.5 to 43.8 requests/s; /search does not gain (its Python, not the model,"
        " bounds it).",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (the widget's host pages).",
    )
    roles: dict[str, list[str]] = Field(
        default_factory=lambda: {role: list(levels) for role, levels in DEFAULT_ROLES.items()},
        description="Each role's access levels (JSON); '*' grants every level. A paper at a"
        " level no role names is seen by admin alone. Keys name a role.",
    )
    rate_limits: dict[str, int] = Field(
        default_factory=lambda: {"public": 60, "officer": 120, "member": 120, "admin": 0},
        description="Requests a minute per key, by role; past it, 429 with Retry-After. 0 or"
        " absent: no limit. Counted per replica.",
    )
    audit_retention_days: int | None = Field(
        365,
        ge=1,
        description="Days an audit row is kept; older ones are deleted daily. Unset (null)"
        " keeps them for ever.",
    )
    conversation_retention_days: int | None = Field(
        90,
        ge=1,
        description="Days a conversation (its questions and answers) is kept after its last"
        " turn; older ones are deleted at start-up and daily. Unset (null) keeps them for ever.",
    )
    work_slots: int = Field(
        4,
        ge=1,
        description="Searches, answers and theme scans worked on at once; more wait (see"
        " `work_wait_seconds`). On 2 cores more at once only makes each slower.",
    )
    work_wait_seconds: float = Field(
        5.0,
        ge=0,
        description="How long a request waits for a work slot before it gets 503 with"
        " Retry-After, rather than queueing for minutes.",
    )
    max_request_bytes: int = Field(
        65_536,
        ge=1_024,
        description="Largest request body the API reads; a larger one gets 413. A question, a"
        " theme or a search with its filters is a few kilobytes at most.",
    )
    read_timeout_seconds: float = Field(
        15.0,
        gt=0,
        description="Seconds a client has, once its headers are in, to send the whole request"
        " body; a slower one (or one sending less than its Content-Length) gets 408 and the"
        " connection is closed, instead of holding it open.",
    )
    max_question_chars: int = Field(
        1_000,
        ge=50,
        le=2_000,
        description="Longest question /ask and /ask/stream take; a longer one gets 422 saying"
        " so. Questions are rarely over 300 characters, and each character costs CPU.",
    )
    max_theme_chars: int = Field(
        200,
        ge=20,
        le=500,
        description="Longest theme /themes takes; a longer one gets 422 saying so. A theme is"
        " a few words.",
    )

    @property
    def access_db_path(self) -> Path:
        """API keys and the audit log, in the data folder."""
        return self.data_dir / "access.sqlite3"

    @property
    def access_database(self) -> Path | str:
        """API keys and the audit log: the shared database, else `access_db_path`."""
        return self.database(self.access_db_path.name)

    @property
    def conversations_database(self) -> Path | str:
        return self.database("conversations.sqlite3")

    @property
    def summaries_database(self) -> Path | str:
        return self.database("summaries.sqlite3")

    # retrieval
    candidates: int = Field(
        60, ge=5, le=200, description="Candidates each retriever (dense, keyword) contributes."
    )
    fusion_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(
        0.7,
        ge=0,
        description="Weight of the dense ranking in fusion. MiniLM ranks board-paper passages"
        " less well than BM25 does (dev-half MRR 0.59 vs 0.67 alone); from 0.65 to 0.8 the"
        " fused MRR is flat at 0.848, against 0.805 at 1.0.",
    )
    keyword_weight: float = Field(1.0, ge=0, description="Weight of the keyword ranking.")
    across_papers_discount: float = Field(
        0.5,
        gt=0,
        le=1,
        description='For a question asked across the papers ("which documents …"), each'
        " passage's score is multiplied by this once per passage of the same paper ranked above"
        " it, so the results spread across papers; 1 turns it off.",
    )
    date_weight: float = Field(
        0.5,
        ge=0,
        description="Lift for papers dated as the question names (month and year; half for the"
        " year), in top-rank-fusion units; 0 turns it off.",
    )

    term_coverage_weight: float = Field(
        0.2,
        ge=0,
        le=1,
        description="How much a passage's fused score depends on the share of the question's"
        " key terms it holds (an acronym and its long form count once, rare terms weigh more):"
        " the score is multiplied by 1 - w + w × share; 0 turns it off.",
    )

    passage_max_chunks: int = Field(
        2,
        ge=1,
        le=4,
        description="Adjacent chunks that both rank above the k-th place are one passage, up to"
        " this many chunks; 1 keeps every chunk a passage of its own.",
    )

    search_question_parts: bool = Field(
        True,
        description='A question asking two things ("who chaired … in June 2017, and who'
        ' chairs … according to the 2024/25 report?") is also searched part by part: the'
        " rankings are summed, each scaled to its best, so each part brings its passages.",
    )

    expand_acronyms: bool = Field(
        True, description="Expand queries with the acronyms the papers define, both ways."
    )

    reranker: Literal["none", "cross-encoder", "bi-encoder"] = Field(
        "none",
        description="Second stage that re-scores the best fused chunks: a cross-encoder, or a"
        " second embedding model (e.g. all-mpnet-base-v2). 'none' by the dev-half figures.",
    )
    reranker_model: Path | None = Field(
        None, description="Local folder of the reranker's model; nothing is downloaded."
    )
    rerank_depth: int = Field(
        20, ge=2, le=100, description="How many of the best fused chunks the reranker re-scores."
    )
    rerank_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Weight of the reranker's order against the fused order, combined by"
        " reciprocal rank; 1 takes the reranker's order alone.",
    )

    # answering
    answerer: Literal["extractive", "llm"] = Field(
        "extractive", description="'extractive' needs no LLM; 'llm' uses the chat model below."
    )
    answer_passages: int = Field(
        6,
        ge=1,
        le=20,
        description="Places (passages, each up to `passage_max_chunks` chunks) an answer draws on.",
    )
    list_passages: int = Field(
        12,
        ge=1,
        le=50,
        description='Places a list answer ("which papers mention …") draws on: one entry per'
        " paper among them.",
    )
    answer_sentences: int = Field(
        4, ge=1, le=12, description="Most sentences in an extractive answer."
    )
    min_relevance: float = Field(
        0.35,
        description="Dense similarity (cosine) of the closest passage below which the papers"
        " are taken not to cover the question.",
    )

    # LLM
    llm_provider: Literal["openai", "ollama"] = Field(
        "openai",
        description="'openai': any OpenAI-compatible endpoint; 'ollama': an Ollama server.",
    )
    llm_model: str = Field("gpt-4o-mini", description="Chat model name at the provider.")
    llm_base_url: str | None = Field(None, description="Base URL of the chat endpoint.")
    llm_api_key: SecretStr = Field(SecretStr("not-needed"), description="API key, if any.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds before an LLM call is abandoned.")
    llm_temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature.")
    prompts_dir: Path = Field(PROJECT_ROOT / "prompts", description="Prompt templates folder.")
    corpus_dir: Path = Field(
        PROJECT_ROOT / "corpus", description="Sample papers ingested by `make run`."
    )

    # a running service
    service_url: str | None = Field(
        None,
        description="Address of a running `boardpapers serve`, e.g. http://127.0.0.1:8000: when"
        " set, `boardpapers ask` and `search` post the question to its `/ask` and `/search` and"
        " print the reply as they would their own (~0.8 s of CPU), instead of opening the index"
        " and loading the embedding model themselves (~2 s). The service answers from its own"
        " data folder; `--data-dir` is not used.",
    )
    service_key: SecretStr | None = Field(
        None,
        description="API key `boardpapers ask` and `search` send to `service_url` once the"
        " service has keys (`Authorization: Bearer`).",
    )
