"""Ingest: files → pages → blocks → chunks → the store.

- `reading/`: turning a file into blocks and chunks (loaders, structure, metadata, chunking,
  extraction of decisions, versions of the reading rules).
- `text/`: what every reader of text shares: one tokenizer and stemmer, the word lists,
  sentences, acronyms learned from the papers.
- `store/`: what `service` reads (`PaperIndex`, the one reader and writer; manifest, keyword
  index, embeddings, SQLite).
- `pipeline`, `sync`: ingest files and keep folders in step.

Nothing here imports `service`.
"""
