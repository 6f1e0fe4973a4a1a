"""How the theme scan reads words in place and learns acronyms (no model, no index)."""

from __future__ import annotations

from ingest.text.tokens import Tokenizer, word_tokens
from service.themes.terms import Term, acronym_terms, content_stems, learn_acronyms


def test_words_in_place_keep_their_spans_and_give_hyphenated_and_possessive_parts() -> None:
    text = "Kent’s well-being plan for 2024-25: the 16th Q1 review"
    read = word_tokens(text)
    assert [t.word for t in read] == [
        "kent", "s", "well", "being", "plan", "for", "the", "16th", "q1", "review",
    ]  # fmt: skip
    assert all(text[t.start : t.end].lower() == t.word for t in read)
    # the index's tokenizer reads the same text its own way ("well-being" is also "wellbeing")
    assert "wellb" in Tokenizer()(text)
    assert "wellb" not in {t.stem for t in read}


def test_the_frame_of_a_request_is_not_part_of_a_phrase() -> None:
    assert content_stems("papers that mention rough sleeping") == ("rough", "sleep")


def test_acronyms_are_learned_either_way_round_and_expand_both_ways() -> None:
    glossary = learn_acronyms(
        [
            "The Oxfordshire Safeguarding Adults Board (OSAB) met.",
            "OSAB (Oxfordshire Safeguarding Adults Board) agreed.",
            "The NRM (National Referral Mechanism) was used.",
        ]
    )
    assert glossary.pairs == {
        "OSAB": "oxfordshire safeguarding adults board",
        "NRM": "national referral mechanism",
    }
    phrase = Term("safeguarding adults board", content_stems("safeguarding adults board"), "theme")
    acronym = Term("NRM", content_stems("NRM"), "theme")
    found = acronym_terms(glossary, [phrase, acronym])
    assert [(t.text, t.source) for t in found] == [
        ("OSAB", "acronym"),
        ("national referral mechanism", "long form"),
    ]
