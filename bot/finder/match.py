"""Which catalogue programs fit a profile, and why: each reason is a program field the profile matches.

Rules only (no LLM): a program fits a goal when its name, purpose, support or outcomes use the goal's
words; it needs a circumstance (被災) or a region (福島) when its own fields say so; its target says
whether an SME can use it at all. Every reason and every amount quotes a catalogue field, so every
claim the finder makes is cited to the lines the catalogue cites.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.finder.profile import Profile, Vocabulary
from retrieval.areas import areas
from retrieval.text import nfkc

# Fields that say what a program is for; where a goal's words must stand for the goal to count.
PURPOSE_FIELDS = ("purpose", "support", "outcomes")
# Fields that say who may use it.
TARGET_FIELDS = ("target",)
AMOUNT_FIELDS = ("cap", "rate", "budget")
SME_WORDS = ("中小企業", "小規模事業者", "中堅企業", "事業者", "スタートアップ", "ベンチャー", "商店街", "企業")
NON_SME_TARGETS = ("大学", "自治体", "都道府県", "市町村", "地方公共団体", "研究機関", "国立研究開発法人", "独立行政法人")
SMALL_ONLY = ("小規模事業者",)
# Words by which a program says it is made for SMEs (not just for 民間企業 at large).
SME_EXPLICIT = ("中小企業", "小規模事業者", "中小・", "中小事業者", "中小企業者")

# Circumstances that a program may require: the words a program's own text uses for them.
CIRCUMSTANCE_WORDS = {
    "被災": ("被災", "震災", "災害", "復旧", "復興", "地震", "豪雨", "原子力事故", "避難"),
    "創業": ("創業", "起業", "スタートアップ", "ベンチャー"),
    "売上減少": ("売上", "減少", "影響を受け"),
    "賃上げ": ("賃上げ", "賃金"),
}
INDUSTRY_WORDS = {
    "製造業": ("製造業", "ものづくり", "製造", "サプライヤー", "部品"),
    "建設業": ("建設",),
    "運輸業": ("運輸", "物流", "運送", "トラック"),
    "卸売業": ("卸売",),
    "小売業": ("小売", "商店", "商業"),
    "飲食業": ("飲食",),
    "サービス業": ("サービス業",),
    "ソフトウェア業・情報処理サービス業": ("ソフトウェア", "情報処理", "IT"),
    "旅館業": ("旅館", "宿泊", "観光"),
    "農林水産業": ("農業", "農林", "水産", "漁業"),
}


class CatalogueField(Protocol):
    value: str
    source: str
    start_line: int
    end_line: int


class CatalogueProgram(Protocol):
    name: str
    nicknames: list[str]
    fields: Mapping[str, CatalogueField]


@dataclass(frozen=True)
class Reason:
    """One condition the program meets, quoting the field that shows it."""

    text: str
    fields: tuple[str, ...]  # names of the program's fields cited for it
    words: tuple[str, ...] = ()  # the words that matched, so the quote can show them


@dataclass
class Match:
    program: CatalogueProgram
    score: float
    reasons: list[Reason] = field(default_factory=list)
    to_check: list[str] = field(default_factory=list)
    open_facets: set[str] = field(default_factory=set)  # profile facets that would change this match
    excluded: bool = False  # a condition of the program rules the profile out
    goal_matched: bool = False
    goals: set[str] = field(default_factory=set)  # the profile's goals this program is for
    relevance: float = 0.0
    fit: str | None = None  # a language model's verdict (yes / maybe), when one judged the candidates


RELEVANCE_WEIGHT = 6.0  # a program whose passage tops the search gains as much as two matched goals
OFF_GOAL_PENALTY = 1.5
FORM_PENALTY = 3.0  # as much as the main goal: the form of help asked for (a tax break) decides before topic


def rank(profile: Profile, programs: Sequence[CatalogueProgram], vocabulary: Vocabulary,
         relevance: Mapping[int, float] | None = None, limit: int | None = None,
         said: Sequence[str] = ()) -> list[Match]:
    """Programs with a positive fit, best first; one entry per program name (ties broken by name).

    `relevance` (program index -> 0..1) says how close the situation's own words are to the program's
    passages (hybrid search over the corpus); rules alone decide who is excluded. `said` (the user's own
    words, with their glossary words) parts programs that fit the same goal: the call whose name says what
    the user said (「セキュリティ」, 「インボイス」, 「連携」) ranks above its siblings.
    """
    if profile.is_empty() or profile.only_personal():
        return []  # nothing said about a business, or a household need: nothing can be said to fit it
    relevance = relevance or {}
    matches = []
    for i, program in enumerate(programs):
        m = _match(profile, program, vocabulary)
        if m.excluded or not (m.reasons or relevance.get(i)):
            continue
        m.relevance = relevance.get(i, 0.0)
        m.score += RELEVANCE_WEIGHT * m.relevance
        if profile.goals and not m.goal_matched:
            m.score -= OFF_GOAL_PENALTY  # close in words, but for none of the things the user wants to do
        if any(g in vocabulary.form_goals and g not in m.goals for g in profile.goals):
            m.score -= FORM_PENALTY  # 「税金の面で優遇は」: a grant is not the kind of help asked for
        if m.score > 0 and (m.goal_matched or m.relevance > 0):
            matches.append(m)
    _distinctive_words(matches, said)
    matches.sort(key=lambda m: (-m.score, m.program.name))
    seen: set[str] = set()
    unique = []
    for m in matches:
        if m.program.name not in seen:
            seen.add(m.program.name)
            unique.append(m)
    return unique[:limit] if limit else unique


def _match(profile: Profile, program: CatalogueProgram, vocabulary: Vocabulary) -> Match:
    fields = program.fields
    text = {name: nfkc(f.value) for name, f in fields.items()}
    name_text = nfkc(" ".join([program.name, *program.nicknames]))
    purpose = " ".join([name_text, *(text.get(f, "") for f in PURPOSE_FIELDS)])
    target = " ".join(text.get(f, "") for f in TARGET_FIELDS)
    everything = " ".join([name_text, *text.values()])
    m = Match(program=program, score=0.0)

    # Who may use it: an SME-usable target, or at least SMEs named somewhere in the program.
    if target and not has_any(target, SME_WORDS) and has_any(target, NON_SME_TARGETS):
        m.excluded = True  # for universities, local governments or research institutes only
        return m
    if target and not has_any(everything, SME_WORDS):
        m.excluded = True
        return m
    if not target:
        m.to_check.append("対象者（資料に記載なし：公募要領で確認）")

    # What the SME wants to do.
    for i, goal in enumerate(profile.goals):
        words = _goal_words(goal, vocabulary)
        where = [f for f in PURPOSE_FIELDS if f in text and has_any(text[f], words)]
        if where or has_any(name_text, words):
            m.score += 3.0 if i == 0 else 2.0  # the goal said last (or first) is the main one
            if has_any(name_text, words):
                m.score += 1.0  # its very name says it is for this (IT導入補助金 for IT化)
            m.goal_matched = True
            m.goals.add(goal)
            m.reasons.append(Reason(f"「{goal}」に合う事業です", tuple(where[:1] or _first(fields, PURPOSE_FIELDS)),
                                    tuple(words)))
    if not profile.goals:
        m.open_facets.add("goals")

    # Circumstances the program is made for (被災, 創業 …): a match counts, a missing one excludes.
    for circumstance, cues in CIRCUMSTANCE_WORDS.items():
        required = circumstance == "被災" and has_any(name_text + " " + target, cues)
        if circumstance in profile.circumstances and has_any(purpose + " " + target, cues):
            m.score += 2.5
            where = [f for f in (*TARGET_FIELDS, *PURPOSE_FIELDS) if f in text and has_any(text[f], cues)]
            m.reasons.append(Reason(f"「{circumstance}」の事業者が対象に含まれます", tuple(where[:1]), tuple(cues)))
        elif required:
            if circumstance in profile.ruled_out:
                return Match(program=program, score=0.0, excluded=True)  # 「災害の被害はない」
            if "circumstances" in profile.unknown or not profile.circumstances:
                m.to_check.append("災害で被害を受けた事業者に当たるか（被災事業者向けの事業です）")
                m.open_facets.add("circumstances")
                m.score -= 1.0
            else:
                return Match(program=program, score=0.0, excluded=True)

    # Region: a program for one area fits only there.
    places = areas().named(name_text + " " + target)  # prefectures, with a region's expanded
    if places:
        regions = [w for w in (*areas().regions, *areas().prefectures) if w in name_text + " " + target]
        if profile.region and (any(r in profile.region for r in places)
                               or profile.region in name_text + " " + target):
            m.score += 2.0
            m.reasons.append(Reason(f"{profile.region}の事業者が対象です", tuple(_having(fields, regions)),
                                    tuple(regions)))
        elif profile.region:
            return Match(program=program, score=0.0, excluded=True)
        else:
            m.to_check.append(f"事業所の所在地（{'・'.join(regions)}が対象）")
            m.open_facets.add("region")

    # Industry named by the program.
    named = [ind for ind, words in INDUSTRY_WORDS.items() if has_any(target or purpose, words)]
    if profile.industry and profile.industry in named:
        m.score += 1.0
        where = _having(fields, INDUSTRY_WORDS[profile.industry], TARGET_FIELDS + PURPOSE_FIELDS)
        m.reasons.append(Reason(f"{profile.industry}向けの内容を含みます", tuple(where[:1]),
                                INDUSTRY_WORDS[profile.industry]))
    elif named and not profile.industry:
        m.open_facets.add("industry")

    # Size: SMEs named in the target; 小規模事業者 only programs need checking.
    explicit = _having(fields, SME_EXPLICIT, (*TARGET_FIELDS, *PURPOSE_FIELDS))
    if explicit or (target and has_any(target, SME_WORDS)):
        if profile.size in {"中小企業", "小規模事業者"} or profile.size is None:
            if explicit:  # made for SMEs, in its own words
                m.score += 1.0
                m.reasons.append(Reason("中小企業・小規模事業者向けの事業です", tuple(explicit[:1]), SME_EXPLICIT))
            else:  # 「民間企業」「事業者」: SMEs may apply, among others
                m.score += 0.25
                m.reasons.append(Reason("対象者に企業・事業者が含まれます", ("target",), SME_WORDS))
        elif profile.size in {"大企業"} and not has_any(target, ("大企業", "中堅")):
            m.score -= 2.0
            m.to_check.append("大企業が対象に含まれるか")
    # An employee band the target states (a call's 「対象従業員数: 20名以下」): a larger business does not fit.
    if profile.employees is not None and not admits_employees(target, profile.employees):
        return Match(program=program, score=0.0, excluded=True)
    if (band := employee_band(target)) is not None:
        if profile.employees is not None:
            m.score += 0.5
            m.reasons.append(Reason(f"従業員{band}人以下が対象です（{profile.employees}人）", ("target",),
                                    (f"{band}名以下", f"{band}人以下")))
        else:
            m.to_check.append(f"従業員数（{band}人以下が対象）")
            m.open_facets.add("employees")
    if target and has_any(target, SMALL_ONLY) and not has_any(target, ("中小企業",)) \
            and profile.size != "小規模事業者":
        m.to_check.append("小規模事業者に当たるか（従業員数の要件を公募要領で確認）")
        m.open_facets.add("employees")

    if "deadline" in fields and m.goal_matched:
        m.score += CALL_BONUS
        m.reasons.append(Reason("公募要領で申請受付の案内がある事業です", ("deadline",)))
    for f in AMOUNT_FIELDS:
        if f not in fields:
            m.to_check.append({"cap": "補助上限額", "rate": "補助率", "budget": "予算額"}[f] + "（資料に記載なし：公募要領で確認）")
    m.to_check.append("最新の公募要領で要件・公募期間を確認")
    return m


NAME_WORD_WEIGHT = 0.5  # a word the user said that the program's name says (and not every candidate's does)
NAME_WORDS_CAP = 1.0  # never more than a goal's weight: it breaks ties, it does not outrank a fit
CALL_BONUS = 1.0  # a call with its own 公募要領 (a deadline line) is what an SME can apply to


def _distinctive_words(matches: Sequence[Match], said: Sequence[str]) -> None:
    """Add to each match the user's words its name holds that some other candidate's name does not."""
    if len(matches) < 2:
        return
    names = [nfkc(" ".join([m.program.name, *m.program.nicknames])) for m in matches]
    words = list(dict.fromkeys(nfkc(w) for w in said if len(w) >= 2))
    for m, name in zip(matches, names, strict=True):
        named = sum(1 for w in words if w in name and sum(1 for n in names if w in n) < len(names))
        m.score += min(NAME_WORD_WEIGHT * named, NAME_WORDS_CAP)


def _goal_words(goal: str, vocabulary: Vocabulary) -> list[str]:
    words = [goal, *vocabulary.facets.get("goal", {}).get(goal, [])]
    return [nfkc(w) for w in words if len(w) >= 2]


def has_any(text: str, words: Sequence[str]) -> bool:
    for w in words:
        if re.fullmatch(r"[A-Za-z]{1,3}", w):
            if re.search(rf"(?<![A-Za-z]){w}(?![A-Za-z])", text):
                return True
        elif w in text:
            return True
    return False


def _first(fields: Mapping[str, CatalogueField], names: Sequence[str]) -> list[str]:
    return [n for n in names if n in fields][:1]


def _having(fields: Mapping[str, CatalogueField], words: Sequence[str],
            names: Sequence[str] | None = None) -> list[str]:
    """Names of fields whose value contains one of words (in the given order of field names)."""
    order = list(names or fields)
    return [n for n in order if n in fields and has_any(nfkc(fields[n].value), words)]


_BAND_RE = re.compile(r"(?:従業員|従業者|対象従業員数)[^0-9。]{0,8}?(\d{1,5})\s*(?:名|人)以下")
_FLOOR_RE = re.compile(r"(?:従業員|従業者|対象従業員数)[^0-9。]{0,8}?(\d{1,5})\s*(?:名|人)以上")


def employee_band(target: str) -> int | None:
    """The most employees a target admits (「対象従業員数: 20名以下」 -> 20); None when it states no band."""
    m = _BAND_RE.search(nfkc(target or ""))
    return int(m.group(1)) if m else None


def employee_floor(target: str) -> int | None:
    """The fewest employees a target admits (「対象従業員数: 901名以上」 -> 901); None when it states none."""
    m = _FLOOR_RE.search(nfkc(target or ""))
    return int(m.group(1)) if m else None


def admits_employees(target: str, employees: int) -> bool:
    """Does the target's stated band (if any) admit a business of `employees`?"""
    band, floor = employee_band(target), employee_floor(target)
    return (band is None or employees <= band) and (floor is None or employees >= floor)
