"""A corpus of the seed documents plus real 公募要領, made the way a user makes one: `advisor add` each PDF.

The real documents (../shared/realdocs/) are not part of the product's corpus; evals and tests build this
corpus in a folder of their own. The seed index is copied in first, so `advisor index` there embeds only
the added documents (the build is incremental by file hash).

    python -m evals.realdocs --realdocs ../shared/realdocs --out .advisor-realdocs
    ADVISOR_CORPUS_DIR=.advisor-realdocs/corpus ADVISOR_DATA_DIR=.advisor-realdocs/data advisor index
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from retrieval.corpus import Manifest, add_document, corpus_files

KEPT = ("manifest.yaml", "programs.yaml")  # written here by `advisor add` and `advisor catalogue build`
PUBLISHER = ""  # left for a person to fill: the documents name their 事務局 themselves


def prepare(seed_corpus: Path, realdocs: Path, out: Path, seed_data: Path | None = None) -> list[Path]:
    """Fill out/corpus with the seed corpus and every PDF of `realdocs` (converted as `advisor add` does);
    copy the seed index to out/data when it exists. Returns the added text files. Idempotent."""
    pdfs = sorted(realdocs.glob("*.pdf"))
    if not pdfs:
        raise FileNotFoundError(f"no PDF in {realdocs}")
    corpus = out / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for path in seed_corpus.iterdir():
        target = corpus / path.name
        # The seed files follow the checkout (a glossary edit reaches this corpus); the manifest and the
        # catalogue here hold the added documents too, so they are copied once and then kept.
        if path.is_file() and (not target.exists() or (path.name not in KEPT and target.read_bytes() != path.read_bytes())):
            shutil.copy2(path, target)
    known = Manifest.load(corpus).entries
    added = []
    for pdf in pdfs:
        target = corpus / f"{pdf.stem}.txt"
        if target.name not in known or not target.exists():
            target = add_document(pdf, corpus)
        added.append(target)
    data = out / "data"
    if seed_data is not None and (seed_data / "state.json").exists() and not (data / "state.json").exists():
        shutil.copytree(seed_data, data, dirs_exist_ok=True)
    return added


def in_corpus(corpus: Path) -> list[str]:
    return [p.name for p in corpus_files(corpus)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--realdocs", type=Path, default=Path("../shared/realdocs"))
    ap.add_argument("--out", type=Path, default=Path(".advisor-realdocs"))
    ap.add_argument("--corpus", type=Path, default=Path("corpus"), help="the seed corpus")
    ap.add_argument("--data", type=Path, default=Path(".advisor"), help="the seed index, copied to start from")
    args = ap.parse_args(argv)
    if not args.realdocs.is_dir():
        print(f"skipped: {args.realdocs} not found (the real 公募要領 live beside the checkout in shared/)",
              file=sys.stderr)
        return 3
    added = prepare(args.corpus, args.realdocs, args.out, args.data)
    print(f"{args.out / 'corpus'}: {len(in_corpus(args.out / 'corpus'))} documents ({len(added)} real 公募要領)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
