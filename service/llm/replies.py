"""Reading a chat model's reply: the answer text, the quotes it gives per passage, and the
part of a partial (streamed) reply that may be shown."""

from __future__ import annotations

import re

REFUSAL = "NOT_IN_PAPERS"  # what the prompt tells the model to reply when passages fall short
_QUOTES_HEADER = re.compile(r"^[ \t>#*_]*quotes?[ \t*_]*:?[ \t*_]*$", re.IGNORECASE | re.MULTILINE)
_QUOTE_LINE = re.compile(r"^[ \t>*•\-]*\[(\d{1,3})\][ \t:–\-]*(.+?)\s*$", re.MULTILINE)
_BARE_QUOTE_LINE = re.compile(r"^[ \t>*•\-]*\[\d{1,3}\][ \t:–\-]*[\"“]")
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
_QUOTED = re.compile(r"[\"“](.+)[\"”]", re.DOTALL)


def split_reply(reply: str) -> tuple[str, dict[int, list[str]]]:
    """The answer text, and the quotes given for each passage number."""
    text = _THINK.sub("", reply).strip()
    header = _QUOTES_HEADER.search(text)
    if header:
        answer, quote_block = text[: header.start()], text[header.end() :]
    else:  # no header: trailing `[n] "…"` lines are still the quotes
        lines = text.splitlines()
        split = len(lines)
        while split and (not lines[split - 1].strip() or _BARE_QUOTE_LINE.match(lines[split - 1])):
            split -= 1
        answer, quote_block = "\n".join(lines[:split]), "\n".join(lines[split:])
    quotes: dict[int, list[str]] = {}
    for line in _QUOTE_LINE.finditer(quote_block):
        quoted = _QUOTED.search(line[2])
        quotes.setdefault(int(line[1]), []).append(quoted[1] if quoted else line[2])
    return answer.strip(), quotes


def visible_answer(reply: str) -> str:
    """The part of a partial reply that is answer text: no QUOTES section, no refusal token,
    no reasoning block, and no unfinished last line that may turn into either."""
    text = _THINK.sub("", reply)
    header = _QUOTES_HEADER.search(text)
    if header:
        text = text[: header.start()]
    else:
        last = text.rfind("\n") + 1
        tail = text[last:].strip(" \t>#*_")
        if tail and ("quotes:".startswith(tail.lower()) or re.match(r"\[\d*\]?\s*[\"“]?$", tail)):
            text = text[:last]
        lines = text.split("\n")
        while lines and (not lines[-1].strip() or _BARE_QUOTE_LINE.match(lines[-1])):
            lines.pop()
        text = "\n".join(lines)
    text = text.strip()
    return "" if REFUSAL.startswith(text) or REFUSAL in text else text
