"""Themes: every place in the live papers that mentions a theme, not a top k.

`scan.py` (`ThemeScanner`) matches the theme's terms against every paragraph and sweeps the
chunks nearest it; `terms.py` makes the terms (the reader's phrases, their single-word
stand-ins, acronyms the papers define, near-synonyms from the embedding space); `corpus.py`
holds the live papers as paragraphs indexed by stem, read by `ingest.text.tokens.word_tokens`;
`kinds.py` says what a place is (priority, review, recommendation, decision, action, figure);
`schemas.py` and `export.py` give the `POST /themes` body as JSON, Markdown or CSV.
"""
