"""An SME's situation, gathered from what it says in its own words.

The profile is what the finder matches programs against, and it is shown back to the user, who can
correct it; so every value comes from the user's words (or, for 中小企業, from the documents' own size
limits applied to the numbers the user gave), never from a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from retrieval.areas import areas, short_form
from retrieval.text import nfkc, yen_amounts
from retrieval.yaml_loader import YAML_LOADER

# Areas the documents tie to programs (能登半島地震, 令和2年7月豪雨 in 人吉・球磨) and a few big areas.
REGION_WORDS = {"能登": "石川", "輪島": "石川", "珠洲": "石川", "人吉": "熊本", "球磨": "熊本", "東北": None,
                "三陸": None, "被災地": None}

# "I don't know" in the ways people say it; the field it answers is then left open, not asked again.
_UNKNOWN_RE = re.compile(r"わから|分から|わかん|不明|知らない|覚えてない|don'?t know|not sure|unknown", re.IGNORECASE)
# 「海外展開ではなく」「IT化じゃなくて」「災害の被害はない」: the word before it is taken back.
_NEGATION_RE = re.compile(r"(ではなく|じゃなくて|じゃなく|ではありません|ではない|じゃない|は違い|は不要|はしない|しません|"
                           r"はない|はありません|はなかった|なし)")
_EMPLOYEES_RE = re.compile(
    r"(?:従業員|社員|スタッフ|従業者|職員|人員|雇用|家族|職人|パート)(?:数|は|が|も|を|の)?[^\d。、,]{0,6}?(\d+)\s*(?:人|名)"
    r"|(\d+)\s*(?:人|名)(?:の|で|規模|ほど|くらい|ぐらい|程度)?(?:従業員|社員|スタッフ|会社|町工場|工場|企業|事業|店|規模)"
    r"|(?:employees?|staff)\D{0,6}(\d+)|(\d+)\s*(?:employees|staff|people)"
    # the people who run the business: 「3人で営んでいる」「2人で切り盛り」「5名で運営」
    r"|(\d+)\s*(?:人|名)で(?:やって|営|経営|切り盛り|運営|回して|働いて)",
    re.IGNORECASE,
)
# 「中小企業向けの制度」「中小企業に当たる？」「大手の得意先」: a size word that is not the user's own size.
_NOT_OWN_SIZE_RE = re.compile(r"^(?:企業|事業者|メーカー|各社|さん)?(?:向け|の扱い|扱い|に当た|になり|になる|に該当|か[。？?]|"
                              r"の取引先|取引先|から|の親会社|の下請|と取引|との取引|の発注|や|と|に)")
_CAPITAL_RE = re.compile(r"資本金[はがも]?\s*(?:約)?\s*([\d,.]+\s*[千百十]?\s*[億万]?\s*[千百十]?\s*万?\s*円)")


class SizeRule(BaseModel):
    """One row of the 中小企業 size table as the documents state it."""

    industry: list[str]
    capital: str
    employees: str
    line: int

    @property
    def capital_yen(self) -> int:
        return yen_amounts(self.capital)[0]

    @property
    def max_employees(self) -> int:
        return int(re.sub(r"\D", "", nfkc(self.employees)))


@dataclass
class Vocabulary:
    """Everyday words by facet (industry, goal, circumstance, size), from the glossary's `situations`."""

    facets: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    size_source: str = ""
    size_rules: list[SizeRule] = field(default_factory=list)
    form_goals: tuple[str, ...] = ()  # goals that name the form of help (a tax break), not what it is for

    @classmethod
    def load(cls, glossary_path: Path) -> Vocabulary:
        data = yaml.load(glossary_path.read_text(encoding="utf-8"), Loader=YAML_LOADER) if glossary_path.exists() else {}
        situations = (data or {}).get("situations") or {}
        rules = situations.get("size_rules") or {}
        facets = {k: {label: [str(w) for w in words] for label, words in (v or {}).items()}
                  for k, v in situations.items() if k not in {"size_rules", "form_goals"}}
        return cls(facets=facets, size_source=str(rules.get("source", "")),
                   size_rules=[SizeRule(**r) for r in rules.get("rules", []) or []],
                   form_goals=tuple(str(g) for g in situations.get("form_goals") or ()))

    def find(self, facet: str, text: str) -> list[tuple[str, int]]:
        """Labels of `facet` whose words occur in text, with the position of the first such word."""
        found: dict[str, int] = {}
        for label, words in self.facets.get(facet, {}).items():
            for word in [label, *words]:
                pos = _find_word(nfkc(word), text)
                if pos >= 0 and (label not in found or pos < found[label]):
                    found[label] = pos
        return sorted(found.items(), key=lambda item: item[1])


class Profile(BaseModel):
    """What the finder knows of a business; None or empty means "not said yet"."""

    industry: str | None = Field(None, description="業種")
    employees: int | None = Field(None, description="従業員数")
    capital_yen: int | None = Field(None, description="資本金（円）")
    size: str | None = Field(None, description="小規模事業者 / 中小企業 / 中堅企業 / 大企業")
    size_basis: str | None = Field(None, description="how size was decided: the user's words or the size table")
    region: str | None = Field(None, description="都道府県 or area")
    goals: list[str] = Field(default_factory=list, description="設備投資, IT化, 研究開発, 販路開拓 …")
    circumstances: list[str] = Field(default_factory=list, description="被災, 創業, 売上減少 …")
    ruled_out: list[str] = Field(default_factory=list,
                                 description="goals or circumstances the user said do not apply (「災害の被害はない」)")
    personal: list[str] = Field(default_factory=list, description="household needs (住まい, 教育費 …)")
    unknown: list[str] = Field(default_factory=list, description="fields the user said they do not know")

    def is_empty(self) -> bool:
        return not (self.industry or self.employees or self.capital_yen or self.size or self.region
                    or self.goals or self.circumstances)

    def only_personal(self) -> bool:
        """A household need (住宅ローン, 学費 …) with no business goal: no business program fits it."""
        return bool(self.personal) and not self.goals and not self.circumstances

    def summary(self) -> str:
        """One line in Japanese, for showing the profile back to the user."""
        parts = []
        if self.industry:
            parts.append(f"業種: {self.industry}")
        if self.employees is not None:
            parts.append(f"従業員: {self.employees}人")
        if self.capital_yen is not None:
            parts.append(f"資本金: {_yen(self.capital_yen)}")
        if self.size:
            parts.append(f"規模: {self.size}")
        if self.region:
            parts.append(f"地域: {self.region}")
        if self.goals:
            parts.append("やりたいこと: " + "・".join(self.goals))
        if self.circumstances:
            parts.append("状況: " + "・".join(self.circumstances))
        if self.ruled_out:
            parts.append("当てはまらない: " + "・".join(self.ruled_out))
        return " / ".join(parts) if parts else "（まだ何も伺っていません）"


def extract(text: str, vocabulary: Vocabulary, profile: Profile | None = None,
            asked: str | None = None) -> Profile:
    """The profile after one more message: what it says is added, what it corrects is replaced.

    `asked` names the field the bot's last question was about, so that 「わからない」 and bare answers
    such as 「20人」 or 「福島」 are read as answers to it.
    """
    p = (profile or Profile()).model_copy(deep=True)
    t = nfkc(text)
    if asked and _UNKNOWN_RE.search(t):
        if asked not in p.unknown:
            p.unknown.append(asked)
        return p

    for label, _pos in vocabulary.find("industry", t):
        p.industry = label
        break
    employees = _employees(t, bare=asked == "employees")
    if employees is not None:
        p.employees = employees
    capital = _capital(t, bare=asked == "capital_yen")
    if capital is not None:
        p.capital_yen = capital
    region = _region(t)
    if region:
        p.region = region
    for label, pos in vocabulary.find("size", t):
        if not _negated(t, pos) and _own_size(t, pos, [label, *vocabulary.facets["size"][label]]):
            p.size, p.size_basis = label, "user"
            break
    personal_sentences = set()
    for label, pos in vocabulary.find("personal", t):
        personal_sentences.add(_sentence_at(t, pos))
        if label not in p.personal:
            p.personal.append(label)
    for facet, values in (("goal", p.goals), ("circumstance", p.circumstances)):
        said = []
        for label, pos in vocabulary.find(facet, t):
            if facet == "goal" and _sentence_at(t, pos) in personal_sentences:
                continue  # 「医療費がかかったので税金を取り戻したい」: the household need's words, not a business goal
            if label in values:
                values.remove(label)
            if label in p.ruled_out:
                p.ruled_out.remove(label)
            if _negated(t, pos):
                p.ruled_out.append(label)  # remembered, so that a program needing it is not offered
            else:
                said.append(label)
        values[:0] = said  # what the latest message says comes first: it is what the user means now
    apply_size_rules(p, vocabulary)
    return p


def size_rule_for(profile: Profile, vocabulary: Vocabulary) -> SizeRule | None:
    """The row of the documents' size table for the profile's industry, if there is one."""
    for rule in vocabulary.size_rules:
        if profile.industry in rule.industry:
            return rule
    return None


def apply_size_rules(p: Profile, vocabulary: Vocabulary) -> None:
    """中小企業 or not from the documents' limits: within either limit (資本金 or 従業員) is 中小企業."""
    if p.size_basis == "user":
        return
    rule = size_rule_for(p, vocabulary)
    if rule is None or (p.employees is None and p.capital_yen is None):
        return
    within = ((p.employees is not None and p.employees <= rule.max_employees)
              or (p.capital_yen is not None and p.capital_yen <= rule.capital_yen))
    exceeds = ((p.employees is None or p.employees > rule.max_employees)
               and (p.capital_yen is None or p.capital_yen > rule.capital_yen))
    if within:
        p.size, p.size_basis = "中小企業", "size_table"
    elif exceeds and p.employees is not None and p.capital_yen is not None:
        p.size, p.size_basis = "大企業", "size_table"


def _find_word(word: str, text: str) -> int:
    """Position of word in text. Latin words match whole words only; acronyms (IT, DX, EC) keep their case,
    so that English "it" is not IT化, while longer words (software, export) ignore it."""
    if re.fullmatch(r"[A-Za-z0-9& ]+", word):
        flags = 0 if len(word) <= 3 else re.IGNORECASE
        m = re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", text, flags)
        return m.start() if m else -1
    return text.find(word)


def _own_size(text: str, pos: int, words: list[str]) -> bool:
    """Is the size word at pos the user's own size, not a question about it or another company's?"""
    word = max((w for w in words if text.startswith(nfkc(w), pos)), key=len, default="")
    return not _NOT_OWN_SIZE_RE.match(text[pos + len(nfkc(word)):])


def size_needs_capital(profile: Profile, vocabulary: Vocabulary) -> bool:
    """The size table cannot tell 中小企業 from larger yet: more employees than its limit, capital not known."""
    rule = size_rule_for(profile, vocabulary)
    return (rule is not None and profile.size is None and profile.capital_yen is None
            and profile.employees is not None and profile.employees > rule.max_employees)


def _sentence_at(text: str, pos: int) -> int:
    """The number of the sentence holding position pos (sentences end at 。！？ or a line break)."""
    return len(re.findall(r"[。！？!?\n]", text[:pos]))


def _negated(text: str, pos: int) -> bool:
    """Does a negation (「ではなく」…) follow the word at pos within the same clause?"""
    tail = text[pos:pos + 24]
    clause = re.split(r"[。、,!?！？\n]", tail, maxsplit=1)[0]
    return bool(_NEGATION_RE.search(clause))


def _employees(text: str, bare: bool) -> int | None:
    m = _EMPLOYEES_RE.search(text)
    if m:
        return int(next(g for g in m.groups() if g))
    if bare:
        m = re.search(r"(\d+)\s*(?:人|名)?", text)
        if m:
            return int(m.group(1))
    return None


def _capital(text: str, bare: bool) -> int | None:
    m = _CAPITAL_RE.search(text)
    if m:
        amounts = yen_amounts(m.group(1))
        return amounts[0] if amounts else None
    if bare:
        amounts = yen_amounts(text)
        return amounts[0] if amounts else None
    return None


def prefecture_name(name: str) -> str | None:
    """「福島」「福島県」 -> 「福島県」; None for anything that is not a prefecture."""
    stem = short_form(name)
    if stem not in areas().prefectures:
        return None
    return stem + ("" if stem == "北海道" else "都" if stem == "東京" else "府" if stem in {"京都", "大阪"} else "県")


def _region(text: str) -> str | None:
    best: tuple[int, str] | None = None
    for name in areas().prefectures:
        pos = text.find(name)
        if pos >= 0 and (best is None or pos < best[0]):
            best = (pos, prefecture_name(name) or name)
    if best:
        return best[1]
    for word, prefecture in REGION_WORDS.items():
        if word in text:
            return f"{prefecture}県（{word}）" if prefecture else word
    return None


def _yen(amount: int) -> str:
    if amount >= 10**8 and amount % 10**6 == 0:
        return f"{amount / 10**8:g}億円"
    if amount >= 10**4 and amount % 10**4 == 0:
        return f"{amount // 10**4:,}万円"
    return f"{amount:,}円"
