"""Is this turn for the program finder? A situation asking "which programs fit me", or a reply to the finder.

Questions about a named program (「サポインの補助率は？」) stay with passage retrieval; so do questions that
name no situation at all. A conversation the finder has started stays with it while the user answers its
question or corrects the profile it showed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.finder.finder import QUESTIONS
from bot.finder.profile import Profile, Vocabulary, extract
from bot.finder.render import CORRECT_HINT
from retrieval.glossary import Glossary, program_names
from retrieval.text import nfkc

# 「使える補助金はある？」「どの支援が合う？」「おすすめの制度」 "which programs fit"
_FIT_RE = re.compile(
    r"(使え|使いたい|利用でき|活用でき|合う|合った|向いて|向け|おすすめ|オススメ|お勧め|該当|申請でき|受けられ|もらえ|"
    r"対象にな|探して|探したい|紹介して|教えて|ありますか|ありませんか|ある[？?]|あります[？?]|ない[？?]|ないか|"
    r"ないでしょうか|ほしい|欲しい|したい)"
    r"[^。]{0,12}$|"
    r"(補助金|助成金|支援策|支援制度|制度|融資|税制|支援)[^。]{0,8}(ある|あります|ない|教えて|探し|知りたい|使え)",
)
_SUPPORT_RE = re.compile(r"補助|助成|支援|制度|融資|税制|給付|貸付|ローン|手助け|優遇|program|subsid|grant|support|loan",
                         re.IGNORECASE)
_EN_FIT_RE = re.compile(r"\b(which|what|any)\b.{0,40}\b(programs?|subsid\w*|grants?|support|loans?)\b|"
                        r"\b(can|could) (we|i)\b.{0,30}\b(get|use|apply)\b", re.IGNORECASE)


def wants_finder(question: str, history: Sequence[dict], glossary: Glossary, vocabulary: Vocabulary) -> bool:
    """Route to the finder: a reply inside a finder conversation, or a situation asking for fitting programs."""
    last = next((t.get("content", "") for t in reversed(history) if t.get("role") == "assistant"), "")
    if last and (any(q in last for q in QUESTIONS.values()) or CORRECT_HINT in last):
        if not _names_a_program(question, glossary):
            return True  # an answer to the finder's question, or a correction of the profile it showed
    q = nfkc(question).strip().rstrip("。．.!！?？ ")
    if _names_a_program(q, glossary) or not _SUPPORT_RE.search(q):
        return False
    if not (_FIT_RE.search(q) or _EN_FIT_RE.search(q)):
        return False
    profile: Profile = extract(q, vocabulary)
    # A situation: something about the business itself, not just "補助金を教えて".
    return bool(profile.industry or profile.circumstances or profile.size or profile.employees is not None
                or profile.personal or (profile.goals and len(q) >= 25))


def _names_a_program(text: str, glossary: Glossary) -> bool:
    return glossary.names_program(text) or bool(program_names(text))
