"""Word lists, one home each.

- `FUNCTION_WORDS`: words with no meaning of their own; the tokenizer drops them.
- `QUESTION_OPENERS`: the words a question opens with (a question word or an auxiliary).
- `ANSWER_KIND_WORDS`: words that say what kind of answer is wanted ("which documents
  mention …", "how many …"), not what it is about; never key terms.
- `THEME_FRAME_WORDS`: function words and the frame of a request for a theme ("papers that
  mention …, including …"); never part of the theme.
- `ACRONYM_LINKING_WORDS`: small words a long form may carry between the words its acronym
  spells ("Office of the Police and Crime Commissioner (OPCC)").
- `PHRASE_STOP_WORDS`: words no theme of a paper's summary ("health wellbeing") starts or
  ends with: function words and the furniture of a report ("appendix", "table", "noted").
"""

from __future__ import annotations

FUNCTION_WORDS = frozenset(
    "a an and are as at be been but by for from had has have he her his how i if in into is it "
    "its of on or our she so than that the their them then there these they this those to was "
    "we were what when where which who whom why will with would you your did do does".split()
)  # fmt: skip

INTERROGATIVES = frozenset("what which who whom whose when where why how".split())

QUESTION_OPENERS = INTERROGATIVES | frozenset(
    "is are was were does do did has have had can could will would should may might much "
    "many".split()
)  # fmt: skip

ANSWER_KIND_WORDS = INTERROGATIVES | frozenset(
    "many much does do did is are was were according documents document papers paper report "
    "reports mention mentioned say said there any about across give list part parts deal deals "
    "dealt discuss discusses discussed address addresses addressed raise raises raised refer "
    "refers referred".split()
)  # fmt: skip

THEME_FRAME_WORDS = FUNCTION_WORDS | frozenset(
    "about all also any both cover covers discuss discussed discusses document documents e each "
    "eg either especially etc every find g ie include includes including like list me mention "
    "mentioned mentioning mentions more other others paper papers place places refer referring "
    "refers report reports said say says show such tell us".split()
)  # fmt: skip

ACRONYM_LINKING_WORDS = frozenset("of and for the in on to & a an at with by".split())

PHRASE_STOP_WORDS = frozenset(
    "a an and are as at be been being by can could did do does for from had has have he her his "
    "how i if in into is it its may more most must no not of on or our over per she should so "
    "such than that the their them then there these they this those through to under up upon "
    "us was we were what when where which while who will with within would you your also other "
    "all any each both across well new key including include includes page pages report annex "
    "appendix item table figure year years number total data see e.g i.e via based "
    "available soon signed made taken provide provided noted agreed raised make like just "
    "still being going last next first second".split()
)  # fmt: skip
