"""A local stand-in for an OpenAI-compatible server (what vLLM, llama.cpp server or LM Studio expose):
POST /v1/chat/completions, non-streaming and streaming (server-sent `data: {chunk}` ... `data: [DONE]` in
OpenAI's format), plus error modes: 429, 500, a delay longer than the client's timeout, a stall mid-stream.

Its answers are made from the prompt it receives, like a model's: the first sentence of passage 1 with [1],
one of passage 2 with [2], and (unless told otherwise) one invented sentence that verification must remove.
A follow-up rewriting request (one with <history>) gets the earlier question's program name put in front of
the follow-up. The finder's requests get JSON: a situation reading with nothing read (<message>), and
"maybe" for every candidate (<candidates>), unless a test queued its own replies in `replies` (each used
once, in order, for the next requests), as a model's varied output would come. Every request is recorded
(path, headers, JSON body) for the tests to inspect.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INVENTED = "なお、この制度に申請すれば必ず採択され、補助率は10分の10になります。"
_PASSAGE_RE = re.compile(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', re.DOTALL)


def first_sentence(text: str) -> str:
    for piece in re.split(r"(?<=。)|\n", text):
        piece = piece.strip()
        if len(piece) >= 12:
            return piece
    return text.strip().splitlines()[0]


def grounded_reply(prompt: str, invent: bool = True) -> str:
    passages = {int(n): body for n, body in _PASSAGE_RE.findall(prompt)}
    if not passages:
        return "NO_ANSWER"
    lines = [f"{first_sentence(passages[1])}[1]"]
    if invent:
        lines.append(f"{INVENTED}[1]")
    if 2 in passages:
        lines.append(f"{first_sentence(passages[2])}[2]")
    return "\n".join(lines)


def finder_reply(prompt: str) -> str:
    """Finder requests: an empty reading, or "maybe" for each candidate, in the JSON the prompts ask for."""
    if "<candidates>" in prompt:
        numbers = [int(n) for n in re.findall(r'<program n="(\d+)">', prompt)]
        return "```json\n" + json.dumps({"judgements": [{"n": n, "fit": "maybe"} for n in numbers]}) + "\n```"
    return json.dumps({"industry": None, "employees": None, "goals": [], "circumstances": [], "ruled_out": []})


def rewrite_reply(prompt: str) -> str:
    turns = re.findall(r'<turn role="user">(.*?)</turn>', prompt, re.DOTALL)
    question = re.search(r"<question>\n(.*?)\n</question>", prompt, re.DOTALL).group(1).strip()
    if not turns:
        return question
    earlier = turns[-1]
    m = re.match(r"(.+?[）)])の", earlier) or re.match(r"(.+?)の", earlier)
    subject = m.group(1) if m else earlier
    rest = re.sub(r"^(その|それの|それ|同事業の|この事業の)", "", question)
    return f"{subject}の{rest}"


class StandIn:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.mode = "ok"  # ok | 429 | 500 | slow | stall
        self.delay = 3.0
        self.invent = True
        self.replies: list[str] = []  # queued replies, used once each before the prompt-made ones
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> StandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                standin.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    standin.respond(self, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def reset(self, mode: str = "ok", invent: bool = True) -> None:
        self.requests.clear()
        self.replies.clear()
        self.mode, self.invent = mode, invent

    # --- responses ---------------------------------------------------------------------------------

    def respond(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        if handler.path.rstrip("/") != "/v1/chat/completions":
            return self._json(handler, 404, {"error": {"message": "not found", "type": "invalid_request_error"}})
        if self.mode == "429":
            return self._json(handler, 429, {"error": {"message": "Rate limit reached for requests",
                                                       "type": "requests", "code": "rate_limit_exceeded"}},
                              {"retry-after-ms": "10"})
        if self.mode == "500":
            return self._json(handler, 500, {"error": {"message": "The server had an error", "type": "server_error"}})
        if self.mode == "slow":
            time.sleep(self.delay)
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        user = str(body["messages"][-1].get("content", ""))
        if self.replies:
            text = self.replies.pop(0)
        elif "<message>" in user or "<candidates>" in user:
            text = finder_reply(user)
        else:
            text = rewrite_reply(user) if "<history>" in user else grounded_reply(user, self.invent)
        model = body.get("model", "stand-in")
        if body.get("stream"):
            return self._stream(handler, text, model, body)
        self._json(handler, 200, {
            "id": "chatcmpl-standin", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop",
                         "logprobs": None}],
            "usage": {"prompt_tokens": len(prompt), "completion_tokens": len(text),
                      "total_tokens": len(prompt) + len(text)},
        })

    def _stream(self, handler, text: str, model: str, body: dict) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()

        def send(delta: dict, finish: str | None = None, usage: dict | None = None, choices: bool = True) -> None:
            chunk = {"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": int(time.time()),
                     "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                                                  "logprobs": None}] if choices else []}
            if usage is not None:
                chunk["usage"] = usage
            handler.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            handler.wfile.flush()

        send({"role": "assistant", "content": ""})
        pieces = [text[i:i + 7] for i in range(0, len(text), 7)]
        for i, piece in enumerate(pieces):
            if self.mode == "stall" and i == len(pieces) // 2:
                time.sleep(self.delay)
            send({"content": piece})
        send({}, finish="stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            send({}, usage={"prompt_tokens": 1, "completion_tokens": len(text), "total_tokens": len(text) + 1},
                 choices=False)
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()

    @staticmethod
    def _json(handler, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(data)


if __name__ == "__main__":  # `python -m tests.integration.openai_standin`: serve until stopped (for measuring)
    server = StandIn().start()
    print(server.url, flush=True)
    threading.Event().wait()
