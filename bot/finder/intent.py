"""Is this turn for the program finder? A situation asking "which programs fit me", or a reply to the finder.

Questions about a named program (「サポインの補助率は？」) stay with passage retrieval; so do questions that
name no situation at all. A conversation the finder has started stays with it while the user answers its
question or corrects the profile it showed (the finder's state on the last turn says so: bot/turns.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.finder.profile import Vocabulary
from bot.turns import finder_awaits_reply
from retrieval.glossary import Glossary, program_names
from retrieval.text import nfkc

# 「合う補助金は？」「おすすめの支援」「どの制度が使える？」「探して」: asking to be matched, not about one program.
# (「頼れる制度はある？」 alone stays with passage retrieval, which names the best program with its facts.)
_FINDER_RE = re.compile(
    r"合う|合った|合いそう|向いて|おすすめ|オススメ|お勧め|該当し|該当する|探して|探したい|探す|どれが|どれを|"
    r"どの(補助金|助成金|支援|制度|事業|融資)|候補|診断(?!士)")
_EN_FINDER_RE = re.compile(r"\b(fits?|suit\w*|recommend\w*|which (programs?|subsid\w*|grants?|support))\b",
                           re.IGNORECASE)
_SUPPORT_RE = re.compile(r"補助|助成|支援|制度|融資|税制|給付|貸付|ローン|手助け|優遇|program|subsid|grant|support|loan",
                         re.IGNORECASE)


def wants_finder(question: str, history: Sequence[dict], glossary: Glossary, vocabulary: Vocabulary) -> bool:
    """Route to the finder: a reply inside a finder conversation, or a request to be matched with programs."""
    if finder_awaits_reply(history) and not _names_a_program(question, glossary):
        return True  # an answer to the finder's question, or a correction of the profile it showed
    q = nfkc(question).strip()
    if _names_a_program(q, glossary) or not _SUPPORT_RE.search(q):
        return False
    return bool(_FINDER_RE.search(q) or _EN_FINDER_RE.search(q))


def _names_a_program(text: str, glossary: Glossary) -> bool:
    return glossary.names_program(text) or bool(program_names(text))
