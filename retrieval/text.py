"""Japanese text normalisation: the one place that decides what counts as "the same text".

Chunking, the keyword index, the answerer's matching and the eval metrics all call these
functions, so a match means the same thing everywhere. Citations keep the original text;
only matching uses the normalised forms.
"""

from __future__ import annotations

import datetime
import functools
import re
import sys
import threading
import unicodedata
from collections.abc import Iterator, Sequence

# Era start years: 令和N年 = 2018+N, 平成N年 = 1988+N, 昭和N年 = 1925+N.
ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925}
ERA_INITIALS = {"R": "令和", "H": "平成", "S": "昭和"}

_ERA_RE = re.compile(r"(令和|平成|昭和)\s*(元|\d{1,2})\s*年(度)?")
_ERA_INITIAL_RE = re.compile(r"(?<![A-Za-z])([RHS])\s*(\d{1,2})(?=\s*(?:年|年度|補正|当初|予算|$|[^\d.]))")
_WESTERN_YEAR_RE = re.compile(r"(?<!\d)(19[5-9]\d|20[0-9]\d)\s*年(度)?")
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_FRACTION_RE = re.compile(r"(\d+)\s*分の\s*(\d+)")
_SPACE_RE = re.compile(r"\s+")
_SENTENCE_END_RE = re.compile(r"(?<=[。！？!?])(?![)）」』】〕])|(?<=[。！？!?][)）」』】〕])")  # a closing bracket stays with its sentence

# Characters NFKC leaves alone but PDF extraction uses interchangeably.
_EXTRA_FOLD = str.maketrans({
    "〜": "~", "～": "~", "−": "-", "‐": "-", "‑": "-", "–": "-", "—": "-", "―": "-", "ー": "ー",
    "“": '"', "”": '"', "‘": "'", "’": "'", "\u3000": " ", "･": "・", "\ufffd": "",
    # CJK Radicals Supplement forms that NFKC does not map (seen in METI PDFs).
    "⻑": "長", "⺠": "民", "⻘": "青", "⻫": "斉", "⻄": "西", "⻝": "食", "⻤": "鬼",
})


@functools.lru_cache(maxsize=65536)
def nfkc(text: str) -> str:
    """NFKC plus the few folds PDF text needs (Kangxi radicals ⼩→小 are handled by NFKC itself).

    Cached: the answerer and the catalogue normalise the same names and passage sentences for every question.
    """
    return unicodedata.normalize("NFKC", text).translate(_EXTRA_FOLD)


def fold_radicals(text: str) -> str:
    """Kangxi and CJK radical forms (⼩, ⻑) as the ordinary kanji, nothing else changed: display names read
    the same whichever PDF they came from, while full-width brackets and letters stay as written."""
    return "".join(unicodedata.normalize("NFKC", ch).translate(_EXTRA_FOLD) if "\u2e80" <= ch <= "\u2fdf" else ch
                   for ch in text)


@functools.lru_cache(maxsize=65536)
def squash(text: str) -> str:
    """NFKC with all white space removed: the form used to test "is this text inside that text"."""
    return _SPACE_RE.sub("", nfkc(text))


def era_to_western(era: str, year: str) -> int:
    """令和 + "6" -> 2024; "元" is year 1."""
    return ERAS[era] + (1 if year == "元" else int(year))


_DATE_RE = re.compile(r"(?:(令和|平成|昭和)\s*(元|\d{1,2})\s*年\s*[（(]\s*)?(\d{4})\s*年\s*[)）]?\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
                      r"|(令和|平成|昭和)\s*(元|\d{1,2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
                      r"|(?<!\d)(20\d\d)\s*[/.]\s*(\d{1,2})\s*[/.]\s*(\d{1,2})(?!\d)")


def dates_in(text: str) -> list[datetime.date]:
    """Calendar dates a text states, in order: 2025年3月24日, 令和7年（2025年）3月18日, 令和7年5月12日, 2025/5/12."""
    out = []
    for m in _DATE_RE.finditer(nfkc(text)):
        if m.group(3):
            year, month, day = int(m.group(3)), int(m.group(4)), int(m.group(5))
        elif m.group(6):
            year, month, day = era_to_western(m.group(6), m.group(7)), int(m.group(8)), int(m.group(9))
        else:
            year, month, day = int(m.group(10)), int(m.group(11)), int(m.group(12))
        try:
            out.append(datetime.date(year, month, day))
        except ValueError:
            continue
    return out


def western_to_era(year: int) -> str | None:
    """2024 -> 「令和6」, 2000 -> 「平成12」 (the 和暦 of a 西暦 year from 平成 on; None before)."""
    if year >= 2019:
        return f"令和{year - ERAS['令和']}"
    if year >= 1989:
        return f"平成{year - ERAS['平成']}"
    return None


def _spell_eras(text: str) -> str:
    """R6 / H30 / S63 -> 令和6 / 平成30 / 昭和63 (the initials documents and askers abbreviate eras to)."""
    return _ERA_INITIAL_RE.sub(lambda m: f"{ERA_INITIALS[m.group(1)]}{m.group(2)}", text)


def fiscal_years(text: str) -> set[int]:
    """The fiscal years (年度) a text names, as 西暦: 「令和8年度」「R8年度」「2026年度」 -> {2026}."""
    norm = _spell_eras(nfkc(text))
    years = {era_to_western(m.group(1), m.group(2)) for m in _ERA_RE.finditer(norm) if m.group(3)}
    return years | {int(m.group(1)) for m in _WESTERN_YEAR_RE.finditer(norm) if m.group(2)}


def first_fiscal_year(text: str) -> str | None:
    """The first year a text names, as the documents write a fiscal year: 「令和6年度」 for 令和6年, R6 or
    2024年度 alike (「令和元年度」 keeps its 元). None when it names no year."""
    norm = _spell_eras(nfkc(text))
    if m := _ERA_RE.search(norm):
        return f"{m.group(1)}{m.group(2)}年度"
    if (m := _WESTERN_YEAR_RE.search(norm)) and (era := western_to_era(int(m.group(1)))):
        return f"{era}年度"
    return None


def add_year_aliases(text: str) -> str:
    """Append the 西暦 form after each 和暦 year (and vice versa) so that either form matches.

    Applied to normalised text only: 令和6年度 -> "令和6年度 2024年度", 2024年度 -> "2024年度 令和6年度".
    """
    def era(m: re.Match[str]) -> str:
        suffix = "年度" if m.group(3) else "年"
        return f"{m.group(0)} {era_to_western(m.group(1), m.group(2))}{suffix}"

    def western(m: re.Match[str]) -> str:
        era = western_to_era(int(m.group(1)))
        return f"{m.group(0)} {era}{'年度' if m.group(2) else '年'}" if era else m.group(0)

    text = _spell_eras(text)
    out, pos = [], 0
    # One pass per pattern over the original string, so an inserted alias is never re-expanded.
    spans = sorted(
        [(m.start(), m.end(), era(m)) for m in _ERA_RE.finditer(text)]
        + [(m.start(), m.end(), western(m)) for m in _WESTERN_YEAR_RE.finditer(text)]
    )
    for start, end, repl in spans:
        if start < pos:
            continue
        out.append(text[pos:start])
        out.append(repl)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def canonical_numbers(text: str) -> str:
    """Drop thousands separators and write fractions one way: 4,500万円 -> 4500万円, 3分の2 -> 2/3."""
    text = _THOUSANDS_RE.sub("", text)
    return _FRACTION_RE.sub(lambda m: f"{m.group(2)}/{m.group(1)}", text)


def normalize(text: str, lower: bool = True) -> str:
    """The matching form of a text: NFKC, canonical numbers, 和暦 initials spelled out, single spaces."""
    text = canonical_numbers(nfkc(text))
    text = _spell_eras(text)
    text = _SPACE_RE.sub(" ", text).strip()
    return text.lower() if lower else text


def match_form(text: str) -> str:
    """Form used to check that a short fact (amount, rate, year) occurs in a longer text.

    White space removed, numbers canonical, 和暦 kept as written: callers compare both
    match_form(fact) and its year alias when they need era-insensitive matching.
    """
    return _SPACE_RE.sub("", normalize(text))


_AMOUNT_RE = re.compile(r"(?:\d+(?:\.\d+)?\s*[千百十]?\s*[兆億万]?\s*)+円")
_AMOUNT_PART_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([千百十])?\s*([兆億万])?")
_SMALL_UNIT = {"千": 1000, "百": 100, "十": 10}
_BIG_UNIT = {"兆": 10**12, "億": 10**8, "万": 10**4}


def yen_amounts(text: str) -> list[int]:
    """Amounts in yen: "1,942.3億円" -> 194230000000, "1億5千万円" -> 150000000, "4千5百万円" -> 45000000."""
    found = []
    for m in _AMOUNT_RE.finditer(canonical_numbers(nfkc(text))):
        total, pending = 0.0, 0.0
        for number, small, big in _AMOUNT_PART_RE.findall(m.group(0)):
            pending += float(number) * _SMALL_UNIT.get(small, 1)
            if big:
                total += pending * _BIG_UNIT[big]
                pending = 0.0
        found.append(round(total + pending))
    return found


def fact_present(fact: str, text: str) -> bool:
    """Is a short fact (amount, rate, name, year) stated in text, allowing equivalent forms?

    Accepts 2/3 = ２／３ = 3分の2, R2 = 令和2, 2024年度 = 令和6年度, 4,500万円 = 4500万円 = 4,500万円,
    1.2億円 = 1億2000万円.
    """
    hay = match_form(add_year_aliases(nfkc(text)))
    needle = match_form(fact)
    if needle and needle in hay:
        return True
    aliased = match_form(add_year_aliases(nfkc(fact)))
    if aliased != needle and aliased in hay:  # 2024年3月末 in 「2024年3月末まで」 (both carry the alias)
        return True
    if aliased != needle and any(part and part in hay for part in aliased.split(needle, 1)[1:] if part):
        return True
    amounts = yen_amounts(fact)
    return bool(amounts) and all(a in yen_amounts(text) for a in amounts)


def split_sentences(text: str) -> list[str]:
    """Split on Japanese sentence ends, keeping the punctuation; empty pieces dropped."""
    return [s for s in (p.strip() for p in _SENTENCE_END_RE.split(text)) if s]


def answer_units(text: str) -> list[str]:
    """The quotable pieces of a passage: its lines split at sentence ends, fragments without content dropped.

    The extractive answerer quotes these; the index embeds each one so answers can pick them by meaning.
    """
    pieces = []
    for paragraph in text.split("\n"):
        for sentence in split_sentences(paragraph) or [paragraph]:
            for part in _split_items(sentence.strip()):
                s = part.strip()
                if len(s) >= 6 or (re.search(r"\d", s) and len(s) >= 3):
                    pieces.append(s)
    return pieces


# Items a PDF line run together: 「〇補助上限額：…〇補助率：…」, 「…強化。・補助率…」 (a marker inside the line).
_ITEM_MARK_RE = re.compile(r"(?<=[^\s〇○●◆■□◇・※①-⑳])\s*(?=[〇○●◆■□◇•⚫][^\s〇○●◆■□◇•⚫]|※(?!\d)\S)")
ITEM_SPLIT_CHARS = 50


def _split_items(unit: str) -> list[str]:
    """A long unit that runs several bulleted items together is quoted item by item."""
    if len(unit) < ITEM_SPLIT_CHARS:
        return [unit]
    parts = [p for p in _ITEM_MARK_RE.split(unit) if p.strip()]
    return parts if len(parts) > 1 else [unit]


# --- morphological analysis -------------------------------------------------------------------

_CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞", "接頭辞", "接尾辞", "記号", "代名詞"}
_STOP = {
    "する", "なる", "ある", "いる", "れる", "られる", "こと", "もの", "ため", "よう", "これ", "それ", "その",
    "この", "どの", "何", "なに", "いくら", "どれ", "どう", "どんな", "教える", "ください", "知る", "思う",
    "いう", "できる", "等", "など", "について", "とき", "場合", "的", "化", "さん", "方", "くれる", "もらう",
    "いただく", "おる", "ござる", "です", "ます", "か", "?",
    # Sudachi's normalised forms of the pronouns and the honorific prefix above (これ -> 此れ, ご相談 -> 御 + 相談)
    "此れ", "其れ", "彼れ", "何れ", "此処", "其処", "彼処", "此方", "其方", "彼方", "御",
    # English function words (questions may be asked in English)
    "a", "an", "the", "and", "or", "of", "in", "on", "at", "to", "for", "by", "with", "from", "is", "are", "was",
    "were", "be", "been", "do", "does", "did", "what", "which", "who", "whom", "how", "when", "where", "why",
    "many", "much", "it", "its", "this", "that", "these", "those", "there", "can", "could", "i", "we", "you",
    "my", "our", "your", "me", "us", "as", "if", "any", "about", "into", "up", "under", "over", "per",
}


@functools.cache
def _sudachi_dictionary():  # loaded on first use, never at import time
    from sudachipy import Dictionary

    return Dictionary(dict="core")


_local = threading.local()


def _sudachi():
    """One tokenizer per thread: a SudachiPy tokenizer must not be used by two threads at once."""
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        tokenizer = _local.tokenizer = _sudachi_dictionary().create()
    return tokenizer


def tokenize(text: str) -> list[str]:
    """Content-word tokens for the keyword index and the answerer's matching (give it raw text).

    SudachiPy normalised forms (so 申込み/申し込み agree), split mode C plus the mode A parts of
    compounds (so 上限額 also matches 上限), lower-cased; function words and symbols dropped.
    The answerer tokenizes the same passage sentences for question after question, so results are cached.
    """
    known = _known.get(text)
    return list(known) if known is not None else list(_tokens(text))


# Tokens the index computed at build time for each passage (section + text, as `keyword_tokens` reads it, and
# the text alone, as search's coverage re-ranking reads it):
# the answerer tokenizes those same passages again for every question, and Sudachi is most of its cost.
_known: dict[str, tuple[str, ...]] = {}
KNOWN_PASSAGES = 40_000  # texts (two per passage); beyond this (20,000 passages) they go through the LRU cache


def remember_tokens(text: str, tokens: Sequence[str]) -> None:
    """Record the tokens `tokenize(text)` gives (as stored in the index), so it need not run Sudachi again."""
    if len(_known) < KNOWN_PASSAGES or text in _known:
        _known[text] = tuple(sys.intern(t) for t in tokens)


_BULLET_ZERO_RE = re.compile(r"(?<![〇一二三四五六七八九十百千\d])〇(?![〇一二三四五六七八九十百千\d])")


@functools.lru_cache(maxsize=65536)
def _tokens(text: str) -> tuple[str, ...]:
    from sudachipy import SplitMode

    # Case is kept until each token ("IT" the acronym is not "it"); years get both 和暦 and 西暦 forms.
    norm = add_year_aliases(normalize(text, lower=False))
    # 〇 opening an item (「〇補助上限額：」) is a bullet, not the numeral Sudachi would glue to the next word.
    norm = _BULLET_ZERO_RE.sub("○ ", norm)
    tokens: list[str] = []
    for chunk in _chunks(norm):
        for m in _sudachi().tokenize(chunk, SplitMode.C):
            pos, sub = m.part_of_speech()[:2]
            if pos not in _CONTENT_POS or (pos == "記号" and not m.surface().isalnum()):
                continue
            if sub in {"非自立可能", "助動詞語幹"}:  # なる/いる/ください/よう: grammar, not content
                continue
            surface = m.surface()
            # Latin words keep their spelling (Sudachi would turn "support" into サポート, "and" into アンド).
            form = surface.lower() if surface.isascii() and surface.isalpha() else m.normalized_form().lower()
            if (form in _STOP and not (surface.isupper() and len(surface) >= 2)) or not form.strip():
                continue
            tokens.append(form)
            parts = m.split(SplitMode.A)
            if len(parts) > 1 and not surface.isascii():
                tokens.extend(
                    p.normalized_form().lower() for p in parts
                    if p.part_of_speech()[0] in _CONTENT_POS and p.normalized_form().lower() not in _STOP
                )
    return tuple(tokens)


def _chunks(text: str, size: int = 4000) -> Iterator[str]:
    """Sudachi refuses inputs over ~49 KB; feed it bounded pieces at line or space breaks."""
    while len(text) > size:
        cut = max(text.rfind("\n", 0, size), text.rfind(" ", 0, size))
        cut = cut if cut > 0 else size
        yield text[:cut]
        text = text[cut:]
    if text:
        yield text
