"""A finder result as an answer: the profile shown back, then a question or the short list, every reason cited.

The text uses the same [n] markers and numbered citations as any other answer, so the web page, Slack and
the CLI show it without knowing it came from the finder; `Answer.finder` carries the structured result
for surfaces that show the profile as editable chips.
"""

from __future__ import annotations

from bot.finder.finder import FinderResult
from bot.schema import Answer, Citation

CORRECT_HINT = "（違っていれば「従業員は30人です」「IT化ではなく販路開拓」のように教えてください）"


def to_answer(result: FinderResult) -> Answer:
    situation = result.message.split("\n")[0]
    # Nothing heard yet: no situation to show back (the question asks for it).
    shown = any(k != "unknown" and k != "summary" and v for k, v in result.profile.items())
    lines = [situation + CORRECT_HINT] if shown else []
    citations: list[Citation] = []
    keys: dict[tuple[str, int, int], int] = {}

    def mark(cites: list[Citation]) -> str:
        out = []
        for c in cites:
            key = (c.source, c.start_line, c.end_line)
            if key not in keys:
                keys[key] = len(keys) + 1
                citations.append(c.model_copy(update={"n": keys[key]}))
            out.append(f"[{keys[key]}]")
        return "".join(out)

    if result.question:
        if result.programs:
            lines.append("いまの候補: " + "、".join(p.name + mark(p.reasons[0].citations[:1])
                                                  for p in result.programs[:3]))
        lines.append(result.question)
    elif not result.programs:
        lines.append(result.message.split("\n", 1)[1] if "\n" in result.message else "")
    else:
        lines.append("ご状況に合いそうな事業:")
        for i, p in enumerate(result.programs, 1):
            lines.append(f"{i}. {p.name}")
            for r in p.reasons:
                lines.append(f"　・{r.text}{mark(r.citations)}")
            for a in p.amounts:
                lines.append(f"　・{a.text}{mark(a.citations)}")
            if p.to_check:
                lines.append("　確認すること: " + "／".join(p.to_check))
        lines.append(result.note)
    text = "\n".join(line for line in lines if line)
    # Nothing fits: like any answer the documents cannot give, it is a refusal (with where to turn instead).
    refused = not result.question and not result.programs
    answer = Answer(answer=text, refused=refused, citations=citations, retrieved=[], notice=result.notice or None)
    # The next turn reads this (bot/turns.py): a reply to the question asked, or a correction of the profile shown.
    answer.finder = result.model_dump(exclude={"programs"}) | {"programs": [p.name for p in result.programs],
                                                               "expects_reply": bool(result.question) or shown}
    return answer
