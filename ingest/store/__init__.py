"""The store: `PaperIndex` (index.py) is the one reader and writer of Chroma, the manifest
(SQLite: documents, chunks, page text), the keyword index and the glossary; `embeddings` is
the bundled model behind LangChain's `Embeddings`."""
