"""Exports for briefing writers: a theme scan's places or an answer's sources as a table that
links each row to the cited page.

`links.py` builds every link (a citation's `/documents/{id}/file#page=N`, absolute where a
base URL is known) and every Markdown cell; `docx.py` writes a titled evidence table as a Word
document; `answers.py` lays out an answer with its numbered sources (Markdown, DOCX);
`media.py` names each format's media type and file name; `output.py` delivers an export from
the command line (a file, or standard output for text). A theme scan's layout is
`service/themes/export.py`.
"""
