"""`advisor mcp` driven by the MCP SDK's own client: over stdio (as Claude Desktop runs it) and in process."""

import asyncio
import json
import os
import sys

import pytest
from mcp import Client, StdioServerParameters

from bot.mcp_server import build_server
from tests.bot.test_cli import check_shapes
from tests.conftest import ROOT

TOOLS = {"ask", "search", "find_programs", "list_programs", "show_source"}


def _structured(result):
    assert not result.is_error, result.content
    return result.structured_content


@pytest.mark.subprocess
def test_an_mcp_client_over_stdio_lists_the_tools_and_gets_a_cited_answer(corpus_settings):
    env = {**os.environ, "ADVISOR_DATA_DIR": str(corpus_settings.data_dir),
           "ADVISOR_CORPUS_DIR": str(corpus_settings.corpus_dir)}
    env.pop("CHROMA_HOST", None)
    params = StdioServerParameters(command=sys.executable, args=["-m", "bot.cli", "mcp"], env=env, cwd=str(ROOT))

    async def session():
        async with Client(params, read_timeout_seconds=120) as client:
            tools = await client.list_tools()
            answer = await client.call_tool("ask", {"question": "サポイン事業の補助上限額は？"})
            empty = await client.call_tool("ask", {"question": "  "})
            return tools, answer, empty

    tools, answer, empty = asyncio.run(session())
    assert {t.name for t in tools.tools} == TOOLS
    data = _structured(answer)
    assert not data["refused"] and data["citations"] and "[1]" in data["answer"]
    check_shapes("ask", json.dumps(data, ensure_ascii=False))
    assert empty.is_error and "空" in empty.content[0].text


def test_every_tool_returns_the_cli_json_shape(advisor):
    server = build_server(advisor)

    async def calls():
        async with Client(server) as client:
            hits = await client.call_tool("search", {"query": "IT導入補助金の補助率", "k": 3})
            programs = await client.call_tool("list_programs", {"kind": "基金"})
            found = await client.call_tool("find_programs", {"situation": "従業員10人の町工場。大学と組んで研究開発をしたい",
                                                             "ask_questions": False})
            rows = _structured(hits)["result"]
            source = await client.call_tool("show_source", {"file": rows[0]["source"], "start_line": rows[0]["start_line"],
                                                            "end_line": rows[0]["end_line"], "context": 2})
            outside = await client.call_tool("show_source", {"file": "../etc/passwd", "start_line": 1, "end_line": 1})
            return rows, _structured(programs)["result"], _structured(found), _structured(source), outside

    rows, programs, found, source, outside = asyncio.run(calls())
    assert len(rows) == 3 and {"source", "start_line", "end_line", "text", "score", "ranks"} <= set(rows[0])
    assert programs and all(p["fields"]["kind"]["value"] == "基金" for p in programs if "kind" in p["fields"])
    assert found["programs"] and found["programs"][0]["reasons"][0]["citations"]
    check_shapes("find", json.dumps(found, ensure_ascii=False))
    assert any(line["cited"] for line in source["lines"]) and source["source"] == rows[0]["source"]
    assert outside.is_error and "資料が見つかりません" in outside.content[0].text


@pytest.mark.subprocess
def test_the_streamable_http_transport_serves_the_same_tools(corpus_settings):
    import socket
    import subprocess
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "ADVISOR_DATA_DIR": str(corpus_settings.data_dir),
           "ADVISOR_CORPUS_DIR": str(corpus_settings.corpus_dir)}
    env.pop("CHROMA_HOST", None)
    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "mcp", "--transport", "streamable-http", "--port",
                               str(port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)

        async def session():
            async with Client(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=120) as client:
                return await client.list_tools(), await client.call_tool("ask", {"question": "IT導入補助金の補助率は？"})

        tools, answer = asyncio.run(session())
        assert {t.name for t in tools.tools} == TOOLS and _structured(answer)["citations"]
    finally:
        server.terminate()
        server.wait(timeout=10)
