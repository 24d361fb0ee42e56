"""Where a program or call is open: prefectures and the regions portals group them in (retrieval/areas.yaml).

The names are data; this module holds the one rule the catalogue and the finder share: a text that names
prefectures or regions is for those places only, one naming none (or 全国) is for everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

AREAS_FILE = Path(__file__).with_name("areas.yaml")


@dataclass(frozen=True)
class Areas:
    prefectures: tuple[str, ...]  # short forms: 福岡, 東京, 北海道
    regions: dict[str, tuple[str, ...]]  # 九州・沖縄地方 -> its prefectures
    nationwide: tuple[str, ...]

    @classmethod
    def load(cls, path: Path = AREAS_FILE) -> Areas:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(prefectures=tuple(data["prefectures"]),
                   regions={r: tuple(p) for r, p in data["regions"].items()},
                   nationwide=tuple(data.get("nationwide") or ()))

    def named(self, text: str) -> set[str] | None:
        """The prefectures `text` restricts to (regions expanded); None when it names no place or the whole
        country, i.e. it does not restrict."""
        if any(word in text for word in self.nationwide):
            return None
        places = set(self.mentioned(text))
        for region, members in self.regions.items():
            if region in text:
                places.update(members)
        return places or None

    def mentioned(self, text: str) -> list[str]:
        """The prefectures `text` names, in the data's order (東京都 is not 京都)."""
        text = text.replace("東京都", "東京")
        return [p for p in self.prefectures if p in text]

    def admits(self, text: str, prefecture: str) -> bool:
        """Is a business in `prefecture` (short or full form) within the area `text` states?"""
        places = self.named(text)
        return places is None or short_form(prefecture) in places


def short_form(name: str) -> str:
    """「福岡県」「東京都」「大阪府」 -> 「福岡」「東京」「大阪」 (北海道 stays whole)."""
    name = name.strip()
    return name[:-1] if name.endswith(("県", "府", "都")) and len(name) > 2 else name


@cache
def areas() -> Areas:
    """The packaged areas, read once per process."""
    return Areas.load()
