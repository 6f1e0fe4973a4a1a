"""Text shared by ingest and service alike: one tokenizer and stemmer (`tokens`: `Tokenizer`
for the keyword index and questions, `word_tokens` for words in place), one home for each
word list (`words`), sentence spans (`sentences`) and acronyms learned from the papers
(`acronyms`)."""
