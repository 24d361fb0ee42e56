"""The glossary: program nicknames, everyday SME words and English terms mapped to the words the documents use.

Used to expand a query before search, so that 「サポインの補助率」 also looks for 戦略的基盤技術高度化支援事業
and 「町工場」 also looks for 中小製造業.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from retrieval.text import nfkc
from retrieval.yaml_loader import YAML_LOADER


@dataclass
class Glossary:
    # normalised trigger -> words to add
    expansions: dict[str, list[str]] = field(default_factory=dict)
    # official program name -> its nicknames (as written)
    programs: dict[str, list[str]] = field(default_factory=dict)
    # words that narrow an asked figure into a statistic (平均, 累計…): see the glossary file
    narrowing: tuple[str, ...] = ()
    # words for a 枠 or 類型 in general (申請枠), not the name of one: see the glossary file
    generic_frames: frozenset[str] = frozenset()

    @classmethod
    def load(cls, path: Path) -> Glossary:
        if not path.exists():
            return cls()
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
        glossary = cls()
        for item in data.get("programs", []) or []:
            official = str(item["official"])
            aliases = [str(a) for a in item.get("aliases", []) or []]
            glossary.programs[official] = aliases
            for alias in aliases:
                glossary._add(alias, [official])
            glossary._add(official, aliases)
        glossary.narrowing = tuple(str(w) for w in data.get("narrowing", []) or [])
        glossary.generic_frames = frozenset(nfkc(str(w)) for w in data.get("generic_frames", []) or [])
        for section in ("everyday", "english"):
            for item in data.get(section, []) or []:
                officials = [str(o) for o in item.get("official", []) or []]
                for word in item.get("words", []) or []:
                    glossary._add(str(word), officials)
        return glossary

    def _add(self, trigger: str, words: list[str]) -> None:
        key = _key(trigger)
        if len(key) < 2 or not words:
            return
        bucket = self.expansions.setdefault(key, [])
        bucket.extend(w for w in words if w not in bucket and _key(w) != key)
        self._matchers = None

    # Every question is matched against every trigger and program name: their normalised forms are made once.
    _matchers: _Matchers | None = field(default=None, init=False, repr=False, compare=False)

    def _matching(self) -> _Matchers:
        if self._matchers is None or self._matchers.programs != len(self.programs):
            # Longest triggers first, so 「IT導入補助金」 wins over 「補助金」-like shorter keys.
            triggers = [(t, _Pattern.of(t)) for t in sorted(self.expansions, key=len, reverse=True)]
            names = [_Pattern.of(key) for official, aliases in self.programs.items() for n in [official, *aliases]
                     if len(key := _key(n)) >= 3]
            self._matchers = _Matchers(triggers, names, len(self.programs))
        return self._matchers

    def expand(self, query: str) -> list[str]:
        """Words to add to the query: official names for nicknames, document words for everyday ones."""
        text = _Text.of(query)
        found: list[str] = []
        for trigger, pattern in self._matching().triggers:
            if pattern.found_in(text):
                for word in self.expansions[trigger]:
                    if word not in found and _key(word) not in text.key:
                        found.append(word)
        return found

    def is_program(self, word: str) -> bool:
        """Is this word a program's official name or one of its nicknames?"""
        key = _key(word)
        return any(key == _key(n) for official, aliases in self.programs.items() for n in [official, *aliases])

    def subject_of(self, title: str) -> str:
        """The program a document's title names (its official name), when it names exactly one: an evaluation
        report or a call titled after a program is about it in every passage, named there or not."""
        key = _key(title)
        named = [official for official in self.programs if len(_key(official)) >= 4 and _key(official) in key]
        if not named:
            named = [official for official, aliases in self.programs.items()
                     if any(len(_key(a)) >= 3 and _key(a) in key for a in aliases)]
        named = [n for n in named if not any(n != m and _key(n) in _key(m) for m in named)]
        return named[0] if len(named) == 1 else ""

    def names_program(self, query: str) -> bool:
        """Does the query name a program, by official name or nickname?"""
        text = _Text.of(query)
        return any(pattern.found_in(text) for pattern in self._matching().names)


_SUFFIXES = "事業|補助金|助成金|支援金|給付金|奨励金|協力金|税制|制度|融資|貸付|基金|交付金|プロジェクト"
# One hiragana between kanji is okurigana inside a compound noun (引上げ, 引継ぎ, 取組み): the i/e-row endings of
# a verb's noun form. A particle, or a verb's plain form (合う, 出す, 使える), ends the name instead.
_OKURIGANA = r"(?<=[\u4e00-\u9fff])[きしちひみりぎじびえけせてめれげべ](?=[\u4e00-\u9fff])"
# A program named in a question: the run of characters before a program-like suffix; other hiragana, spaces
# and punctuation end the run (「地域雇用開発助成金は…」 -> 地域雇用開発助成金), and so does a suffix that goes on
# as a longer word (事業主, 事業者 name people, not programs).
_PROGRAM_NAME_RE = re.compile(
    rf"((?:[^\s\u3040-\u309f、。，．？?！!「」『』（）()]|{_OKURIGANA}){{2,40}}?(?:{_SUFFIXES}))(?![\u4e00-\u9fff])")


def program_names(text: str) -> list[str]:
    """Program names a text mentions, NFKC; a bare suffix with a one-character stem is not a name."""
    names = []
    for m in _PROGRAM_NAME_RE.finditer(nfkc(text)):
        name = m.group(1).lstrip("・")
        if len(re.sub(rf"({_SUFFIXES})$", "", name)) >= 2:
            names.append(name)
    return names


# An 申請枠, 類型 or 特例 named in a question (「夜間営業枠」「店舗改装類型」): a run of kanji, katakana or Latin letters
# before 枠/類型/特例; 「・」 separates two names (「A枠・B枠」).
_FRAME_RE = re.compile(r"((?:[\u4e00-\u9fff\u30a0-\u30fa\u30fc-\u30ffA-Za-z0-9]){2,15}?(?:枠|類型|特例))(?![\u4e00-\u9fff])")


def frame_names(text: str) -> list[str]:
    """The 申請枠, 類型 and 特例 a text names, NFKC: 「商店街補助金の夜間営業枠では」 -> 夜間営業枠."""
    return list(dict.fromkeys(_FRAME_RE.findall(nfkc(text))))


# A grant's suffix after a run of kana (「まちづくり助成金」), not after a particle (「市から給付金」): a program whose
# nickname has a kana stem, which `program_names` does not read as a name.
_KANA_PROGRAM_RE = re.compile(
    r"(?<![\u3040-\u309f\u30a0-\u30ffー])[\u3040-\u309f\u30a0-\u30ffー]{3,}(補助金|助成金|給付金|支援金|交付金|税制)")


def names_kana_program(text: str) -> bool:
    """Does the text name a program by a nickname with a kana stem (「まちづくり助成金」)?"""
    return bool(_KANA_PROGRAM_RE.search(nfkc(text)))


_QUOTED_RE = re.compile(r"[「『]([^」』]{2,30})[」』]")


def quoted_terms(text: str) -> list[str]:
    """Words a text quotes (an 申請枠, a 特例), NFKC: the asker names a term of art exactly. A quoted remark
    (「大丈夫ですよ」と言われた) is not a term: long, or mostly kana."""
    out = []
    for term in _QUOTED_RE.findall(nfkc(text)):
        kana = sum(1 for c in term if "\u3040" <= c <= "\u309f")
        if len(term) <= 15 and kana * 3 <= len(term) and term not in out:
            out.append(term)
    return out


def program_stem(name: str) -> str:
    """A program name without its year and its suffix: 「IT導入補助金2025」 -> 「IT導入」."""
    name = re.sub(r"\s*(20\d\d|令和\d+年度?)$", "", nfkc(name).strip())
    return re.sub(rf"({_SUFFIXES})$", "", name)


def _key(s: str) -> str:
    """Lower-cased NFKC with single spaces (spaces matter only between Latin words)."""
    return re.sub(r"\s+", " ", nfkc(s)).strip().lower()


@dataclass(frozen=True)
class _Text:
    """A text to look for triggers in: its key, and the key without spaces (what a Japanese trigger is sought in)."""

    key: str
    packed: str

    @classmethod
    def of(cls, text: str) -> _Text:
        key = _key(text)
        return cls(key, key.replace(" ", ""))


@dataclass(frozen=True)
class _Pattern:
    """A trigger or name, normalised: a Latin one matches whole words only ("it" must not fire inside
    "digital"); any other matches anywhere, spaces ignored."""

    packed: str
    latin: re.Pattern[str] | None

    @classmethod
    def of(cls, key: str) -> _Pattern:
        if key.isascii():
            return cls("", re.compile(rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])"))
        return cls(key.replace(" ", ""), None)

    def found_in(self, text: _Text) -> bool:
        if self.latin is not None:
            return self.latin.search(text.key) is not None
        return self.packed in text.packed


@dataclass(frozen=True)
class _Matchers:
    triggers: list[tuple[str, _Pattern]]
    names: list[_Pattern]
    programs: int  # how many programs the names were made from
