"""How the theme scan reads words in place and learns acronyms (no model, no index)."""

from __future__ import annotations

from collections.abc import Callable

from ingest.text.tokens import Tokenizer, word_tokens
from service.themes.corpus import occurrence
from service.themes.terms import (
    Term,
    acronym_terms,
    coherent,
    content_stems,
    held_term,
    learn_acronyms,
    phrase_term,
    theme_phrases,
    wider_runs,
    written_as_name,
)


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


def test_small_words_inside_a_phrase_fix_how_its_words_relate() -> None:
    in_care = phrase_term("children in care")
    assert in_care.linked == ("children", "in", "care")
    assert occurrence(in_care, word_tokens("Outcomes for children in care improved."))
    assert not occurrence(in_care, word_tokens("Children's social care in Kent"))
    # without small words inside, the words may stand in either order
    rough = phrase_term("rough sleeping")
    assert rough.linked == ()
    assert occurrence(rough, word_tokens("people sleeping rough in the city"))


def test_a_name_joined_by_and_stays_whole_only_where_the_papers_hold_it() -> None:
    theme = "Climate change and the Energy and Low Emissions Strategy"
    held = {"energy and low emissions strategy"}
    assert theme_phrases(theme, lambda phrase: phrase in held) == [
        "climate change",
        "energy and low emissions strategy",
    ]
    assert theme_phrases(theme, lambda phrase: False) == [
        "climate change",
        "energy",
        "low emissions strategy",
    ]
    # lower-case words joined by "and" are two phrases, held or not
    assert theme_phrases("hate crime and hate incidents", lambda phrase: True) == [
        "hate crime",
        "hate incidents",
    ]


def test_a_phrase_the_papers_do_not_hold_is_found_by_its_longest_held_run() -> None:
    def holds(term: Term) -> bool:
        return term.text in {"employer national insurance contributions", "national insurance"}

    asked = "rise in employer national insurance contributions"
    assert held_term(asked, holds).text == "employer national insurance contributions"
    # no run of two or more words held: the phrase's words in any order
    fallback = held_term("exploitation of children", holds)
    assert (fallback.text, fallback.linked) == ("exploitation of children", ())
    assert fallback.stems == content_stems("exploitation children")


def test_a_stand_in_must_find_passages_most_of_the_way_to_its_phrases() -> None:
    baseline = 0.1
    phrase = [0.5, 0.5]
    assert coherent([0.4, 0.42], phrase, baseline)  # 0.31 of 0.4 of the way
    assert not coherent([0.3, 0.3], phrase, baseline)  # only half way
    assert coherent([0.3, 0.3], phrase, baseline, share=0.4)
    assert not coherent([0.12], [], baseline)  # no nearer than the papers at large


def test_an_acronym_of_a_possessive_name_is_learned() -> None:
    glossary = learn_acronyms(["Securing Kent’s Future (SKF) sets the budget recovery."])
    assert glossary.pairs == {"SKF": "securing kent s future"}


def _places_in(paragraphs: list[str]) -> Callable[[Term], int]:
    read = [word_tokens(paragraph) for paragraph in paragraphs]
    return lambda term: sum(bool(occurrence(term, words)) for words in read)


def test_runs_of_a_long_phrase_that_find_more_are_matched_as_written() -> None:
    places = _places_in(
        [
            "The increase in employer national insurance contributions costs £10m.",
            "Employer national insurance contributions grant: £10.1m.",
            "The National Insurance grant compensates for part of it.",
            "Pension contributions increase each year.",
            "Insurance for national events is held centrally.",
        ]
    )
    phrase = phrase_term("employer national insurance contributions increase")
    runs = {run.text: run for run in wider_runs(phrase, places)}
    # each run finds more than the phrase and than every longer run holding it
    assert set(runs) == {"employer national insurance contributions", "national insurance"}
    assert runs["national insurance"].linked == ("nation", "insur")  # not "insurance for national"
    assert wider_runs(phrase_term("rough sleeping"), places) == []  # two words: no runs


def test_a_phrase_the_papers_never_write_stands_for_its_longest_runs_they_do() -> None:
    places = _places_in(
        [
            "Domestic abuse related deaths are reviewed.",
            "Domestic abuse services were recommissioned.",
            "Incidents reported to the police rose.",
        ]
    )
    runs = [run.text for run in wider_runs(phrase_term("domestic abuse related incidents"), places)]
    # the longest run held, and the shorter ones inside it that find more ("abuse related"
    # finds no more); "incidents reported" is no run of the phrase
    assert runs == ["domestic abuse related", "domestic abuse"]


def test_a_phrase_written_in_capitals_is_a_name() -> None:
    theme = "Which papers mention Securing Kent's Future or employer National Insurance rises?"
    assert written_as_name("securing kent s future", theme)
    assert not written_as_name("employer national insurance rises", theme)
    assert not written_as_name("budget recovery", theme)  # not in the text at all
