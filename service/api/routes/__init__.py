"""One router per resource: search, ask, ask/stream, documents, summaries, themes, health,
the chat page."""
