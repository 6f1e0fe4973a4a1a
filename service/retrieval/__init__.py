"""Retrieval: a `Question` → the places in the live papers most likely to answer it
(retriever.py), as `Hit`s (hits.py); places join adjacent chunks and fold repeats
(places.py); an optional second-stage reranker (reranking.py)."""
