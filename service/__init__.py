"""The service: a question → retrieval → a cited answer, over HTTP and the CLI.

- `query/`: the question read once (`Question`: its parts, dates, key terms, kind) and
  follow-ups rewritten to stand alone.
- `retrieval/`: hybrid dense + keyword search, fusion, places, the optional reranker.
- `answers/`: the evidence check and the two answerers (extractive, LLM).
- `citations`: the one verbatim check and page finder.
- `llm/`: chat models, the deadline they run under, prompts, reading their replies.
- `themes/`, `summaries/`, `conversations`, `evaluation`.
- `container`: builds every component; `api/`: the FastAPI app, its dependencies, schemas,
  routes and the widget; `cli/`: the `boardpapers` command.
"""
