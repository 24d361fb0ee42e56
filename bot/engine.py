"""The answer engine: question (+ history) -> retrieval -> answerer -> cited Answer, or a stream of Events.

Built once from Settings; the embedder, index and tokenizer load on first use and are then
shared by every question in the process. Adapters (CLI, web, Slack, evals) call only this.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence

from bot.answerers.base import Answerer, Draft, GenerativeAnswerer, Sentence, is_generative
from bot.answerers.extractive import ExtractiveAnswerer
from bot.attribution import source_lines
from bot.config import Settings
from bot.router import routes
from bot.schema import MARKER_RE, Answer, Citation, Event, RetrievedPassage, SourceExcerpt, SourceLine
from bot.understanding import Understander, Understanding
from retrieval.corpus import Manifest, corpus_files
from retrieval.embedders import make_embedder
from retrieval.glossary import Glossary
from retrieval.index import ChromaTarget, PassageIndex
from retrieval.loaders import LoadError, load
from retrieval.search import DocumentNames, Retriever
from retrieval.types import Hit

_BLANK_RE = re.compile(r"[\s\ufeff]")  # blank as the API schema says it (bot/web/api.py, NOT_BLANK)

REFUSAL = (
    "ご質問の内容は、登録されている資料からは確認できませんでした。"
    "推測でお答えすることは控えます。最寄りのよろず支援拠点にご相談いただくか、"
    "該当する事業の最新の公募要領をご確認ください。"
)


def unknown_refusal(names: Sequence[str]) -> str:
    """The refusal of a question naming what no document mentions says which words those are."""
    named = "、".join(f"「{n}」" for n in names)
    return f"登録されている資料には{named}についての記載がありません。" + REFUSAL.split("。", 1)[1]


class QuestionError(ValueError):
    """A question the engine will not take (empty, too long); the message is for the user."""


class UnknownSourceError(LookupError):
    """A source file that is not a document of the corpus (or a line range outside it)."""


class Advisor:
    def __init__(self, settings: Settings, answerer: Answerer | None = None) -> None:
        self.settings = settings
        self._answerer = answerer
        self._retriever: Retriever | None = None
        self._lock = threading.Lock()

    def share_index(self, other: Advisor) -> None:
        """Use another Advisor's loaded index, models and retriever (e.g. to run a second answerer)."""
        self._retriever = other.retriever

    # --- lazily built parts ------------------------------------------------------------------

    def make_index(self) -> PassageIndex:
        s = self.settings
        return PassageIndex(
            s.data_dir, make_embedder(s.embedder, s.embedder_model, query_batch=s.query_batch),
            ChromaTarget(host=s.chroma_host, port=s.chroma_port, collection=s.chroma_collection),
        )

    @property
    def retriever(self) -> Retriever:
        with self._lock:
            if self._retriever is None:
                index = self.make_index()
                index.load()
                s = self.settings
                config = s.search_config()
                glossary = Glossary.load(self.settings.glossary_path)
                self._retriever = Retriever(index, glossary, config, DocumentNames.of(self.manifest, glossary))
            return self._retriever

    @property
    def answerer(self) -> Answerer:
        if self._answerer is None:
            extractive = self.make_extractive()
            if self.settings.answerer == "llm":  # LangChain is imported only now, and only for this
                from bot.answerers.llm import LLMAnswerer

                self._answerer = LLMAnswerer.from_settings(self.settings, fallback=extractive)
            elif self.settings.answerer == "extractive":
                self._answerer = extractive
            else:
                raise ValueError(f"unknown ADVISOR_ANSWERER {self.settings.answerer!r}: 'extractive' or 'llm'")
        return self._answerer

    def make_extractive(self) -> ExtractiveAnswerer:
        index = self.retriever.index
        return ExtractiveAnswerer(index.idf, self.settings.extractive_config(), known=index.knows, context=index.text_before,
                                  subject=lambda source: self.retriever.names.subjects.get(source, ""),
                                  expand=self.retriever.glossary.expand, narrowing=self.retriever.glossary.narrowing)

    @property
    def catalogue(self):
        """The program catalogue of corpus/programs.yaml (empty when there is none); read once."""
        if not hasattr(self, "_catalogue"):
            from retrieval.catalogue import Catalogue

            self._catalogue = Catalogue.load(self.settings.catalogue_path)
        return self._catalogue

    @property
    def catalogue_answers(self):
        """The catalogue answerer (None when turned off or when the catalogue is empty); built once."""
        if not self.settings.catalogue_answers:
            return None
        if not hasattr(self, "_catalogue_answers"):
            from bot.catalogue_answers import CatalogueAnswers

            self._catalogue_answers = (CatalogueAnswers(self.catalogue, self.settings.corpus_dir,
                                                        today=lambda: self.settings.today_date)
                                       if self.catalogue.programs else None)
        return self._catalogue_answers

    @property
    def manifest(self) -> Manifest:
        """corpus/manifest.yaml, read once (an index rebuilt after `advisor add` starts a new process)."""
        if not hasattr(self, "_manifest"):
            self._manifest = Manifest.load(self.settings.corpus_dir)
        return self._manifest

    @property
    def call_notes(self):
        """受付中/受付終了 of the calls a passage answer quotes (bot/call_notes.py); built once."""
        if not hasattr(self, "_call_notes"):
            from bot.call_notes import CallNotes

            self._call_notes = CallNotes(self.catalogue, Manifest.load(self.settings.corpus_dir),
                                         self.settings.corpus_dir, today=lambda: self.settings.today_date)
        return self._call_notes

    @property
    def finder(self):
        """The program finder over the catalogue, the glossary's situation words and hybrid search; built once."""
        if not hasattr(self, "_finder"):
            from bot.finder.finder import Finder
            from bot.finder.profile import Vocabulary

            vocabulary = Vocabulary.load(self.settings.glossary_path)
            self._finder = Finder(self.catalogue.programs, vocabulary,
                                  self.settings.corpus_dir, search=lambda text: self.retriever.search(text, k=30),
                                  min_similarity=self.settings.min_similarity, llm=self._finder_llm(vocabulary),
                                  today=lambda: self.settings.today_date)
        return self._finder

    def _finder_llm(self, vocabulary):
        """With ADVISOR_ANSWERER=llm the finder also asks the model (the answerer's, shared) to read situations
        and judge candidates; ADVISOR_FINDER_LLM=false keeps it on rules alone."""
        if self.settings.answerer != "llm" or not self.settings.finder_llm:
            return None
        from bot.answerers.chat_model import ChatModel
        from bot.answerers.llm_provider import make_chat_model
        from bot.finder.llm_assist import FinderLLM

        chat = getattr(self.answerer, "chat", None)  # the LLM answerer's model and cooldown, shared
        if not isinstance(chat, ChatModel):
            key = self.settings.llm_api_key.get_secret_value() if self.settings.llm_api_key else ""
            chat = ChatModel(factory=lambda: make_chat_model(self.settings), cooldown=self.settings.llm_cooldown,
                             secrets=[key])
        return FinderLLM(vocabulary, chat=chat)

    @property
    def understander(self) -> Understander:
        """Reads each question once (bot/understanding.py) with the catalogue's and the finder's vocabulary."""
        if not hasattr(self, "_understander"):
            self._understander = Understander(self.retriever, self.catalogue_answers, self._finder_intent())
        return self._understander

    def _finder_intent(self):
        """The finder's routing test, or None when the finder is off or has no catalogue to choose from."""
        if not self.settings.finder_answers or not self.catalogue.programs:
            return None
        from bot.finder.intent import wants_finder

        return lambda question, history: wants_finder(question, list(history), self.retriever.glossary,
                                                      self.finder.vocabulary)

    def find(self, situation: str, history: Sequence[dict] | None = None, ask: bool = True):
        """Programs that fit an SME's situation (with cited reasons), or the one question that decides them."""
        self.check(situation)
        return self.finder.find(situation, history=list(history or []), ask=ask)

    def ready(self) -> bool:
        """Index loaded and its vector store reachable (the web server's readiness check)."""
        try:
            return self.retriever.index.reachable()
        except Exception:  # a missing index or a down store: not ready, and /readyz says so
            return False

    def warm_up(self) -> None:
        """Load models and indexes now (servers call this at start-up so the first user does not wait).
        The extractive path is exercised even with an LLM answerer, so that start-up sends no LLM request."""
        query = self.retriever.build_query("補助率")
        self.answerer  # noqa: B018 - built now (the chat model itself is made on first use)
        self.make_extractive().answer(query, self.retriever.search_query(query, k=max(self.settings.top_k, 10)))
        # What the first question would otherwise load (catalogue, finder vocabulary, understanding): seconds.
        self.understander  # noqa: B018
        self.call_notes  # noqa: B018
        if self.settings.finder_answers and self.catalogue.programs:
            self.finder  # noqa: B018

    # --- public API ----------------------------------------------------------------------------

    def search(self, query: str, k: int = 10, history: Sequence[dict] | None = None) -> list[Hit]:
        self.check(query)
        return self.retriever.search(query, k=k, history=history)

    def ask(self, question: str, history: Sequence[dict] | None = None, persona: str | None = None) -> Answer:
        answer: Answer | None = None
        for event in self._events(question, history, persona, live=False):
            if event.type == "done":
                answer = event.answer
        assert answer is not None
        return answer

    def stream(self, question: str, history: Sequence[dict] | None = None,
               persona: str | None = None) -> Iterator[Event]:
        """Events as the answer forms: status, then text deltas and citations, then done.

        With a generative answerer the deltas are its verified sentences as they are written; the `done`
        Answer is authoritative (after a provider failure it is the extractive answer, with a notice).
        `persona` ("sme" or "advisor") sets the tone of a generated answer."""
        return self._events(question, history, persona, live=True)

    def _events(self, question: str, history: Sequence[dict] | None, persona: str | None,
                live: bool) -> Iterator[Event]:
        self.check(question)
        yield Event("status", text="資料を検索しています…")
        t0 = time.perf_counter()
        retriever = self.retriever
        answerer = self.answerer
        generative = answerer if is_generative(answerer) else None
        rewrite = generative.rewrite if generative is not None else None
        understood = self.understander.read(question, history, rewrite=rewrite)
        hits = retriever.search_query(understood.query, k=max(self.settings.top_k, 10))
        t1 = time.perf_counter()
        streamed: list[str] = []
        answer: Answer | None = None
        for route in routes(understood):
            if route in ("catalogue", "catalogue+passages"):
                # List, filter and comparison questions: the program catalogue's cited table, followed by the
                # passage answer when the question also asks what the catalogue does not hold.
                assert self.catalogue_answers is not None and understood.catalogue is not None
                table = self.catalogue_answers.table(understood.catalogue, hits)
                if table is None:
                    continue  # too few programs pass: the next route answers
                answer = table
                if route == "catalogue+passages" and not table.refused:
                    passages = yield from self._passages(understood, hits, generative, answerer, persona,
                                                         live=False, streamed=streamed)
                    answer = self.catalogue_answers.combine(table, passages)
            elif route == "finder":
                # 「印刷業です。頼れる制度は？」: the finder's short list with cited reasons, or its question.
                from bot.finder.render import to_answer

                answer = to_answer(self.finder.find(question, history=list(history or [])))
                answer.retrieved = [RetrievedPassage.of(h.passage, score=h.score) for h in hits]
            else:
                answer = yield from self._passages(understood, hits, generative, answerer, persona, live=live,
                                                   streamed=streamed)
            break
        assert answer is not None
        t2 = time.perf_counter()
        answer.timings_ms = {"retrieve": round((t1 - t0) * 1000, 2), "answer": round((t2 - t1) * 1000, 2)}
        if streamed:
            if streamed != answer.answer.split("\n"):  # replaced after a failure: `done` carries the answer
                yield Event("status", text=answer.notice or "回答を差し替えました。")
        elif answer.refused:
            yield Event("delta", text=answer.answer)
        else:
            # Each citation travels just before the first text that carries its marker, so a client can
            # turn the marker into a link the moment it renders it.
            pending = {c.n: c for c in answer.citations}
            for line in answer.answer.split("\n"):
                for n in (int(m) for m in MARKER_RE.findall(line)):
                    if n in pending:
                        yield Event("citation", citation=pending.pop(n))
                yield Event("delta", text=line + "\n")
            for n in sorted(pending):
                yield Event("citation", citation=pending[n])
        yield Event("done", answer=answer)

    def source_excerpt(self, file: str, start: int, end: int, context: int = 8) -> SourceExcerpt:
        """Lines start..end of a corpus document (1-based, inclusive) with `context` lines either side.

        Only names of files in the corpus folder are accepted, so no path can reach outside it.
        """
        documents = {p.name: p for p in corpus_files(self.settings.corpus_dir)}
        path = documents.get(file)
        if path is None:
            raise UnknownSourceError(f"資料が見つかりません (no such document): {file}")
        try:
            doc = load(path)
        except LoadError as exc:
            raise UnknownSourceError(str(exc)) from exc
        total = len(doc.lines)
        if not 1 <= start <= end <= total:
            raise UnknownSourceError(f"行の範囲が資料の外です (lines {start}-{end} are outside 1-{total}): {file}")
        first, last = max(1, start - context), min(total, end + context)
        lines = [SourceLine(n=n, text=doc.lines[n - 1], cited=start <= n <= end) for n in range(first, last + 1)]
        title = Manifest.load(self.settings.corpus_dir).title(file) or doc.title
        return SourceExcerpt(source=file, title=title, start_line=start, end_line=end, total_lines=total,
                             lines=lines)

    # --- helpers -------------------------------------------------------------------------------

    def check(self, question: str) -> None:
        """Raise QuestionError for a question the engine will not take (empty, too long)."""
        if not question or not _BLANK_RE.sub("", question):
            raise QuestionError("質問が空です。知りたいことを入力してください。 (The question is empty.)")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise QuestionError(
                f"質問が長すぎます（{len(question)}文字）。{limit}文字以内で入力してください。 "
                f"(The question is longer than {limit} characters.)"
            )

    def _passages(self, understood: Understanding, hits: list[Hit], generative: GenerativeAnswerer | None,
                  answerer: Answerer, persona: str | None, live: bool, streamed: list[str]):
        """The answer from passages: refused when out of scope or nothing relevant was found; a generative
        answerer's sentences pass on as they come when `live`."""
        query = understood.query
        if not understood.in_scope:
            draft = Draft(refused=True, reason="the question's words are not the documents' words")
        elif not self.retriever.relevant(hits):
            draft = Draft(refused=True, reason="no relevant passage")
        elif generative is not None and live:
            draft = yield from self._generate(generative.stream(query, hits, persona=persona), hits, streamed)
        elif generative is not None:
            draft = generative.answer(query, hits, persona=persona)
        else:
            draft = answerer.answer(query, hits)
        answer = self._compose(draft, hits)
        if answer.refused and understood.unknown:
            answer.answer = unknown_refusal(understood.unknown)
        if streamed and answer.answer.split("\n")[:len(streamed)] == streamed:
            # the call-status lines come after the streamed sentences: pass them on the same way
            sent = {c.n for c in answer.citations if any(f"[{c.n}]" in line for line in streamed)}
            for line in answer.answer.split("\n")[len(streamed):]:
                for c in answer.citations:
                    if c.n not in sent and f"[{c.n}]" in line:
                        sent.add(c.n)
                        yield Event("citation", citation=c)
                streamed.append(line)
                yield Event("delta", text=line + "\n")
        return answer

    def _generate(self, parts: Iterator, hits: list[Hit], streamed: list[str]):
        """Pass a generative answerer's verified sentences on as they come (each citation just before the
        first sentence that carries it, numbered as _compose will); return its final Draft."""
        numbers: dict[int, int] = {}
        for part in parts:
            if isinstance(part, Draft):
                return part
            for h in (part.hit, *part.also):
                if h not in numbers:
                    numbers[h] = len(numbers) + 1
                    yield Event("citation", citation=Citation.of(hits[h].passage, n=numbers[h]))
            line = _line(part, numbers)
            streamed.append(line)
            yield Event("delta", text=line + "\n")
        return Draft(refused=True, reason="the answerer ended without a draft")

    def _compose(self, draft: Draft, hits: list[Hit]) -> Answer:
        retrieved = [RetrievedPassage.of(h.passage, score=h.score) for h in hits]
        if draft.refused or not draft.sentences:
            answer = Answer(answer=REFUSAL, refused=True, citations=[], retrieved=retrieved)
        else:
            numbers: dict[int, int] = {}
            lines = []
            for sentence in draft.sentences:
                for h in (sentence.hit, *sentence.also):
                    numbers.setdefault(h, len(numbers) + 1)
                lines.append(_line(sentence, numbers))
            citations = [Citation.of(hits[i].passage, n=n) for i, n in sorted(numbers.items(), key=lambda x: x[1])]
            # which version of which call the quoted sentences come from (bot/attribution.py)
            lines += source_lines(citations, self.manifest, self.retriever.names)
            for note in self.call_notes.for_sources(c.source for c in citations):
                # a quoted call's deadline read against today: 受付中 / 受付終了 / 公募予定
                n = len(citations) + 1
                c = note.deadline
                citations.append(Citation(n=n, source=c.source, title=note.title, section=note.program,
                                          start_line=c.start_line, end_line=c.end_line, text="\n".join(note.lines)))
                lines.append(f"〔受付状況〕{note.text()}[{n}]")
            answer = Answer(answer="\n".join(lines), refused=False, citations=citations, retrieved=retrieved)
        answer.notice = draft.notice or None
        answer.hits = hits
        return answer


def _line(sentence: Sentence, numbers: dict[int, int]) -> str:
    label = f"〔{sentence.label}〕" if sentence.label else ""
    return label + sentence.text + "".join(f"[{numbers[h]}]" for h in (sentence.hit, *sentence.also))
