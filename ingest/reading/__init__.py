"""Reading a paper: a file → pages → blocks (headings, paragraphs, list items, tables) →
chunks, with its metadata, its decisions and agenda, and the version of the rules that read
it."""
