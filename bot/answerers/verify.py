"""Citation verification: is each generated sentence said by the passage it cites?

A generated sentence is kept only when the passage(s) it marks with [n] support it:

- every number it states (amounts, rates, years, counts) stands in the cited passage, compared after the
  normalisation of retrieval.text (NFKC, 4,500万円 = 4500万円, 3分の2 = 2/3, 令和6年度 = 2024年度,
  1.2億円 = 1億2000万円); one number the passage does not hold and the sentence is unsupported, and
- its support score, the share of its content words (Sudachi tokens, retrieval.text.tokenize) found in the
  cited passage, its section heading and document title, or among the glossary words of the question
  (a nickname in the answer matches the official name in the passage), reaches the threshold.

Markers to passages that were not given are dropped; a sentence left with no marker is unsupported.

Calibration (`python -m bot.answerers.verify`, on evals/datasets/seed_qa.jsonl and the built index): the
dataset's reference answers paraphrase their evidence the way a model does, so each of their 203 sentences
is scored against the passage holding its evidence (positives), against a random passage of another
document, and against another passage of the same document (the likelier mistake: a wrong [n]).

    support score        p10    p25   median   p90    p99    numbers all found
    positives            0.75   0.90  1.00     1.00   1.00   97%
    other document       0.04   0.08  0.13     0.33   0.53   30%
    same document        0.03   0.08  0.18     0.47   0.87   31%

    accepted at          0.4            0.5            0.6            0.7
    (score / score+numbers)
    positives            99.5% / 97.0%  99.0% / 96.6%  98.5% / 96.1%  95.6% / 93.1%
    other document        5.9% /  3.9%   3.4% /  3.0%   0.0% /  0.0%   0.0% /  0.0%
    same document        14.3% /  3.4%   9.4% /  3.0%   4.9% /  2.0%   3.0% /  1.5%

The threshold is 0.6: it keeps 96% of grounded sentences (with their numbers) and accepts none of the
other-document pairs and 2% of the same-document ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from retrieval.text import add_year_aliases, match_form, nfkc, split_sentences, tokenize, yen_amounts
from retrieval.types import Passage

DEFAULT_MIN_SUPPORT = 0.6  # calibrated, see the module docstring; ADVISOR_LLM_MIN_SUPPORT overrides

# [1], [1][2], [1, 2], [1、2], ［１］, 【1】 (\d also matches full-width digits, and int() reads them)
MARKER_RE = re.compile(r"[\[［【]\s*(\d+(?:\s*[,、，]\s*\d+)*)\s*[\]］】]")
_LEADING_MARKERS_RE = re.compile(r"(?:\s*" + MARKER_RE.pattern + r")*")
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_DECOR_RE = re.compile(r"^\s*(?:[-*・●■◆▪︎>#]+|\d+[.)]\s)\s*|\*\*|__|`")
_AMOUNT_SPAN_RE = re.compile(r"(?:\d+(?:\.\d+)?[千百十]?[兆億万]?)+円")

# Instruction-like text inside a document (prompt injection). Such sentences are never evidence: a sentence
# that only they support is unsupported, whatever it copies from them.
INJECTION_RE = re.compile(
    r"(以上|上記|前記|これまで|今まで|先ほど|前|全て|すべて)の(指示|命令|指令|ルール|設定|プロンプト)を(無視|忘れ|破棄)"
    r"|(指示|命令|プロンプト)を無視"
    r"|システムプロンプト|ジェイルブレイク"
    r"|ignore\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier|preceding)\s+(instructions|prompts?|rules)"
    r"|disregard\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above)\s+(instructions|prompts?)"
    r"|system\s+prompt|you\s+are\s+now\s+|new\s+instructions\s*:",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Claim:
    """One sentence of a generated answer: its text without markers and the passage numbers it cites."""

    text: str
    cited: tuple[int, ...]


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    support: float  # share of the sentence's content words the cited passages hold
    numbers_ok: bool  # every number of the sentence stands in the cited passages
    cited: tuple[int, ...]  # markers that point to a given passage, best-supporting first
    supported: bool

    @property
    def best(self) -> int | None:
        return self.cited[0] if self.cited else None


def claims(text: str) -> list[Claim]:
    """Split an answer into sentences with their markers; a marker written after the full stop
    (「…です。[1]」) belongs to the sentence before it."""
    out: list[Claim] = []
    for line in text.split("\n"):
        for piece in split_sentences(line):
            leading = _LEADING_MARKERS_RE.match(piece)
            lead = leading.group(0) if leading else ""
            if lead and out:  # 「…です。[1]次の文」: the markers after a full stop close the sentence before it
                last = out[-1]
                out[-1] = Claim(last.text, tuple(dict.fromkeys((*last.cited, *_numbers_in(lead)))))
                piece = piece[len(lead):]
            body = clean(MARKER_RE.sub("", piece))
            if not re.search(r"\w", body):
                continue
            out.append(Claim(body, tuple(dict.fromkeys(_numbers_in(piece)))))
    return out


def _numbers_in(markers: str) -> list[int]:
    return [int(n) for group in MARKER_RE.findall(markers) for n in re.split(r"[,、，]", group)]


def clean(sentence: str) -> str:
    """A sentence without list bullets, emphasis marks or stray spaces."""
    previous = None
    while previous != sentence:
        previous, sentence = sentence, _DECOR_RE.sub("", sentence)
    return re.sub(r"\s+", " ", sentence).strip()


def evidence(passage: Passage) -> str:
    """What a passage can vouch for: its text (less instruction-like sentences), section and title."""
    kept = [s for s in split_sentences(passage.text.replace("\n", "。\n")) if not INJECTION_RE.search(nfkc(s))]
    return "\n".join([passage.title, passage.section, *kept])


def numbers_of(text: str) -> tuple[set[int], set[str]]:
    """Yen amounts (as integers) and the other numbers (as written after normalisation) of a text."""
    form = match_form(add_year_aliases(nfkc(text)))
    amounts = set(yen_amounts(form))
    rest = _AMOUNT_SPAN_RE.sub(" ", form)
    return amounts, set(_NUMBER_RE.findall(rest))


def numbers_found(sentence: str, evidence_text: str) -> bool:
    amounts, numbers = numbers_of(sentence)
    have_amounts, have_numbers = numbers_of(evidence_text)
    # An amount may also be written in the passage as plain digits of a table ("4,500" under 万円).
    have_all = have_numbers | {str(a) for a in have_amounts}
    for a in amounts:
        if a not in have_amounts and not any(str(a // unit) in have_numbers for unit in (1, 10**3, 10**4, 10**6, 10**8)
                                             if a % unit == 0):
            return False
    # A year alias the sentence added (2024 beside 令和6) is checked through its original form.
    years = {n for n in numbers if re.fullmatch(r"(19|20)\d\d", n)}
    return all(n in have_all for n in numbers - years) and all(
        n in have_all or _era_alias(n) & have_all for n in years)


def _era_alias(year: str) -> set[str]:
    y = int(year)
    return {str(y - 2018), str(y - 1988)} if y >= 1989 else set()


def support(sentence: str, evidence_text: str, extra_words: Iterable[str] = ()) -> float:
    """Share of the sentence's content words that the evidence (or the question's glossary words) holds."""
    words = set(tokenize(sentence))
    if not words:
        return 0.0
    held = set(tokenize(evidence_text)) | set(extra_words)
    return len(words & held) / len(words)


def verify(claim: Claim, passages: Sequence[Passage], min_support: float = DEFAULT_MIN_SUPPORT,
           extra_words: Iterable[str] = ()) -> Verdict:
    """Check one sentence against the passages it cites (numbered 1..len(passages))."""
    cited = [n for n in claim.cited if 1 <= n <= len(passages)]
    if not cited:
        return Verdict(claim, 0.0, False, (), False)
    extra = set(extra_words)
    texts = {n: evidence(passages[n - 1]) for n in cited}
    scores = {n: support(claim.text, texts[n], extra) for n in cited}
    ranked = sorted(cited, key=lambda n: -scores[n])
    together = "\n".join(texts[n] for n in ranked)
    score = support(claim.text, together, extra) if len(cited) > 1 else scores[ranked[0]]
    numbers_ok = numbers_found(claim.text, together)
    # A passage that adds nothing to the best one is not kept as a citation.
    useful = [ranked[0]] + [n for n in ranked[1:] if scores[n] > 0]
    return Verdict(claim, round(score, 4), numbers_ok, tuple(useful), numbers_ok and score >= min_support)
