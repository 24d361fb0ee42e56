"""Incremental, resumable sync of jGrants calls into the corpus.

1. List: every keyword of the sweep (the API needs one) with the chosen filters; the union by id.
2. Fetch: the detail of each call that is new or whose listing changed since the last sync, staged under
   the data dir (record text and attached PDFs) one call at a time, so an interrupted run resumes where it
   stopped and fetches nothing twice.
3. Commit, only when every fetch succeeded: records and converted 公募要領 into the corpus and manifest (the
   same loader as `advisor add`; the manifest is written once), then the state. A failure before this leaves
   the corpus as it was.
4. Remove: a call an earlier run of the same sweep (keywords, filters, open-only) listed and this one does not
   has been withdrawn or, for an open-only sweep, has closed: its record and attachments leave the corpus.
   Calls that only another sweep listed are left alone.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from retrieval.corpus import Manifest, ManifestEntry, add_document, remove_document
from retrieval.jgrants.client import JGrantsClient
from retrieval.jgrants.record import render
from retrieval.loaders import LoadError

ATTACHMENTS = ("application_guidelines", "outline_of_grant")  # 公募要領 and 交付要綱 (forms are not read)
RECORD_KIND = "jGrants公募情報"
LISTED = ("title", "acceptance_start_datetime", "acceptance_end_datetime", "subsidy_max_limit",
          "target_area_search", "target_number_of_employees", "update_datetime")


@dataclass
class SyncReport:
    listed: int = 0
    fetched: int = 0  # details fetched in this run
    resumed: int = 0  # details an interrupted run had already staged
    unchanged: int = 0
    committed: list[str] = field(default_factory=list)  # corpus files written
    removed: list[str] = field(default_factory=list)  # corpus files of calls the sweep no longer lists
    skipped: list[str] = field(default_factory=list)  # attachments that could not be read, with why


def fingerprint(item: dict[str, Any]) -> str:
    """What the listing says of a call; a change means its detail is fetched again."""
    return hashlib.sha256(json.dumps({k: item.get(k) for k in LISTED}, sort_keys=True,
                                     ensure_ascii=False).encode()).hexdigest()[:16]


def sweep_key(keywords: Iterable[str], open_only: bool, filters: dict[str, str]) -> str:
    """What a run asked for: two runs with the same key list the same calls unless jGrants changed."""
    asked = {"keywords": sorted(keywords), "open_only": open_only,
             "filters": {k: v for k, v in sorted(filters.items()) if v}}
    return hashlib.sha256(json.dumps(asked, ensure_ascii=False).encode()).hexdigest()[:16]


def record_file(subsidy_id: str) -> str:
    return f"jgrants_{subsidy_id}.txt"


class JGrantsSync:
    def __init__(self, client: JGrantsClient, corpus_dir: Path, data_dir: Path,
                 today: datetime.date | None = None) -> None:
        self.client = client
        self.corpus_dir = corpus_dir
        self.root = data_dir / "jgrants"
        self.state_path = self.root / "state.json"
        self.staging = self.root / "staging"
        self.today = today or datetime.date.today()

    def state(self) -> dict[str, dict[str, Any]]:
        if not self.state_path.exists():
            return {}
        return json.loads(self.state_path.read_text(encoding="utf-8"))

    def run(self, keywords: Iterable[str], open_only: bool = False, progress: bool = True,
            **filters: str) -> SyncReport:
        report = SyncReport()
        listing: dict[str, dict[str, Any]] = {}
        swept = list(dict.fromkeys(k.strip() for k in keywords if k.strip()))
        sweep = sweep_key(swept, open_only, filters)
        for keyword in swept:
            for item in self.client.search(keyword, acceptance=open_only, **filters):
                listing.setdefault(str(item["id"]), item)
        report.listed = len(listing)
        known = self.state()
        todo = [i for i, item in listing.items() if known.get(i, {}).get("fingerprint") != fingerprint(item)]
        report.unchanged = len(listing) - len(todo)
        for subsidy_id in tqdm(todo, desc="jGrants", unit="call", disable=not progress):
            if self._staged(subsidy_id, fingerprint(listing[subsidy_id])):
                report.resumed += 1
                continue
            self._stage(self.client.detail(subsidy_id), fingerprint(listing[subsidy_id]))
            report.fetched += 1
        manifest = Manifest.load(self.corpus_dir)
        for subsidy_id in todo:
            self._commit(subsidy_id, known, manifest, report)
        for subsidy_id in listing.keys() - set(todo):
            known[subsidy_id]["sweep"] = sweep  # unchanged, and still listed by this sweep
        for subsidy_id in [i for i, call in known.items() if i not in listing and call.get("sweep") == sweep]:
            for name in known.pop(subsidy_id).get("files", []):
                remove_document(name, self.corpus_dir, manifest)
                report.removed.append(name)
        for subsidy_id in todo:
            known[subsidy_id]["sweep"] = sweep
        if todo or report.removed:
            self.corpus_dir.mkdir(parents=True, exist_ok=True)
            manifest.save(self.corpus_dir)
        self._write_state(known)
        shutil.rmtree(self.staging, ignore_errors=True)
        return report

    # --- staging: one directory per call, complete once its `staged.json` exists ---------------------------

    def _staged(self, subsidy_id: str, print_: str) -> bool:
        meta = self.staging / subsidy_id / "staged.json"
        return meta.exists() and json.loads(meta.read_text(encoding="utf-8")).get("fingerprint") == print_

    def _stage(self, detail: dict[str, Any], print_: str) -> None:
        subsidy_id = str(detail["id"])
        final = self.staging / subsidy_id
        work = self.staging / f".{subsidy_id}.part"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        (work / record_file(subsidy_id)).write_text(render(detail, self.today), encoding="utf-8")
        files = []
        for kind in ATTACHMENTS:
            for n, attachment in enumerate(detail.get(kind) or [], 1):
                name = str(attachment.get("name") or "")
                if not name.lower().endswith(".pdf") or not attachment.get("data"):
                    continue
                target = work / f"jgrants_{subsidy_id}_{kind}_{n}.pdf"
                target.write_bytes(base64.b64decode(attachment["data"]))
                files.append({"file": target.name, "name": name, "kind": kind})
        meta = {"fingerprint": print_, "title": detail.get("title") or detail.get("name") or "", "attachments": files}
        (work / "staged.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(work, final)

    # --- commit ---------------------------------------------------------------------------------------

    def _commit(self, subsidy_id: str, known: dict[str, dict[str, Any]], manifest: Manifest,
                report: SyncReport) -> None:
        staged = self.staging / subsidy_id
        meta = json.loads((staged / "staged.json").read_text(encoding="utf-8"))
        title = meta["title"]
        self.corpus_dir.mkdir(parents=True, exist_ok=True)
        record = self.corpus_dir / record_file(subsidy_id)
        tmp = record.with_name("." + record.name + ".tmp")
        shutil.copyfile(staged / record_file(subsidy_id), tmp)
        os.replace(tmp, record)
        manifest.entries[record.name] = ManifestEntry(file=record.name, title=f"{title}（jGrants）", publisher="jGrants",
                                                      kind=RECORD_KIND, program=title, date=self.today.isoformat())
        files = [record.name]
        for attachment in meta["attachments"]:
            label = "公募要領" if attachment["kind"] == "application_guidelines" else "交付要綱等"
            try:
                target = add_document(staged / attachment["file"], self.corpus_dir, title=f"{title}（{label}）",
                                      kind=label, manifest=manifest, program=title)
            except LoadError as exc:
                report.skipped.append(f"{subsidy_id} {attachment['name']}: {exc}")
                continue
            files.append(target.name)
        known[subsidy_id] = {"fingerprint": meta["fingerprint"], "title": title, "files": files,
                             "synced": self.today.isoformat()}
        report.committed += files

    def _write_state(self, state: dict[str, dict[str, Any]]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.state_path)
