"""Extractive answering: pick the document sentences that answer the question, each with its citation.

No LLM: every sentence of the answer is a sentence of a cited passage, so the answer can only be
as wrong as the choice of sentences. The choice weighs how much of the question (rare words count
more) a sentence covers, whether it holds the kind of fact asked for (an amount, a rate, a period…),
and how high its passage ranked. When no sentence covers enough of the question, it refuses.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from bot.answerers.base import Draft, Sentence
from retrieval.coverage import QuestionWeights, question_weights
from retrieval.coverage import is_latin as _is_latin
from retrieval.glossary import names_kana_program, program_names, quoted_terms
from retrieval.search import Query
from retrieval.text import answer_units as _answer_units
from retrieval.text import fiscal_years, nfkc, squash, tokenize
from retrieval.types import Hit, Passage

_PHONE_S_RE = re.compile(r"\d{2,5}\s*[-‐－ー]\s*\d{1,4}\s*[-‐－ー]\s*\d{3,4}")  # a phone number

# What a question asks for (question pattern), and how a sentence that gives it looks (sentence pattern).
# A question that asks for one of these is answered only by sentences that hold it: a question about a
# deadline is refused when no retrieved sentence states a date, however well the program name matches.
ASPECTS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "deadline": (
        # asking when (「締切はいつ」「申請期限は？」「締切日」), not naming one (「締切に遅れたらどうなる？」)
        re.compile(r"(締切|締め切り|〆切|期限)(日時|日|時刻)?(は|って|を|が)?\s*(いつ|何日|何時|教え|知り|[?？]|$)|"
                   r"(締切|締め切り|〆切|期限)日|(申請|応募|申込|申し込み|公募|提出).{0,8}いつまで|\bdeadline", re.I),
        re.compile(r"\d+\s*月\s*\d+\s*日|\d+/\d+\s*[(（]|締切|締め切り|期限"),
    ),
    # when applications open (「いつから申請できる」「公募開始はいつ」): a date, or the words that give it
    "opening": (
        re.compile(r"(申請|応募|申込|申し込|公募|受付|募集)\S{0,6}いつから|いつから\S{0,6}(申請|応募|申込|申し込|受付|募集|始ま)|"
                   r"(公募|受付|募集)開始(日|時期)?(は|って)?\s*(いつ|[?？])", re.I),
        re.compile(r"\d+\s*月\s*\d+\s*日|\d+/\d+\s*[(（]|開始|\d+\s*月(上|中|下)旬|\d+\s*月(から|より|以降)"),
    ),
    "documents": (
        # asking which papers (「どんな書類が要る」「提出書類は」), not about papers (「領収書は何年残す？」)
        re.compile(r"(どんな|どのような|どういった|(?<!な)どの|何の|なんの|必要(な|になる|となる)|提出|添付|用意する|準備する)\s*書類|"
                   r"書類[はをがも]?\s*(何(?!年|日|か月|ヶ月|カ月|回|件|人|円)|なに|必要|要る|いる|教え|用意|準備|そろえ|揃え)|提出物|必要なもの|"
                   r"\bdocuments?\b", re.I),
        re.compile(r"書類|提出|添付|必要となる資料|証明書|写し|様式"),
    ),
    "acceptance": (
        re.compile(r"採択率|倍率|\bacceptance rate", re.I),
        # a figure: a sentence naming the 採択率 without one (「採択率の向上を図る」) does not give it
        re.compile(r"(採択率|倍率).{0,20}\d|採択.{0,12}\d+(\.\d+)?\s*[%％倍]|\d+(\.\d+)?\s*[%％倍].{0,8}採択"),
    ),
    "interest": (
        re.compile(r"金利|利率|利子|\binterest\b", re.I),
        re.compile(r"\d+(\.\d+)?\s*[%％]|無利子|無利息|ゼロ金利"),  # a figure (or none): 「優遇金利で」 alone does not answer
    ),
    "amount": (
        re.compile(r"上限額|金額|予算額|補助額|助成額|交付額|貸付額|融資額|限度額|支給額|いくら|予算|上限|相場|"
                   r"(どの|どれ)(くらい|ぐらい|ほど)(の(お?金|額))?(が|は)?(かか|借り)|"
                   r"\bhow much\b|\bbudget|\bamount|\bcap\b|\bmaximum\b|\byen\b", re.I),
        re.compile(r"\d[\d,.]*\s*(兆|億|万|千|百万)?\s*円"),
    ),
    "rate": (
        re.compile(r"補助率|助成率|控除率|割合|何割|何分の|\brates?\b|\bratio\b|\bpercent", re.I),
        re.compile(r"\d+\s*/\s*\d+|\d+\s*分の\s*\d+|\d+(\.\d+)?\s*[%％]|[0-9一二三四五六七八九十]割|定額"),
    ),
    "count": (
        re.compile(r"件数|何件|何社|何人|何名|何校|何者|何か所|何カ所|何回|何(グループ|団体|事業者|か国|カ国|店舗|台)(?![かも])|"
                   r"回数|者数|社数|\bhow many\b|\bnumber of\b", re.I),
        re.compile(r"\d[\d,]*\s*(件|社|者|人|名|カ所|ヶ所|か所|校|団体|拠点|機関|回|グループ|事業者|か国|カ国|店舗|台)"
                   r"(?!\s*(当たり|あたり))"
                   r"|\d+\s*[万千]\s*(以上|超|程度|余)"),
    ),
    # What a word means (「「二重債務問題」とは何ですか」, "what does Sapoin stand for"): a sentence that defines
    # it. Never required (a term may be explained without these words), so it is left out of refusals.
    "definition": (
        re.compile(r"とは(何|なに|どの|どういう|どんな)|どういう意味|意味は|何の略|\bstands? for\b|\bwhat does \S+ mean", re.I),
        re.compile(r"とは[、,]|の略[。)）]?|のこと[。)）]|をいう[。)）]|を指す|いわゆる"),
    ),
    # Where to ask (「問い合わせ先の電話番号は」): a number, an address or a named desk, not a mention of one.
    "contact": (
        re.compile(r"電話番号|連絡先|問い?合わ?せ先|メールアドレス|\bphone\b|\bcontact\b|\be-?mail\b", re.I),
        re.compile(_PHONE_S_RE.pattern + r"|TEL|Tel|電話|@|https?://|問い?合わ?せ(先|窓口)"),
    ),
    # A duration in days (「何日くらいかかる」): a month or a year does not answer it, nor does a date.
    "days": (
        re.compile(r"何日|日数|何営業日|\bhow many days\b", re.I),
        re.compile(r"(?<![月\d])\d+\s*(営業)?日(間|以内|以上|程度|前|後|目|まで|を)"),
    ),
    "period": (
        re.compile(r"期間|いつから|いつまで|何年間|何年|いつ|\bhow long\b|\bwhen\b|\bperiod\b|\bduration\b", re.I),
        re.compile(r"\d+\s*(年度|年間|年|か月|ヶ月|カ月|月)|令和|平成|元年"),
    ),
}
# A question asking for a list: 「挙げて」「一覧」「どんな…がありますか」「具体的に何を」, "which kinds of".
_LIST_Q_RE = re.compile(r"挙げ|一覧|列挙|全て|すべて|どんな|どのような|どういった|具体的に|何があ|なにがあ|"
                        r"\b(list|which kinds?|what kinds?|what types?)\b", re.I)
_LIST_INTRO_RE = re.compile(r"(以下|次の|下記)(の|に|を|のとおり)|[:：]$")
_CONTINUATION_RE = re.compile(r"^(なお|ただし|※|また|さらに|加えて|うち)")
# Sheet furniture that names things but says nothing: 「事業の内容 事業スキーム…」「成果目標」.
_LABEL_RE = re.compile(r"^(事業の内容|事業スキーム|事業目的|事業概要|成果目標|背景・必要性|事業イメージ|条件|資金の流れ)")
_COMPARATIVE_RE = re.compile(r"それぞれ|比べ|比較|違い|違う|異な|変わ|前年|\bcompare|\bdiffer", re.I)
_NUMBER_RE = re.compile(r"\d[\d,.]*")
_WHICH_PROGRAM_RE = re.compile(
    r"(補助金|助成金|制度|支援|窓口|事業|融資|お金|支援策|施策)[^。]{0,8}(ある|あります|使える|ない|教えて|出る)|どこに相談|"
    r"どんな(補助|支援|制度|事業)|\bwhat (program|support|scheme)|\bwhich (program|scheme)", re.I)


AROUND_CACHE = 4096  # passages whose surroundings are kept (the seeds have 870)


@dataclass(frozen=True)
class ExtractiveConfig:
    min_coverage: float = 0.3  # below this share of the question, no sentence answers it
    min_aspect_coverage: float = 0.40  # the sentence stating an asked amount/rate/... must cover this much
    passages_considered: int = 10  # where an asked fact may be found (the gold passage is often 7th-10th)
    passages_free: int = 6  # passages past these add a sentence only when it states an asked fact
    rank_prior: float = 0.4  # preference for sentences of higher-ranked passages
    max_sentences: int = 4
    max_chars: int = 420
    min_gain: float = 0.03
    follow_lists: bool = True  # 「以下の３つを柱に」 brings its bullet items along
    max_list_chars: int = 260
    all_aspects: bool = True  # every fact asked for (上限額 and 補助率) must be stated, not just one
    stand_in: float = 1.0  # weight of glossary words (町工場 -> 中小製造業) standing in for the user's words
    name_share: float = 0.6  # share of a named program's words a passage (with what precedes it) must hold
    aspect_boost: float = 2.0  # weight of the words naming what is asked (上限額, 補助率, 期間) over other words
    part_coverage: float = 0.34  # share of a sub-question's words a sentence must say to answer that part
    passage_fill_chars: int = 420  # the best sentence's passage is read on up to this answer length; 0: off
    list_passages: int = 3  # where a section whose heading is the list asked for may stand in the ranking
    list_heading_share: float = 0.6  # share of the question's words (not naming the document) its heading says
    max_list_answer_chars: int = 700  # a listed section is quoted up to this length


@dataclass(frozen=True)
class _Candidate:
    text: str
    hit: int
    pos: int  # index of the sentence in its passage
    coverage: float  # share of the question's weight this sentence (with its section) covers
    score: float
    covered: frozenset[str]
    aspects: frozenset[str]
    own: frozenset[str] = frozenset()  # question words the sentence itself says (not via its heading)


class ExtractiveAnswerer:
    def __init__(self, idf: Callable[[str], float], config: ExtractiveConfig | None = None,
                 known: Callable[[str], bool] | None = None, context: Callable[[Passage], str] | None = None,
                 expand: Callable[[str], list[str]] | None = None, narrowing: Sequence[str] = (),
                 subject: Callable[[str], str] | None = None):
        self.idf = idf
        # the program a document is about as a whole (an evaluation report of it), by file: its passages are
        # about that program wherever they stand in the document
        self.subject = subject or (lambda source: "")
        self.narrowing = tuple(nfkc(w) for w in narrowing)
        self.config = config or ExtractiveConfig()
        self.known = known or (lambda token: True)
        self.context = context or (lambda passage: "")
        self._around: dict[Passage, tuple[frozenset[str], str]] = {}
        self._around_lock = threading.Lock()
        self.expand = expand or (lambda text: [])

    def answer(self, query: Query, hits: list[Hit]) -> Draft:
        cfg = self.config
        weights, extra = self._question_weights(query)
        asked = asked_aspects(query.question)
        candidates = self._candidates(hits, weights, extra, asked, defined_terms(query.question))
        if not candidates:
            return Draft(refused=True, reason="no candidate sentence")
        most = max(c.coverage for c in candidates)
        if most < cfg.min_coverage:
            return Draft(refused=True, reason=f"coverage {most:.2f} < {cfg.min_coverage}")
        best = max((c for c in candidates if c.coverage >= cfg.min_coverage), key=lambda c: c.score)
        strict = asked - {"period", "definition"}
        names = program_names(query.question)
        if not names and names_kana_program(query.question):
            # A program named by a nickname the name grammar cannot read (「まちづくり助成金」: a kana stem) is
            # named by the official names the glossary gives for it.
            names = [n for e in query.expansions for n in program_names(e)]
        if names:  # a nickname in the question also counts when the passage uses the official name
            names += [n for e in query.expansions for n in program_names(e)]
            # A quoted part of the program (an 申請枠 or 類型) is named too: the passages that say it are about it.
            names += [t for t in quoted_terms(query.question) if len(squash(t)) >= 3]
        # Passages about another program than the one the question names are not quoted beside it.
        verbatim = self._spelled_out(hits, names)
        about = {c.hit for c in candidates if not names or self._mentions(hits[c.hit], names, verbatim)}
        if names and _variant(hits[best.hit], query.question, hits):
            # The best sentence comes from the sheet of the program the question names, not from a variant
            # of it: 「…交付金事業（令和6年度）」 is not answered from the 「…交付金【復興】」 sheet.
            about = {h for h in about if not _variant(hits[h], query.question, hits)}
            named = [c for c in candidates if c.hit in about and c.coverage >= cfg.min_coverage]
            best = max(named, key=lambda c: c.score) if named else best
        about |= {best.hit}
        if strict:
            # An English question is weighed through glossary translations only, so it covers less.
            need = cfg.min_aspect_coverage * (0.5 if _is_latin(query.question) else 1.0)
            unknown = _unknown_subjects(query.question, self.known)
            if unknown:  # 「受検者数」: no document ever says 受検, so none can give the count
                return Draft(refused=True, reason=f"the documents never mention {'/'.join(unknown)}")
            passage_cov = self._passage_coverage(hits, weights, extra)
            qualifiers = self._qualifiers(query.question)
            # A long question tells the asker's situation before it asks (「うちは従業員3人の居酒屋で…。
            # …特別な枠は、いくらまで出ますか？」): the fact is then weighed against the part that asks for it.
            asking = self._asking_words(query.question, weights, strict)

            def covers_asking(c: _Candidate) -> bool:
                total = sum(weights[t] for t in asking)
                return bool(total) and sum(weights[t] for t in c.covered & asking) / total >= need

            stating = [c for c in candidates if strict & self._states(c, query.question) and (
                c.coverage >= need
                or (asking and c.coverage >= cfg.min_coverage and covers_asking(c))
                # A sentence that gives the fact while its passage (high in the ranking) carries the rest of
                # the question: 「2019年度に8回目の開催」 under a paragraph naming ものづくり日本大賞.
                or (c.hit <= 1 and c.coverage >= cfg.min_coverage * 0.67 and passage_cov[c.hit] >= need))
                       and (not names or self._mentions(hits[c.hit], names, verbatim))]
            if stating and not self._qualified(stating, qualifiers, hits):
                return Draft(refused=True, reason=f"no passage states the {'/'.join(sorted(strict))} in the words asked")
            # Further facts asked for may stand anywhere in the passages that state the first one.
            stated_in = {c.hit for c in stating}
            unstated = strict - set().union(*(c.aspects for c in candidates if c.hit in stated_in))
            # A question in parts (「何者以上で申請？また上限額は？」) may find each part's fact in its own passage.
            unstated -= self._stated_by_part(unstated, candidates, weights, query.question)
            if not stating or (cfg.all_aspects and unstated):
                return Draft(refused=True, reason=f"no sentence states the {'/'.join(sorted(unstated or strict))} asked for")
            best = max(stating, key=lambda c: c.score) if best not in stating else best
            if _another_year(query.question, best, stating, asked):
                return Draft(refused=True, reason="the figure found is stated for another fiscal year")
        listed = self._section_list(query.question, hits, weights)
        if listed:
            return Draft(sentences=listed)
        chosen = self._select(best, [c for c in candidates if c.hit in about | {best.hit}], weights, asked,
                              query.question)
        chosen = self._cover_parts(chosen, candidates, weights, query.question)
        chosen = self._with_terms(chosen, candidates, query.question)
        order: dict[tuple[int, int], tuple[int, int]] = {}
        chosen = self._with_neighbours(chosen, candidates, asked, hits, order)
        chosen = self._with_rest_of(best, chosen, candidates)
        # Read in document order within each passage, passages in rank order; what runs on into the next
        # passage of the document is read right after what it continues.
        chosen.sort(key=lambda c: order.get((c.hit, c.pos), (c.hit, c.pos)))
        return Draft(sentences=self._labelled(chosen, hits, query.question))

    def _with_rest_of(self, best: _Candidate, chosen: list[_Candidate], candidates: list[_Candidate]) -> list[_Candidate]:
        """The best sentence's passage read on, in document order, while the answer stays short: the
        sentences around the one that answers qualify it (its conditions, its exceptions, the figure in the
        next line) far more often than a sentence of another passage does."""
        limit = self.config.passage_fill_chars
        size = sum(len(c.text) for c in chosen)
        out = list(chosen)
        # What follows the best sentence first, then what precedes it, nearest first.
        for c in sorted((c for c in candidates if c.hit == best.hit and c not in chosen),
                        key=lambda c: (c.pos < best.pos, abs(c.pos - best.pos))):
            if size + len(c.text) > limit:
                break
            out.append(c)
            size += len(c.text)
        return out

    def _section_list(self, question: str, hits: list[Hit], weights: dict[str, float]) -> list[Sentence]:
        """A question asking for a list (「…を挙げて」「どんな…がありますか」) whose words are the heading of a
        retrieved section made of items is answered with that section's items, in full and in order: a
        list is asked for whole, and its heading says it is the list asked for."""
        cfg = self.config
        if not _LIST_Q_RE.search(nfkc(question)):
            return []
        for i, hit in enumerate(hits[: cfg.list_passages]):
            passage = hit.passage
            heading = set(tokenize(passage.section.split(" > ")[-1])) if passage.section else set()
            # What the question asks about, not what names the document (program, 枠: the heading path's root
            # and the title hold those).
            naming = set(tokenize(f"{passage.title}\n{passage.section.split(' > ')[0]}"))
            asked = {t: w for t, w in weights.items() if t not in naming}
            total = sum(asked.values())
            if not total or sum(w for t, w in asked.items() if t in heading) / total < cfg.list_heading_share:
                continue
            units = [u for u in _units(passage.text) if not _names_only(u, heading | naming)]
            if sum(1 for u in units if _is_item(u)) < 2:
                continue
            out: list[Sentence] = []
            size = 0
            for unit in units:
                if out and size + len(unit) > cfg.max_list_answer_chars:
                    break
                if out and _is_item(out[-1].text) and not _is_item(unit):
                    # The rest of an item (its bracketed gloss, a line the PDF broke) stays with it.
                    out[-1] = Sentence(text=out[-1].text + unit, hit=i)
                else:
                    out.append(Sentence(text=unit, hit=i))
                size += len(unit)
            return out
        return []

    @staticmethod
    def _labelled(chosen: list[_Candidate], hits: list[Hit], question: str) -> list[Sentence]:
        """To 「頼れる制度はある？」 the answer is a program: name it (its section heading) before what
        its passage says, unless the quoted sentence names it already."""
        asks_program = bool(_WHICH_PROGRAM_RE.search(nfkc(question)))
        out, labelled = [], set()
        for c in chosen:
            section = hits[c.hit].passage.section.split(" > ")[-1].strip()
            label = ""
            if asks_program and section and c.hit not in labelled and section not in nfkc(c.text):
                label = section
                labelled.add(c.hit)
            out.append(Sentence(text=c.text, hit=c.hit, label=label))
        return out

    @staticmethod
    def _states(c: _Candidate, question: str) -> frozenset[str]:
        """The asked kinds of fact a sentence really gives. An amount asked per unit (「1事業主あたり」「1台あたり」)
        needs a per-unit figure or a cap, a fee asked by the month (「月いくら」) a monthly figure, a budget
        line (「予算額 128億円」) answers only a question on budgets, and a phone number asked for is a number."""
        aspects = c.aspects
        if "amount" in aspects:
            q, text = nfkc(question), nfkc(c.text)
            per_unit = _PER_UNIT_Q_RE.search(q) and not _PER_UNIT_S_RE.search(text)
            per_unit = per_unit or (_MONTHLY_Q_RE.search(q) and not _MONTHLY_S_RE.search(text))
            budget_only = "予算" not in q and _BUDGET_RE.search(text) and not _GRANT_AMOUNT_RE.search(text)
            if per_unit or budget_only:
                aspects = aspects - {"amount"}
        if "contact" in aspects and _PHONE_Q_RE.search(nfkc(question)) and not _PHONE_S_RE.search(nfkc(c.text)):
            aspects = aspects - {"contact"}  # a number asked for: a web address or a desk's name does not give it
        return aspects

    def _qualifiers(self, question: str) -> list[frozenset[str]]:
        """The narrowing words (glossary: 平均, 累計…) before the word naming a fact asked for, in one compound:
        「平均」 in 「平均補助額」. A cap is not an average: the fact is stated only where these words are too."""
        q = nfkc(question)
        out: list[frozenset[str]] = []
        for m in _COMPOUND_RE.finditer(q):
            for q_re, _ in ASPECTS.values():
                named = q_re.search(m.group(0))
                if named and named.start() > 0:
                    words = frozenset(w for w in self.narrowing if w in m.group(0)[: named.start()])
                    if words:
                        out.append(words)
        return out

    @staticmethod
    def _qualified(stating: list[_Candidate], qualifiers: list[frozenset[str]], hits: list[Hit]) -> bool:
        """Is one of the narrowed facts asked for said where a sentence states it? The sentence or its headings
        must say the narrowing words (「年平均成長率」 elsewhere in the passage says nothing of an average
        amount). One of several is enough: a comparison may be answered in part."""
        if not qualifiers:
            return True
        said = [nfkc(f"{hits[c.hit].passage.section}\n{c.text}") for c in stating]
        return any(all(w in text for w in words) for words in qualifiers for text in said)

    def _spelled_out(self, hits: list[Hit], names: list[str]) -> frozenset[str]:
        """The named programs that some considered passage spells out in full (not just their words)."""
        texts = [squash(f"{h.passage.section}\n{self.context(h.passage)}\n{h.passage.text}")
                 for h in hits[: self.config.passages_considered]]
        return frozenset(n for n in names if len(squash(n)) >= 6 and any(squash(n) in t for t in texts))

    def _passage_coverage(self, hits: list[Hit], weights: dict[str, float],
                          extra: dict[str, float] | None = None) -> list[float]:
        """Share of the question each passage says, glossary words standing in for the user's own (パソコン ->
        ITツール) as they do for a sentence."""
        question = QuestionWeights(weights, extra or {})
        return [question.coverage(set(tokenize(f"{hit.passage.section}\n{hit.passage.text}")))
                for hit in hits[: self.config.passages_considered]]

    def _surroundings(self, passage: Passage) -> tuple[frozenset[str], str]:
        """The tokens and squashed text of a passage with its section and the lines before it. The same
        passages come up question after question, and tokenizing up to 60 lines each time was the largest
        part of answering: kept per passage (bounded; keyed by the whole passage, not its id, so two passages
        that share an id, as test fixtures may, never share an entry)."""
        found = self._around.get(passage)
        if found is None:
            text = f"{passage.section}\n{self.context(passage)}\n{passage.text}"
            found = (frozenset(tokenize(text)), squash(text))
            with self._around_lock:  # web workers answer in threads
                if len(self._around) >= AROUND_CACHE:
                    self._around.pop(next(iter(self._around)))  # the oldest
                self._around[passage] = found
        return found

    def _mentions(self, hit: Hit, names: list[str], verbatim: frozenset[str] = frozenset()) -> bool:
        """Is the passage about one of the named programs? Most of a name's words (by weight) must stand in
        the passage, its section, or the lines just before it (a PR sheet names its program once)."""
        around, flat = self._surroundings(hit.passage)
        subject = squash(self.subject(hit.passage.source))
        for name in names:
            if squash(name) in flat or (subject and squash(name) == subject):
                return True
            if name in verbatim and program_names(hit.passage.section):
                # The documents spell this name out elsewhere, and this passage sits under a program heading
                # without it: the name's words scattered there (「省力化等の大規模成長投資補助金」 for
                # 「省力化投資補助金」) belong to another program.
                continue
            tokens = set(tokenize(name))
            weight = sum(self.idf(t) for t in tokens) or 1.0
            if sum(self.idf(t) for t in tokens if t in around) / weight >= self.config.name_share:
                return True
        return False

    def _select(self, best: _Candidate, candidates: list[_Candidate], weights: dict[str, float],
                asked: set[str], question: str) -> list[_Candidate]:
        """Greedy: add sentences while each brings enough of the question not yet answered."""
        cfg = self.config
        chosen = [best]
        total = sum(weights.values()) or 1.0
        comparative = bool(_COMPARATIVE_RE.search(nfkc(question)))
        # Earlier turns pick the passage; only the question's own words justify another sentence.
        own = set(tokenize(question)) & set(weights) or set(weights)
        # A comparison states each side: room for two more sentences.
        while len(chosen) < cfg.max_sentences + (2 if comparative else 0):
            covered = set().union(*(c.covered for c in chosen))
            found = set().union(*(c.aspects for c in chosen)) & asked
            used = sum(len(c.text) for c in chosen)
            hits_used = {c.hit for c in chosen}

            numbers = {n for c in chosen for n in _NUMBER_RE.findall(nfkc(c.text))}
            shapes = [_shape(c.text) for c in chosen] if comparative else []
            texts = {c.text for c in chosen}

            def gain(c: _Candidate) -> float:
                g = sum(weights.get(t, 0.0) for t in (c.own - covered) & own) / total
                g += 0.3 * len((c.aspects & asked) - found) / max(len(asked), 1)
                if comparative and set(_NUMBER_RE.findall(nfkc(c.text))) - numbers and c.aspects & asked:
                    g += 0.1  # 「それぞれ」「比べて」: the same kind of fact for the other side counts
                if comparative and c.text not in texts and any(_similar(_shape(c.text), s) for s in shapes):
                    g += 0.3  # the same statement with the other side's figures (「3,300件」 / 「3,400件」)
                same_passage = c.hit in hits_used and (g > 0 or (asked and bool(c.aspects & asked)))
                return g + (0.05 if same_passage else 0.0)  # stay with the passage when it adds asked facts

            # Passages low in the ranking (past passages_free) add only a sentence stating an asked fact.
            options = [c for c in candidates if c not in chosen and c.coverage >= cfg.min_coverage
                       and (c.hit < cfg.passages_free or bool(c.aspects & asked))
                       and used + len(c.text) <= cfg.max_chars * (1.5 if comparative else 1.0)]
            if not options:
                break
            pick = max(options, key=lambda c: (gain(c), c.score))
            if gain(pick) < cfg.min_gain:
                break
            chosen.append(pick)
        return chosen

    def _with_terms(self, chosen: list[_Candidate], candidates: list[_Candidate], question: str) -> list[_Candidate]:
        """To 「頼れる制度はある？」「何か支援は受けられる？」 the answer is a program and what it gives: with the
        sentence that names the program comes its passage's line on the grant (上限額, 補助率), when it has one."""
        if not _WHICH_PROGRAM_RE.search(nfkc(question)) or asked_aspects(question) & {"amount", "rate"}:
            return chosen
        out = list(chosen)
        used = sum(len(c.text) for c in out)
        for hit in dict.fromkeys(c.hit for c in chosen[:2]):
            terms = [c for c in candidates if c.hit == hit and c not in out and c.aspects & {"amount", "rate"}
                     and _GRANT_AMOUNT_RE.search(nfkc(c.text)) and not _BUDGET_RE.search(nfkc(c.text))]
            for c in sorted(terms, key=lambda c: -c.score)[:2]:
                if used + len(c.text) <= self.config.max_chars * 1.5:
                    out.append(c)
                    used += len(c.text)
        return out

    def _cover_parts(self, chosen: list[_Candidate], candidates: list[_Candidate], weights: dict[str, float],
                     question: str) -> list[_Candidate]:
        """A question asking two things (「拠点はいくつ？相談件数の目標は？」) gets a sentence for each:
        a part whose own words and asked fact no chosen sentence states brings the sentence that states it best."""
        cfg = self.config
        parts = question_parts(question)
        if len(parts) < 2:
            return chosen
        out = list(chosen)
        wanted_of = [asked_aspects(part) for part in parts]
        tokens_of = [self._part_tokens(part, weights, wanted) for part, wanted in zip(parts, wanted_of)]
        for k, (_part, wanted) in enumerate(zip(parts, wanted_of)):
            tokens = tokens_of[k]
            # What the other parts also say is the subject they share (「宇宙戦略基金」 in "where is it set up"
            # and "what market size does it aim for"): a part is answered by what it alone asks, when it
            # asks something of its own.
            shared = set().union(*(t for j, t in enumerate(tokens_of) if j != k))
            own_words = tokens - shared
            if sum(weights[t] for t in own_words) >= 0.25 * sum(weights[t] for t in tokens):
                tokens = own_words
            total = sum(weights[t] for t in tokens)
            if not total:
                continue

            def says(c: _Candidate) -> float:
                return sum(weights[t] for t in tokens & c.own) / total

            def answers(c: _Candidate) -> bool:
                return says(c) >= cfg.part_coverage and (not wanted or bool(wanted & c.aspects))

            if any(answers(c) for c in out):
                continue
            used = sum(len(c.text) for c in out)
            options = [c for c in candidates if c not in out and answers(c) and c.coverage >= cfg.min_coverage * 0.5
                       and (c.hit < cfg.passages_free or bool(wanted & c.aspects))
                       and used + len(c.text) <= cfg.max_chars * 1.5]
            if options:
                out.append(max(options, key=lambda c: (says(c) + cfg.rank_prior / (1 + c.hit), c.score)))
        return out

    def _stated_by_part(self, unstated: set[str], candidates: list[_Candidate], weights: dict[str, float],
                        question: str) -> set[str]:
        """The asked facts that a sentence states for the part of the question asking for them: one that gives
        such a fact and says enough of that part's words, itself or in its headings."""
        parts = question_parts(question)
        if len(parts) < 2 or not unstated:
            return set()
        found: set[str] = set()
        for part in parts:
            wanted = asked_aspects(part) & unstated
            tokens = self._part_tokens(part, weights, wanted)
            total = sum(weights[t] for t in tokens)
            if not wanted or not total:
                continue
            for c in candidates:
                given = wanted & self._states(c, part)
                if given and sum(weights[t] for t in tokens & c.covered) / total >= self.config.part_coverage:
                    found |= given
        return found

    def _asking_words(self, question: str, weights: dict[str, float], strict: set[str]) -> set[str]:
        """What the parts asking for the facts are about, without the words naming the facts (empty when the
        question is all one part, or when every part asks)."""
        parts = question_parts(question)
        asking = [p for p in parts if asked_aspects(p) & strict]
        if len(parts) < 2 or not asking or len(asking) == len(parts):
            return set()
        return {t for p in asking for t in tokenize(p) if t in weights} - aspect_terms(question)

    def _part_tokens(self, part: str, weights: dict[str, float], wanted: set[str]) -> set[str]:
        """What a part of the question is about (「ヒアリング」「目標」); the words naming the fact asked
        (「回数」) are answered by a sentence stating such a fact (「年12,000回」), checked apart."""
        words = tokenize(part)
        said = tokenize(" ".join(self.expand(part))) if _is_latin(part) else []
        if said:
            # An English part is said in the documents' words through the glossary: its Japanese words,
            # its acronyms (SBL, JAXA), and its glossary words (near-term -> 当面, target -> 目指す).
            acronyms = {w.lower() for w in re.findall(r"\b[A-Z][A-Z0-9&]+\b", part)}
            words = [t for t in words if not t.isascii() or t in acronyms] + said
        return {t for t in words if t in weights} - (aspect_terms(part) if wanted else set())

    def _with_neighbours(self, chosen: list[_Candidate], candidates: list[_Candidate], asked: set[str],
                         hits: list[Hit], order: dict[tuple[int, int], tuple[int, int]]) -> list[_Candidate]:
        """Bring along what a chosen sentence announces or qualifies in the lines right after it:
        the items after 「以下の…」, the rest of a sentence a line break cut, and a following ※/なお
        sentence or one stating an asked fact."""
        cfg = self.config
        by_pos = {(c.hit, c.pos): c for c in candidates}
        out = list(chosen)
        found = set().union(*(c.aspects for c in chosen)) & asked
        def unit_at(hit: int, pos: int) -> _Candidate:
            text = _units(hits[hit].passage.text)[pos]
            return by_pos.get((hit, pos)) or _Candidate(text, hit, pos, 0.0, 0.0, frozenset(), frozenset())

        def following(hit: int, pos: int) -> tuple[int, int] | None:
            """The unit after this one in the document: in the same passage, or the first of the retrieved
            passage that continues it (a list or sentence the chunker cut at a passage boundary)."""
            if pos + 1 < len(_units(hits[hit].passage.text)):
                return hit, pos + 1
            nxt = self._continuing(hits, hit)
            return (nxt, 0) if nxt is not None and _units(hits[nxt].passage.text) else None

        for c in chosen:
            if c.pos > 0 and _starts_mid(c.text):
                # 「の特別償却又は7％の税額控除…」 begins where a line break cut its sentence: the line before
                # holds its subject and first figure, and is read with it.
                before = unit_at(c.hit, c.pos - 1)
                if before not in out:
                    out.append(before)
                    found |= before.aspects & asked
            if cfg.follow_lists and _LIST_INTRO_RE.search(c.text):
                # Every item, short ones (「①成長・挑戦への支援」) included: a list is asked for whole.
                size, at, k = 0, following(c.hit, c.pos), 1
                while at is not None and size + len(unit_at(*at).text) <= cfg.max_list_chars:
                    nxt = unit_at(*at)
                    if at[0] != c.hit and not _ITEM_START_RE.match(nfkc(nxt.text)):
                        break  # the next passage goes on with something else
                    if nxt not in out:
                        out.append(nxt)
                        order[at] = (c.hit, c.pos + k) if at[0] != c.hit else at
                    size += len(nxt.text)
                    at, k = following(*at), k + 1
                continue
            at = following(c.hit, c.pos)
            if cfg.follow_lists and _heads_items(c.text) and at is not None and at[0] == c.hit \
                    and _BULLET_RE.match(nfkc(unit_at(*at).text)):
                # 「②特許料及び特許審査請求料の軽減…費用を減免する」 is detailed by the ・ items under it.
                size = 0
                while at is not None and at[0] == c.hit:
                    nxt = unit_at(*at)
                    if not _BULLET_RE.match(nfkc(nxt.text)) or size + len(nxt.text) > cfg.max_list_chars:
                        break
                    if nxt not in out:
                        out.append(nxt)
                        found |= nxt.aspects & asked
                    size += len(nxt.text)
                    at = following(*at)
                continue
            if at is None:
                continue
            if at[0] != c.hit:
                # What follows in the next passage of the document, when it was retrieved too: the sentence a
                # passage boundary cut, or the 「また、…3分の1に軽減」 that goes on with the chosen one.
                nxt = unit_at(*at)
                if nxt in out:
                    continue
                if (_cut_off(c.text) and not _ITEM_START_RE.match(nfkc(nxt.text))) or (
                        _CONTINUATION_RE.match(nxt.text) and re.search(r"\d", nxt.text)):
                    out.append(nxt)
                    order[at] = (c.hit, c.pos + 1)
                    found |= nxt.aspects & asked
                continue
            then = by_pos.get(at)
            if then is None or then in out:
                continue
            nxt = then
            if _cut_off(c.text) and not _ITEM_START_RE.match(nfkc(nxt.text)):
                out.append(nxt)  # 「…イノベＰガイドライン」 + 「（ＧＬ）を策定する（令和７年度中）。」
                found |= nxt.aspects & asked
                continue
            if _next_item(c.text, nxt.text) or _defines(c.text, nxt.text):
                # 「①工作機械の…約11万台に強化。」 goes on as 「②産業用ロボットの…約35万台に強化。」, and
                # 「※サポインとは、…の略。」 as 「…を提供する裾野産業のこと。」: the one is read with the other.
                out.append(nxt)
                found |= nxt.aspects & asked
                continue
            if (_CONTINUATION_RE.match(nxt.text) and re.search(r"\d", nxt.text)) or (nxt.aspects & asked) - found:
                out.append(nxt)
                found |= nxt.aspects & asked
        return out

    @staticmethod
    def _continuing(hits: list[Hit], i: int) -> int | None:
        """The retrieved passage (index into hits) that starts right where passage i ends, if any."""
        p = hits[i].passage
        for j, h in enumerate(hits):
            q = h.passage
            if j != i and q.source == p.source and 0 < q.start_line - p.end_line <= 3:
                return j
        return None

    def _question_weights(self, query: Query) -> tuple[dict[str, float], dict[str, float]]:
        """Question words with their weight, and glossary/history words that may stand in for them. The words
        that name the fact asked for (「補助上限額」 in 「来年度分の補助上限額」) matter most: a budget line
        matching the year must not outweigh the line that states the cap."""
        w = question_weights(query.question, query.context, query.expansions, self.idf, self.known,
                             stand_in=self.config.stand_in, boosted=aspect_terms(query.question),
                             boost=self.config.aspect_boost)
        return w.own, w.stand_in

    def _candidates(self, hits: list[Hit], weights: dict[str, float], extra: dict[str, float],
                    asked: set[str], terms: tuple[str, ...] = ()) -> list[_Candidate]:
        total = sum(weights.values()) or 1.0
        out: list[_Candidate] = []
        for i, hit in enumerate(hits[: self.config.passages_considered]):
            section_tokens = set(tokenize(hit.passage.section)) if hit.passage.section else set()
            heading = nfkc(hit.passage.section).replace(" ", "")
            naming = set(tokenize(f"{hit.passage.title}\n{hit.passage.section}"))
            for pos, sentence in enumerate(_units(hit.passage.text)):
                if not _informative(sentence, heading) or _names_only(sentence, naming):
                    continue
                tokens = set(tokenize(sentence))
                covered = frozenset(t for t in weights if t in tokens or t in section_tokens)
                own = sum(weights[t] for t in weights if t in tokens)
                from_section = sum(weights[t] for t in covered if t not in tokens)
                missing = total - own - from_section
                stand_in = min(missing, sum(w for t, w in extra.items() if t in tokens or t in section_tokens))
                coverage = (own + from_section + stand_in) / total
                aspects = frozenset(name for name, (_, s_re) in ASPECTS.items() if s_re.search(nfkc(sentence)))
                if "definition" in aspects and not any(t in squash(sentence) for t in terms):
                    aspects -= {"definition"}  # it defines something else (「※付加価値額とは…」)
                score = (
                    (own + 0.8 * from_section + stand_in) / total
                    + 0.25 * len(aspects & asked) / max(len(asked), 1)
                    + self.config.rank_prior / (1 + i)
                )
                out.append(_Candidate(sentence, i, pos, coverage, score, covered, aspects,
                                      frozenset(t for t in weights if t in tokens)))
        return out


@functools.lru_cache(maxsize=8192)
def _units(text: str) -> tuple[str, ...]:
    """The quotable units of a passage text (cached: the same passages come back question after question)."""
    return tuple(_answer_units(text))


def _informative(unit: str, heading: str) -> bool:
    """A unit worth quoting: not the section's own heading, not a sheet label, and saying something."""
    squashed = nfkc(unit).replace(" ", "")
    if (squashed and squashed in heading) or _LABEL_RE.match(squashed):
        return False
    return bool(re.search(r"\d", unit)) or len(squashed) >= 20 or squashed.endswith("。")


_ITEM_START_RE = re.compile(r"^([・○●◆◇■□※▶▷➢➤✓•◎★☆〇⚫\-–]|[①-⑳]|[(][0-9a-zア-ン]{1,2}[)]|[0-9]{1,2}[.])")
def _is_item(unit: str) -> bool:
    """Does the unit open a list item (①, (ア), ・, 1.)? Circled digits are read before NFKC turns them into digits."""
    return bool(_ITEM_START_RE.match(unit.lstrip()) or _ITEM_START_RE.match(nfkc(unit).lstrip()))


_PART_SPLIT_RE = re.compile(r"(?<=[？?])\s*(?=\S)|[。]\s*(?=\S)|、?また(?!は)、?(?=\S)|"
                            r",? and (?=(?:what|how|when|where|which|who|by when|in how)\b)", re.I)


# A run of kanji and katakana: the compound noun a question names its fact with (「平均補助額」「補助上限額」).
_COMPOUND_RE = re.compile(r"[一-龥々ァ-ヶー]{3,}")


_PER_UNIT_Q_RE = re.compile(r"(1|一)\s*\S{0,4}?(あたり|当たり)|につき|\bper\b", re.I)
_MONTHLY_Q_RE = re.compile(r"月(額|々|あたり|当たり)|毎月|月に?いくら|\bper month\b|\bmonthly\b", re.I)
_MONTHLY_S_RE = re.compile(r"月額|月々|毎月|[/／]\s*月|(か|ヶ|カ)?月(あたり|当たり)")
_PER_UNIT_S_RE = re.compile(r"あたり|当たり|につき|上限|限度|最大|まで|/\s*(者|社|件|人|台|事業者|企業)")
_PHONE_Q_RE = re.compile(r"電話番号|\bphone number\b|\btel\b", re.I)
_BUDGET_RE = re.compile(r"予算額?|予備費|計上|内数|百万円\s*[)）]")
_GRANT_AMOUNT_RE = re.compile(r"補助|助成|給付|支給|貸付|融資|上限|限度|控除")
_COUNT_SUBJECT_RE = re.compile(r"([一-龥ァ-ヶー]{1,6}?)(者数|件数|社数|人数)")


def _names_only(unit: str, naming: set[str]) -> bool:
    """A line made only of the document's title and headings words (the title line of a cover page, a
    running header): it names the document and says nothing about it."""
    tokens = set(tokenize(unit))
    return bool(tokens) and tokens <= naming


def _another_year(question: str, best: _Candidate, stating: list[_Candidate], asked: set[str]) -> bool:
    """An amount or rate asked for one fiscal year (「令和8年度の予算額」) whose best statement is dated another
    year (「令和7年度予算額 …」), with no statement naming the asked year: not the asked year's figure."""
    wanted = fiscal_years(question)
    if not wanted or not asked & {"amount", "rate"}:
        return False
    dated = fiscal_years(best.text)
    return bool(dated) and not dated & wanted and not any(fiscal_years(c.text) & wanted for c in stating)


def _unknown_subjects(question: str, known: Callable[[str], bool]) -> list[str]:
    """What a count asked for counts (受検 in 「受検者数」), when no document uses the word at all."""
    out = []
    for m in _COUNT_SUBJECT_RE.finditer(nfkc(question)):
        tokens = [t for t in tokenize(m.group(1)) if t not in {"者", "数", "人"}]
        if tokens and not any(known(t) for t in tokens):
            out.append(m.group(1))
    return out


@functools.lru_cache(maxsize=8192)
def _shape(text: str) -> str:
    """A statement with its figures blanked: parallel lines of a comparison share it."""
    return re.sub(r"\d[\d,.]*", "#", nfkc(text).replace(" ", ""))


@functools.lru_cache(maxsize=65536)
def _similar(a: str, b: str) -> bool:
    if min(len(a), len(b)) < 0.75 * max(len(a), len(b)):
        return False  # the ratio cannot reach 0.75
    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.75


def _variant(hit: Hit, question: str, hits: list[Hit]) -> bool:
    """A sheet titled with a tag the question does not say, when the untagged sheet was retrieved too
    (「…運営費交付金【復興】」 beside 「…運営費交付金事業」 to a question on the latter): a variant of the
    program, not the program asked about."""
    q = squash(question)
    title = nfkc(hit.passage.section).split(" > ")[0]
    tags = re.findall(r"【([^】]{1,8})】", title)
    if not tags or all(squash(tag) in q for tag in tags):
        return False
    base = squash(re.sub(r"【[^】]*】", "", title))
    return len(base) >= 6 and any(
        "【" not in (other := squash(nfkc(h.passage.section).split(" > ")[0])) and other.startswith(base)
        for h in hits)


_BULLET_RE = re.compile(r"^[・•]")


def _heads_items(text: str) -> bool:
    """A line that is not an item itself and does not end a sentence: what the ・ items after it detail."""
    t = nfkc(text).strip()
    return len(t) >= 10 and not _ITEM_START_RE.match(t) and not t.endswith(("。", ".", ")", "）"))


_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_PAREN_NUMBER_RE = re.compile(r"^[(](\d{1,2})[)]")


def _next_item(text: str, nxt: str) -> bool:
    """Is `nxt` the next numbered item of a list, stating the same thing as `text` for another subject
    (「①…を2030年度時点で約11万台に強化。」 then 「②…を2030年時点で約35万台に強化。」)?"""
    a, b = text.lstrip(), nxt.lstrip()
    if a[:1] and a[0] in _CIRCLED and b[:1] and b[0] in _CIRCLED:
        consecutive = _CIRCLED.index(b[0]) == _CIRCLED.index(a[0]) + 1
    else:
        ma, mb = _PAREN_NUMBER_RE.match(nfkc(a)), _PAREN_NUMBER_RE.match(nfkc(b))
        consecutive = ma is not None and mb is not None and int(mb.group(1)) == int(ma.group(1)) + 1
    return consecutive and _similar(_shape(a[1:]), _shape(b[1:]))


_DEFINES_RE = re.compile(r"とは[、,]?.{1,40}(の略|をいう|を指す|のこと)。$")


def _defines(text: str, nxt: str) -> bool:
    """A definition that runs on: 「※サポインとは、…の略。」 then 「…裾野産業のこと。」."""
    return bool(_DEFINES_RE.search(nfkc(text).strip())) and bool(re.search(r"(のこと|をいう|を指す)。$", nfkc(nxt).strip()))


# A particle (or a comma) opening a unit, before a word: the unit goes on with a sentence a line break cut.
_MID_SENTENCE_RE = re.compile(r"^([のをにがはでやへと](?=[一-龥ァ-ヶ0-9A-Za-z])|[、,])")


def _starts_mid(text: str) -> bool:
    """Does this unit begin in the middle of a sentence (「の特別償却又は…」, 「、及び…」)?"""
    return bool(_MID_SENTENCE_RE.match(nfkc(text).lstrip()))


def _cut_off(text: str) -> bool:
    """Does this unit stop in the middle of a sentence (a PDF line break, a split paragraph)?"""
    t = nfkc(text).rstrip()
    return len(t) >= 25 and bool(re.search(r"[\u3040-\u30ff\u4e00-\u9fff、]$", t))


def question_parts(question: str) -> list[str]:
    """The separate things a question asks: 「…は何名？…の目標は？」 -> two parts."""
    parts = [p.strip() for p in _PART_SPLIT_RE.split(nfkc(question)) if p and p.strip()]
    return [p for p in parts if len(p) >= 4]


_TERM_RE = re.compile(r"[「『\"“(（]([^」』\"”)）]{2,30})[」』\"”)）]|([^\s、。?？「」]{2,20})とは")


def defined_terms(question: str) -> tuple[str, ...]:
    """What a question asks the meaning of: quoted or bracketed words, or the word before 「とは」
    (「「SBOM」とは何ですか」 -> SBOM; 'What does "Sapoin" (サポイン) stand for?' -> Sapoin, サポイン)."""
    if "definition" not in asked_aspects(question):
        return ()
    return tuple(dict.fromkeys(squash(a or b) for a, b in _TERM_RE.findall(nfkc(question))))


def aspect_terms(question: str) -> set[str]:
    """Tokens of the words in the question that name the kind of fact asked for (上限額, 補助率, 期間…)."""
    q = nfkc(question)
    out: set[str] = set()
    for q_re, _ in ASPECTS.values():
        for m in q_re.finditer(q):
            out.update(tokenize(m.group(0)))
    return out


def asked_aspects(question: str) -> set[str]:
    q = nfkc(question)
    return {name for name, (q_re, _) in ASPECTS.items() if q_re.search(q)}
