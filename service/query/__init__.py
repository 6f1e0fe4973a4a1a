"""The question: read once into a `Question` (question.py) from its parts (parts.py), the
dates it names (dates.py) and its key terms (key_terms.py); follow-ups in a conversation are
rewritten into a question that stands alone (followup.py)."""
