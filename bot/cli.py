"""The `advisor` command line: parse arguments, call the engine, render. No retrieval or answer logic here."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from bot.config import Settings, get_settings
from bot.turns import assistant_turn, user_turn


def _fail_cleanly(fn):
    """Known errors go to stderr as one readable line with exit status 1, not as a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from bot.config import SettingsError
        from bot.engine import QuestionError
        from bot.storage import StorageError
        from retrieval.embedders import EmbedderError
        from retrieval.index import PassageIndexError
        from retrieval.jgrants.client import JGrantsError
        from retrieval.loaders import LoadError

        try:
            return fn(*args, **kwargs)
        except (QuestionError, PassageIndexError, EmbedderError, LoadError, StorageError, SettingsError,
                JGrantsError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="subsidy-advisor")
def cli() -> None:
    """subsidy-advisor: answers on Japanese SME support programs, citing the source documents."""


def _advisor(settings: Settings | None = None):
    from bot.engine import Advisor

    return Advisor(settings or get_settings())


@cli.command()
@click.option("--rebuild", is_flag=True, help="Drop the index and embed the whole corpus again.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@_fail_cleanly
def index(rebuild: bool, quiet: bool) -> None:
    """Build or update the index (only changed documents are embedded again)."""
    from retrieval.corpus import convert_dropped_documents

    settings = get_settings()
    converted, errors = convert_dropped_documents(settings.corpus_dir)
    for path in converted:
        click.echo(f"converted to text: {path.name}", err=True)
    for line in errors:
        click.echo(f"skipped: {line}", err=True)
    idx = _advisor(settings).make_index()
    report = idx.build(settings.corpus_dir, rebuild=rebuild, progress=not quiet,
                       on_error=lambda msg: click.echo(f"skipped: {msg}", err=True))
    click.echo(
        f"index: {report.passages} passages ({report.units} small units) from "
        f"{len(report.added) + len(report.updated) + len(report.unchanged)} "
        f"documents (added {len(report.added)}, updated {len(report.updated)}, removed {len(report.removed)}, "
        f"unchanged {len(report.unchanged)}; embedded {report.embedded})"
    )
    if not report.passages:
        raise click.ClickException(f"no documents could be indexed from {settings.corpus_dir}")


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--title", help="Document title (default: its first line).")
@click.option("--publisher", default="", help="Publisher, e.g. 経済産業省.")
@click.option("--fiscal-year", default="", help="Fiscal year or date, e.g. 令和6年度.")
@click.option("--kind", default="", help="Kind of document, e.g. 予算PR資料, 公募要領.")
@click.option("--program", default="", help="Program the document is about (default: read from its title).")
@click.option("--track", default="", help="申請枠/類型, e.g. 通常枠 (default: read from its title).")
@click.option("--round", "round_", default="", help="Round, e.g. 第2次 (default: read from its first pages).")
@click.option("--date", default="", help="Version date, YYYY-MM-DD (default: the newest date of its cover/改訂履歴).")
@_fail_cleanly
def add(file: Path, title: str | None, publisher: str, fiscal_year: str, kind: str, program: str, track: str,
        round_: str, date: str) -> None:
    """Add a .txt/.md/.pdf/.html document to the corpus (then run `advisor index`)."""
    from retrieval.corpus import Manifest, add_document

    settings = get_settings()
    target = add_document(file, settings.corpus_dir, title=title, publisher=publisher, fiscal_year=fiscal_year,
                          kind=kind, program=program, track=track, round=round_, date=date)
    entry = Manifest.load(settings.corpus_dir).entry(target.name)
    click.echo(f"added {target.name}; run `advisor index` to make it searchable")
    if entry is not None:
        shown = {"title": entry.title, "program": entry.program, "track": entry.track, "kind": entry.kind,
                 "round": entry.round, "date": entry.date, "fiscal_year": entry.fiscal_year}
        click.echo("manifest (correct it in corpus/manifest.yaml if wrong): "
                   + ", ".join(f"{k}={v}" for k, v in shown.items() if v))


@cli.command()
@click.argument("query")
@click.option("-k", "k", default=10, show_default=True, help="How many passages.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_fail_cleanly
def search(query: str, k: int, as_json: bool) -> None:
    """Show the passages the hybrid search finds for QUERY."""
    from bot.schema import hit_rows

    hits = _advisor().search(query, k=k)
    if as_json:
        click.echo(json.dumps(hit_rows(hits), ensure_ascii=False, indent=1))
        return
    for rank, h in enumerate(hits, 1):
        p = h.passage
        click.echo(f"{rank:>2}. {h.score:.4f}  {p.source}:{p.start_line}-{p.end_line}  {p.section}")
        click.echo("    " + p.text[:160].replace("\n", " "))


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@_fail_cleanly
def ask(question: str, as_json: bool) -> None:
    """Answer QUESTION from the documents, with citations."""
    answer = _advisor().ask(question)
    if as_json:
        click.echo(answer.model_dump_json(indent=1))
    else:
        _render(answer)


@cli.command()
@_fail_cleanly
def chat() -> None:
    """Talk with the advisor in the terminal; follow-up questions use the conversation so far."""
    from bot.engine import QuestionError

    advisor = _advisor()
    click.echo("資料を読み込んでいます…", err=True)
    advisor.warm_up()
    click.echo("subsidy-advisor: 補助金・支援事業について質問してください（/new で新しい会話、/quit で終了）。")
    history: list[dict] = []
    while True:
        try:
            question = click.prompt("質問", prompt_suffix="> ", default="", show_default=False)
        except (EOFError, click.Abort):
            click.echo()
            return
        question = question.strip()
        if question in {"/quit", "/exit", "/q"}:
            return
        if question == "/new":
            history = []
            click.echo("新しい会話を始めます。")
            continue
        if not question:
            continue
        try:
            answer = advisor.ask(question, history=history)
        except QuestionError as exc:
            click.echo(str(exc), err=True)
            continue
        _render(answer)
        history += [user_turn(question), assistant_turn(answer)]


@cli.command()
@click.argument("situation")
@click.option("--json", "as_json", is_flag=True, help="Print {profile, question, programs} as JSON.")
@click.option("--no-questions", is_flag=True, help="Give the best list at once instead of asking what decides.")
@_fail_cleanly
def find(situation: str, as_json: bool, no_questions: bool) -> None:
    """Programs that fit an SME's SITUATION, each with cited reasons (or the question that decides them)."""
    result = _advisor().find(situation, ask=not no_questions)
    if as_json:
        click.echo(result.model_dump_json(indent=1))
        return
    click.echo(result.message)
    if result.notice:
        click.echo(result.notice)
    if result.question:
        click.echo(f"\n質問: {result.question}")
        return
    for i, p in enumerate(result.programs, 1):
        click.echo(f"\n{i}. {p.name}  (score {p.score})")
        for r in [*p.reasons, *p.amounts]:
            refs = ", ".join(f"{c.source}:{c.start_line}-{c.end_line}" for c in r.citations)
            click.echo(f"   ・{r.text}  [{refs}]")
        if p.to_check:
            click.echo("   確認すること: " + " / ".join(p.to_check))
    if result.programs:
        click.echo(f"\n{result.note}")


@cli.command(name="eval")
@click.option("--dataset", "datasets", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=["evals/datasets/seed_qa.jsonl"], show_default=True, help="JSON Lines dataset (repeatable).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write records and metrics.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML report.")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An earlier --json result to compare with.")
@click.option("--k", "k", default=5, show_default=True, help="Cut-off for recall@k.")
@click.option("--gate", "gate_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML of minimum metrics; exit 1 when any is missed.")
@click.option("--answerer", "answerer", type=click.Choice(["extractive", "llm", "both"]),
              help="Answerer to evaluate (default: ADVISOR_ANSWERER); `both` runs the dataset through each and "
                   "reports them side by side (the gate applies to the llm run).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@_fail_cleanly
def eval_(datasets: tuple[Path, ...], json_out: Path | None, html_out: Path | None, baseline: Path | None,
          k: int, gate_file: Path | None, answerer: str | None, quiet: bool) -> None:
    """Run eval datasets through the engine and report retrieval, answer, citation and refusal metrics."""
    import tomllib

    from evals.dataset import DatasetError
    from evals.finder_eval import FinderDatasetError
    from evals.report import render_html
    from evals.suite import load_all, run_suite

    settings = get_settings()
    try:
        items, situations = load_all(datasets, settings.corpus_dir)
    except (DatasetError, FinderDatasetError) as exc:
        raise click.ClickException(f"invalid dataset:\n{exc}") from exc
    modes = ["extractive", "llm"] if answerer == "both" else [answerer or settings.answerer]
    gates = tomllib.loads(gate_file.read_text(encoding="utf-8")) if gate_file else {}

    def progress(mode: str, i: int, n: int) -> None:
        if not quiet and (i % 20 == 0 or i == n):
            click.echo(f"  {mode} {i}/{n}" if len(modes) > 1 else f"  {i}/{n}", err=True)

    suite = run_suite(settings, items, situations, modes, gates, k=k, progress=progress)
    if json_out:
        json_out.write_text(json.dumps(suite.result, ensure_ascii=False, indent=1), encoding="utf-8")
    if html_out and not suite.finder_only:
        old = json.loads(baseline.read_text(encoding="utf-8")) if baseline else None
        html_out.write_text(render_html(suite.result, old, gates.get("overall", {})), encoding="utf-8")
    width = 24 if suite.finder_only else 20
    _echo_metrics(suite.headlines, suite.labels, width=width)
    if len(suite.splits) > 1:  # tune and held-out side by side: a gap says the rules fit the tuned items only
        click.echo("by split:")
        _echo_metrics([suite.splits[name] for name in sorted(suite.splits)], sorted(suite.splits), width=width)
    if suite.failures:
        raise click.ClickException("quality gate failed: " + "; ".join(suite.failures))


def _echo_metrics(tables: list[dict], headers: list[str], width: int) -> None:
    """Metrics a line each; runs of several answerers side by side under their headers."""
    if len(tables) == 1:
        for key, value in tables[0].items():
            click.echo(f"{key:>{width}}: {value}")
        return
    click.echo(" " * (width + 2) + "  ".join(f"{h:>10}" for h in headers))
    for key in tables[-1]:
        click.echo(f"{key:>{width}}: " + "  ".join(f"{t.get(key)!s:>10}" for t in tables))


@cli.group()
def sync() -> None:
    """Bring current calls from public portals into the corpus."""


@sync.command("jgrants")
@click.option("--keyword", "keywords", multiple=True, help="Keyword to sweep (repeatable; default: corpus/jgrants.yaml).")
@click.option("--open-only", is_flag=True, help="Only calls open now (acceptance=1).")
@click.option("--area", default="", help="target_area_search filter, e.g. 福岡県 or 九州・沖縄地方.")
@click.option("--employees", default="", help="target_number_of_employees filter, e.g. 20名以下.")
@click.option("--no-index", is_flag=True, help="Do not update the index and catalogue afterwards.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_context
@_fail_cleanly
def sync_jgrants(ctx: click.Context, keywords: tuple[str, ...], open_only: bool, area: str, employees: str,
                 no_index: bool, quiet: bool) -> None:
    """Fetch new and changed calls from jGrants with their 公募要領 (only what changed since the last run)."""
    import yaml

    from retrieval.jgrants.client import CREDIT, JGrantsClient
    from retrieval.jgrants.sync import JGrantsSync

    settings = get_settings()
    if not keywords:
        path = settings.jgrants_keywords_path
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
        keywords = tuple((data or {}).get("keywords") or [])
    if not keywords:
        raise click.ClickException("no keyword to sweep: pass --keyword or list them in corpus/jgrants.yaml")
    with JGrantsClient(settings.jgrants_base_url, timeout=settings.jgrants_timeout, retries=settings.jgrants_retries,
                       min_interval=settings.jgrants_min_interval) as client:
        report = JGrantsSync(client, settings.corpus_dir, settings.data_dir, settings.today_date).run(
            keywords, open_only=open_only, progress=not quiet, target_area_search=area,
            target_number_of_employees=employees)
    for line in report.skipped:
        click.echo(f"skipped: {line}", err=True)
    click.echo(f"jGrants: {report.listed} calls listed, {report.fetched} fetched, {report.resumed} resumed, "
               f"{report.unchanged} unchanged; {len(report.committed)} corpus files written, "
               f"{len(report.removed)} removed (calls no longer listed) ({CREDIT})")
    if (report.committed or report.removed) and not no_index:
        ctx.invoke(index, rebuild=False, quiet=quiet)
        ctx.invoke(catalogue_build, out=None, dry_run=False, redraft=())


@cli.command()
@click.option("--transport", type=click.Choice(["stdio", "streamable-http"]), default="stdio", show_default=True,
              help="stdio for a client that starts the server (Claude Desktop); streamable-http to serve on a port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address (streamable-http).")
@click.option("--port", type=int, default=8765, show_default=True, help="Port (streamable-http; the path is /mcp).")
@_fail_cleanly
def mcp(transport: str, host: str, port: int) -> None:
    """Serve the advisor's tools (ask, search, find_programs, list_programs, show_source) over MCP."""
    from bot.mcp_server import build_server

    server = build_server(_advisor())
    if transport == "stdio":
        server.run("stdio")
    else:
        click.echo(f"MCP (streamable HTTP) on http://{host}:{port}/mcp", err=True)
        server.run("streamable-http", host=host, port=port)


@cli.command()
@click.option("--host", help="Address to listen on (default: ADVISOR_HOST, 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: ADVISOR_PORT, 8000).")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Worker processes (each loads the models; share state with ADVISOR_DATABASE_URL and a Redis rate limit).")
@_fail_cleanly
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Start the web chat page and the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    if workers > 1:
        # Each worker's embedding model would start one thread per core: share the cores out instead
        # (measured on 2 cores, 2 workers: 43 req/s with one thread each against 27 with two).
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
    click.echo(f"subsidy-advisor: http://{host}:{port}/  (API docs: http://{host}:{port}/docs)", err=True)
    uvicorn.run("bot.web.main:app", host=host, port=port, workers=workers, log_level="warning",
                access_log=False)


@cli.command()
@_fail_cleanly
def slack() -> None:
    """Run the Slack app in Socket Mode (no public URL needed; needs SLACK_APP_TOKEN and SLACK_BOT_TOKEN)."""
    from bot.slack.app import SlackConfigError
    from bot.slack.socket import run_socket_mode

    try:
        click.echo("subsidy-advisor: connecting to Slack (Socket Mode)…", err=True)
        run_socket_mode(get_settings())
    except SlackConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.group()
def feedback() -> None:
    """Feedback that users gave in the web page and Slack."""


@feedback.command("export")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write JSON Lines here (default: standard output).")
@click.option("--rating", type=click.Choice(["down", "up"]), default="down", show_default=True)
@_fail_cleanly
def feedback_export(out: Path | None, rating: str) -> None:
    """Rated answers as draft eval items (complete answer/must_include/source/evidence, drop `draft`)."""
    from bot.storage import Store
    from evals.feedback import draft_item

    lines = [json.dumps(draft_item(ex), ensure_ascii=False) for ex in Store(get_settings().database).rated(rating)]
    text = "".join(line + "\n" for line in lines)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"{len(lines)} draft items written to {out}", err=True)
    else:
        click.echo(text, nl=False)


@cli.group()
def catalogue() -> None:
    """The program catalogue (corpus/programs.yaml): every program with cited facts."""


@catalogue.command("build")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of corpus/programs.yaml.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--redraft", "redraft", multiple=True, metavar="ID",
              help="Draft this reviewed entry again (it comes back as origin: extracted). Repeatable.")
@_fail_cleanly
def catalogue_build(out: Path | None, dry_run: bool, redraft: tuple[str, ...]) -> None:
    """Draft entries from the documents and merge them in; reviewed entries are kept as they are."""
    from retrieval.catalogue import CatalogueError, build

    settings = get_settings()
    target = out or settings.catalogue_path
    try:
        result, report = build(settings.corpus_dir, target if target.exists() else settings.catalogue_path,
                               on_error=lambda msg: click.echo(f"skipped: {msg}", err=True), redraft=redraft)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from exc
    for label, ids in (("added", report.added), ("updated", report.updated),
                       ("dropped (no longer in the documents)", report.dropped),
                       ("reviewed, no longer extracted (kept; check them)", report.stale_reviewed),
                       ("reviewed (kept as is), but the extractor now reads it otherwise", report.draft_differs)):
        for pid in ids:
            click.echo(f"{label}: {pid}", err=True)
    click.echo(f"catalogue: {len(result.programs)} programs (added {len(report.added)}, updated "
               f"{len(report.updated)}, reviewed kept {len(report.kept_reviewed) + len(report.stale_reviewed)}, "
               f"dropped {len(report.dropped)})")
    if not dry_run:
        result.save(target)
        click.echo(f"written to {target}; review the entries and set `origin: reviewed` on those you checked",
                   err=True)


@catalogue.command("check")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path),
              help="Catalogue to check (default: corpus/programs.yaml).")
@click.option("--strict", is_flag=True, help="Also fail when a program the documents name is missing.")
@_fail_cleanly
def catalogue_check(path: Path | None, strict: bool) -> None:
    """Verify every cited value stands at its lines; report programs the documents name but the catalogue lacks."""
    from retrieval.catalogue import Catalogue, CatalogueError, check

    settings = get_settings()
    path = path or settings.catalogue_path
    if not path.exists():
        raise click.ClickException(f"no catalogue at {path}; run `advisor catalogue build` first")
    try:
        report = check(Catalogue.load(path), settings.corpus_dir)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from exc
    for v in report.violations:
        click.echo(f"not at its lines: {v}")
    for name in report.coverage.missing:
        click.echo(f"missing from the catalogue: {name}")
    click.echo(report.coverage.summary())
    if report.violations:
        raise click.ClickException(f"{len(report.violations)} cited value(s) are not at their lines")
    if strict and report.coverage.missing:
        raise click.ClickException(f"{len(report.coverage.missing)} program(s) named in the documents are missing")
    click.echo(f"ok: {len(Catalogue.load(path).programs)} programs, every value at its cited lines")


@cli.group(invoke_without_command=True)
@click.option("--kind", type=click.Choice(["補助", "委託", "融資", "税制", "基金", "その他"]),
              help="Only programs of this kind.")
@click.option("--target", "target_word", help="Only programs whose target, purpose or support mentions WORD.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: [{name, nicknames, fields}].")
@click.pass_context
@_fail_cleanly
def programs(ctx: click.Context, kind: str | None, target_word: str | None, as_json: bool) -> None:
    """List the programs of the catalogue (filter by kind or by a word of the target)."""
    if ctx.invoked_subcommand is not None:
        return
    from retrieval.catalogue import filter_programs

    found = filter_programs(_catalogue().programs, kind=kind, word=target_word)
    today = get_settings().today_date
    if as_json:
        click.echo(json.dumps([p.public(today) for p in found], ensure_ascii=False, indent=1))
        return
    for p in found:
        f = p.fields
        parts = [f[k].value for k in ("kind", "budget") if k in f] + [s for s in [p.status(today)] if s]
        click.echo(f"{p.name}" + (f"（{'、'.join(p.nicknames[:2])}）" if p.nicknames else "")
                   + (f"  [{' / '.join(parts)}]" if parts else "") + f"  {p.heading.ref}")
    click.echo(f"{len(found)} programs", err=True)


@programs.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_fail_cleanly
def programs_show(name: str, as_json: bool) -> None:
    """Show every cited field of the program NAME (official name or nickname)."""
    from retrieval.catalogue import FIELD_LABELS, FIELDS

    found = _catalogue().find(name)
    if not found:
        raise click.ClickException(f"no program named {name!r} in the catalogue (try `advisor programs`)")
    today = get_settings().today_date
    if as_json:
        click.echo(json.dumps([p.public(today) for p in found], ensure_ascii=False, indent=1))
        return
    for p in found:
        status = p.status(today)
        click.echo(f"■ {p.name}" + (f"（{'、'.join(p.nicknames)}）" if p.nicknames else "")
                   + (f"  【{status}】" if status else ""))
        if p.parent:
            click.echo(f"  （{p.parent.split('｜')[0]} の内）")
        click.echo(f"  出典: {p.heading.ref}  [{p.origin}]")
        for key in FIELDS:
            if key in p.fields:
                c = p.fields[key]
                click.echo(f"  {FIELD_LABELS[key]}: {c.value}  ({c.ref})")
        click.echo()


def _catalogue():
    from retrieval.catalogue import Catalogue, CatalogueError

    path = get_settings().catalogue_path
    if not path.exists():
        raise click.ClickException(f"no catalogue at {path}; run `advisor catalogue build` first")
    try:
        return Catalogue.load(path)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from exc


def _render(answer) -> None:
    click.echo(answer.answer)
    if answer.notice:
        click.echo(answer.notice)
    if answer.citations:
        click.echo("\n出典:")
    for c in answer.citations:
        click.echo(f"[{c.n}] {c.title} / {c.section or '-'} ({c.source} {c.start_line}-{c.end_line}行)")
        for line in c.text.splitlines():
            click.echo(f"    {line}")
    if not answer.refused:
        click.echo("\n※ 回答は登録資料の記載に基づきます。申請にあたっては最新の公募要領をご確認ください。")


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
