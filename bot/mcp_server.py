"""The advisor as an MCP server (`advisor mcp`): Claude Desktop or any MCP client asks it, with citations.

An adapter like the CLI and the web app: each tool calls the engine and returns the same JSON shape as the
matching `advisor … --json` command, so a client sees exactly what a person would open and read. Errors
meant for users (an empty question, a line range outside a document) come back as tool errors with their
message; nothing here retrieves or answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from bot.schema import hit_rows

if TYPE_CHECKING:
    from bot.engine import Advisor

INSTRUCTIONS = (
    "日本の中小企業支援策（補助金・支援事業・税制）について、登録された公的資料だけを根拠に答えます。"
    "回答の [n] は citations の n 番の資料の行を指します。資料にないことは refused=true で「確認できない」と答えます。"
    " Answers Japanese SME support-program questions from the registered public documents only; every [n] in an "
    "answer refers to citations[n], a passage with its file and line numbers (open it with show_source)."
)


def build_server(advisor: Advisor) -> MCPServer:
    """The MCP server over one engine (loaded once, shared by every call)."""
    from bot.engine import QuestionError, UnknownSourceError
    from retrieval.catalogue import CatalogueError, filter_programs
    from retrieval.index import PassageIndexError

    user_errors = (QuestionError, UnknownSourceError, PassageIndexError, CatalogueError)
    server = MCPServer("subsidy-advisor", instructions=INSTRUCTIONS)

    def call(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except user_errors as exc:
            raise ToolError(str(exc)) from exc

    @server.tool()
    def ask(question: str, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Answer a question from the documents, in Japanese, citing each claim ([n] -> citations).
        `history`: earlier turns as [{"role": "user"|"assistant", "content": ...}] for a follow-up.
        Same shape as `advisor ask --json`: {answer, refused, citations, retrieved, timings_ms}."""
        return call(advisor.ask, question, history=history).model_dump()

    @server.tool()
    def search(query: str, k: int = 10) -> list[dict[str, Any]]:
        """The passages hybrid search finds for a query, best first, each with its file, lines and score
        (as `advisor search --json`)."""
        return hit_rows(call(advisor.search, query, k=max(1, min(k, 50))))

    @server.tool()
    def find_programs(situation: str, history: list[dict[str, Any]] | None = None,
                      ask_questions: bool = True) -> dict[str, Any]:
        """Programs that fit an SME's situation in plain words, each with cited reasons; or, when one answer
        would change the short list, the question to ask the user first (as `advisor find --json`)."""
        return call(advisor.find, situation, history=history, ask=ask_questions).model_dump()

    @server.tool()
    def list_programs(kind: str | None = None, target: str | None = None) -> list[dict[str, Any]]:
        """The program catalogue, every field cited to its lines (as `advisor programs --json`). `kind`: one of
        補助, 委託, 融資, 税制, 基金, その他; `target`: a word the target, purpose or support must mention."""
        found = call(filter_programs, advisor.catalogue.programs, kind=kind, word=target)
        return [p.public(advisor.settings.today_date) for p in found]

    @server.tool()
    def show_source(file: str, start_line: int, end_line: int, context: int = 8) -> dict[str, Any]:
        """The cited lines of a document (a citation's source, start_line, end_line) with `context` lines
        either side, each marked cited or not: what a person opens to check an answer."""
        return call(advisor.source_excerpt, file, start_line, end_line, context=max(0, min(context, 40))).model_dump()

    return server
