"""Text shared by ingest and service alike: one tokenizer and stemmer (`tokens`), one home
for each word list (`words`), sentence spans (`sentences`) and acronyms learned from the
papers (`acronyms`)."""
