"""What a document is: its program, 申請枠/類型, round and date, read from its own first pages.

`advisor add` proposes these for the manifest (a person may correct them there). They let answers say
which document they come from and let search prefer the newest document of a program over an older one.
Only general layout signals are read: the title line naming a 公募要領/交付規程/募集要項, a bracketed 枠
after it, 第N次/第N回, and the dates of the cover and the 改訂履歴.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.text import dates_in, nfkc

HEAD_LINES = 120  # cover, contacts and 改訂履歴 stand on the first pages
_KIND_RE = re.compile(r"(公募要領|募集要項|公募要項|募集要領|交付規程|交付要綱|実施要領|手引き|ガイドライン)")
_TRACK_RE = re.compile(r"[（(]([^（）()]{1,30}(?:枠|類型|型|コース|部門)[^（）()]{0,20})[）)]")
_ROUND_RE = re.compile(r"第\s*([0-9]{1,3})\s*(次|回)(?!\s*(?:補正|産業|改正|改定))")
@dataclass(frozen=True)
class Identity:
    program: str = ""  # 「IT導入補助金2025」
    track: str = ""  # 申請枠/類型: 「通常枠」
    kind: str = ""  # 公募要領, 交付規程 …
    round: str = ""  # 「第2次」
    date: str = ""  # newest date on the cover or in the 改訂履歴, ISO (2025-03-24)

    def label(self) -> str:
        """How an answer names the document: 「IT導入補助金2025 公募要領（通常枠）」."""
        text = " ".join(x for x in (self.program, self.kind) if x)
        return text + (f"（{self.track}）" if self.track else "") + (f" {self.round}" if self.round else "")


def read_identity(lines: Sequence[str]) -> Identity:
    """The identity a document states about itself (empty fields where it does not)."""
    head = [_compact(ln) for ln in lines[:HEAD_LINES] if ln.strip()]
    program = kind = track = ""
    for i, line in enumerate(head[:40]):
        m = _KIND_RE.search(line)
        if not m or len(line) > 40:  # a title line, not a sentence that mentions a 公募要領
            continue
        kind = m.group(1)
        before = line[:m.start()].strip(" 　・-")
        program = before or (head[i - 1] if i and not _KIND_RE.search(head[i - 1]) else "")
        rest = " ".join(head[i:i + 3])
        t = _TRACK_RE.search(rest[m.start():] if not before else rest)
        track = t.group(1).strip() if t else ""
        if not track and i + 1 < len(head) and len(head[i + 1]) <= 30 and re.search(r"(枠|類型)$", head[i + 1]):
            track = head[i + 1]
        break
    rounds = _ROUND_RE.findall(" ".join(head[:40]))
    # A date alone on its line: the cover's date, or an entry of the 改訂履歴 (not a date inside a rule).
    dates = [d.isoformat() for line in head for d in dates_in(line)
             if len(re.sub(r"[\d年月日()（）令和平成元\s/.]", "", line)) == 0]
    return Identity(program=program[:60], track=track.strip("（）()")[:40], kind=kind,
                    round=f"第{rounds[0][0]}{rounds[0][1]}" if rounds else "", date=max(dates) if dates else "")


def _compact(line: str) -> str:
    """NFKC, and letters spaced out on a cover (「Ｉ Ｔ 導 入」) closed up."""
    words = nfkc(line).split()
    out: list[str] = []
    for i, word in enumerate(words):
        spaced = len(word) == 1 and i > 0 and len(words[i - 1]) == 1
        if spaced:
            out[-1] += word  # a run of single letters spaced out on a cover
        else:
            out.append(word)
    return " ".join(out)
