"""Word lists, one home each.

- `FUNCTION_WORDS`: words with no meaning of their own; the tokenizer drops them.
- `QUESTION_OPENERS`: the words a question opens with (a question word or an auxiliary).
- `ANSWER_KIND_WORDS`: words that say what kind of answer is wanted ("which documents
  mention …", "how many …"), not what it is about; never key terms.
- `THEME_FRAME_WORDS`: function words and the frame of a request for a theme ("papers that
  mention …, including …"); never part of the theme.
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
    "about all also any both cover covers discuss discussed discusses document documents e eg "
    "either especially etc find g ie include includes including like list me mention mentioned "
    "mentioning mentions more other others paper papers place places refer referring refers "
    "report reports said say says show such tell us".split()
)  # fmt: skip
