"""A local stand-in for the jGrants public API (デジタル庁, https://api.jgrants-portal.go.jp/exp/v1/public), served on
127.0.0.1 so that an HTTP client written for the real API can be tested without the internet.

What it speaks, and where each part comes from
----------------------------------------------
Sources: the official OpenAPI 2.0 document "補助金情報取得API 1.0" (jgrants-api.yaml, linked from
https://developers.digital.go.jp/documents/jgrants/api/; read here from a public copy,
abckeishi-spec/J-Enhanced-Pro@8a4e23d:jgrants-api.yaml, cited "spec:LINE"), the Digital Agency's own client
(digital-go-jp/jgrants-mcp-server, jgrants_mcp_server/core.py, cited "core.py:LINE"), and fixtures other projects
recorded from real responses (cited where used).

GET {base}/subsidies  (spec:13-249)
    Query parameters, all strings. Required (spec:21-56): keyword (2-255 characters, "スペース入力不可"), sort
    (created_date | acceptance_start_datetime | acceptance_end_datetime), order (ASC | DESC), acceptance ('0' | '1';
    1 = only calls whose acceptance period contains now). Optional: use_purpose, industry (each up to 255
    characters; several values joined by " / "), target_number_of_employees (spec:71-84: 従業員数の制約なし, 5名以下,
    20名以下, 50名以下, 100名以下, 300名以下, 900名以下, 901名以上), target_area_search (spec:85-151: 全国, the nine regions,
    the 47 prefectures; one value), institution_name (a later version of the spec). Anything missing or outside
    those limits -> 400 {"message": "Bad request"} (spec:159-171); unknown parameters are ignored.
    200 body (spec:370-405, "subsidy-summaries-response"; core.py:113-118 reads "result"):
        {"metadata": {"type": SPEC_URL, "resultset": {"count": N}},
         "result": [{id, name, title, target_area_search, subsidy_max_limit, acceptance_start_datetime,
                     acceptance_end_datetime, target_number_of_employees, institution_name}, ...]}
    There is NO paging: the spec has no limit/offset/page parameter and count is the number of items returned,
    so every match comes back in one response (core.py:115 likewise takes len(result) as the total).

GET {base}/subsidies/id/{id}  (spec:251-368; core.py:486-502)
    id: at most 18 characters (spec:266), else 400. Unknown id -> 404 {"message": "Resource not found"}
    (spec:304-316; core.py:490 treats 404 as "not found"). 200 body (spec:434-469, "subsidy-details-response"):
    {"metadata": {...count: 1}, "result": [ONE detail object]} with the fields of spec:526-739 ("type_1"): id, name,
    title, subsidy_catch_phrase, detail (HTML), use_purpose, industry, target_area_search, target_area_detail,
    target_number_of_employees, subsidy_rate, subsidy_max_limit, acceptance_start_datetime, acceptance_end_datetime,
    project_end_deadline, request_reception_presence (有 | 無), is_enable_multiple_request (bool),
    front_subsidy_detail_page_url, application_guidelines / outline_of_grant / application_form
    (lists of {"name", "data": base64}, spec:740-750), and institution_name. Fields a record lacks are null.

Other paths -> 404 {"message": "Resource not found"}; another method on a known path -> 405
{"message": "Method not allowed"}; an Accept header that excludes JSON -> 406 {"message": "Not acceptable"}
(messages from spec:159-249). A 500 has the spec's own body (spec:406-433):
{"type": SPEC_URL, "errorCode": "E-ML-9999", "title": "Internal Server Error", "instance": "/api/subsidies"}.
429/502/503/504 are not in the spec (they would come from the gateway in front); fail_next gives them
{"message": "<reason>"} in the spec's style.

Datetimes on the wire are UTC, as real responses show (not +09:00): the list gives "2026-07-24T08:30:00.000Z"
and the detail "2026-07-24T08:30Z" (a fixture recorded from both endpoints, "ミリ秒付きZ形式（一覧API）" /
"秒なしZ形式（詳細API）"; the spec's examples, spec:510 and the v2 workflow example, agree). Records given to the
stand-in may hold aware datetimes or ISO 8601 strings in any offset (naive values are taken as JST); a JST
deadline of 23:59 is served as 14:59Z.

Fields outside the spec are not served unless asked: the official client also reads target_industry,
inquiry_url and update_datetime (core.py:524, 528-529), but the spec has industry and neither of the others,
and a survey of real responses found what that client makes of them always null. JGrantsStandin(...,
extra_detail_fields=("update_datetime",)) serves such fields in the detail for clients that want them.

Where the sources are silent, the stand-in chooses (and a client should not rely on these):
keyword matches the title or the text of detail (tags stripped), NFKC-normalised and case-folded, as the spec's
"IoTとIOT、IoTとⅠoＴ、カタカナとｶﾀｶﾅを区別しない" asks; use_purpose / industry match a subsidy holding any of the asked
values; target_area_search matches a subsidy listing that value, 全国, the region of an asked prefecture, or
(for an asked region) one of its prefectures; target_number_of_employees matches the same option or
従業員数の制約なし; institution_name is a substring match; acceptance=1 drops records without both dates; with
sort, nulls come last and ties go by ascending id.

Not modelled: the v2 detail endpoint (/exp/v2/public/subsidies/id/{id}, with "workflow"), rate limits,
authentication (the API has none).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import html
import io
import json
import random
import re
import threading
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

REAL_BASE_URL = "https://api.jgrants-portal.go.jp/exp/v1/public"
BASE_PATH = "/exp/v1/public"
SPEC_URL = "https://developers.digital.go.jp/documents/jgrants/api/"
PORTAL_DETAIL_URL = "https://www.jgrants-portal.go.jp/subsidy/{id}"
JST = timezone(timedelta(hours=9), "JST")

SORTS = ("created_date", "acceptance_start_datetime", "acceptance_end_datetime")
ORDERS = ("ASC", "DESC")
EMPLOYEE_OPTIONS = ("従業員数の制約なし", "5名以下", "20名以下", "50名以下", "100名以下", "300名以下", "900名以下", "901名以上")
NO_EMPLOYEE_LIMIT = EMPLOYEE_OPTIONS[0]
NATIONWIDE = "全国"
# Which prefectures a region holds is the stand-in's reading of the spec's list (spec:85-151), not documented.
REGIONS: dict[str, tuple[str, ...]] = {
    "北海道地方": ("北海道",),
    "東北地方": ("青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県"),
    "関東・甲信越地方": ("茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "山梨県", "長野県"),
    "東海・北陸地方": ("富山県", "石川県", "福井県", "岐阜県", "静岡県", "愛知県", "三重県"),
    "近畿地方": ("滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県"),
    "中国地方": ("鳥取県", "島根県", "岡山県", "広島県", "山口県"),
    "四国地方": ("徳島県", "香川県", "愛媛県", "高知県"),
    "九州・沖縄地方": ("福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県"),
}
PREFECTURES = tuple(p for prefs in REGIONS.values() for p in prefs)
REGION_OF = {p: region for region, prefs in REGIONS.items() for p in prefs}
# The request enum (spec:85-151) plus 海外, which later versions of the spec list among the field's values.
AREA_OPTIONS = (NATIONWIDE, *REGIONS, *PREFECTURES, "海外")
USE_PURPOSES = (
    "新たな事業を行いたい", "販路拡大・海外展開をしたい", "イベント・事業運営支援がほしい", "事業を引き継ぎたい",
    "研究開発・実証事業を行いたい", "人材育成を行いたい", "資金繰りを改善したい", "設備整備・IT導入をしたい",
    "雇用・職場環境を改善したい", "エコ・SDGs活動支援がほしい", "災害（自然災害、感染症等）支援がほしい",
    "教育・子育て・少子化支援がほしい", "スポーツ・文化支援がほしい", "安全・防災対策支援がほしい", "まちづくり・地域振興支援がほしい",
)
INDUSTRIES = (
    "農業、林業", "漁業", "鉱業、採石業、砂利採取業", "建設業", "製造業", "電気・ガス・熱供給・水道業", "情報通信業",
    "運輸業、郵便業", "卸売業、小売業", "金融業、保険業", "不動産業、物品賃貸業", "学術研究、専門・技術サービス業",
    "宿泊業、飲食サービス業", "生活関連サービス業、娯楽業", "教育、学習支援業", "医療、福祉", "複合サービス事業",
    "サービス業（他に分類されないもの）", "公務（他に分類されるものを除く）", "分類不能の産業",
)
SEPARATOR = " / "
_DETAIL_PREFIX = "/subsidies/id/"

LIST_FIELDS = ("id", "name", "title", "target_area_search", "subsidy_max_limit", "acceptance_start_datetime",
               "acceptance_end_datetime", "target_number_of_employees", "institution_name")
DETAIL_FIELDS = ("id", "name", "title", "subsidy_catch_phrase", "detail", "use_purpose", "industry", "target_area_search",
                 "target_area_detail", "target_number_of_employees", "subsidy_rate", "subsidy_max_limit",
                 "acceptance_start_datetime", "acceptance_end_datetime", "project_end_deadline", "request_reception_presence",
                 "is_enable_multiple_request", "front_subsidy_detail_page_url", "application_guidelines", "outline_of_grant",
                 "application_form", "institution_name")
ATTACHMENT_FIELDS = ("application_guidelines", "outline_of_grant", "application_form")
DATETIME_FIELDS = ("acceptance_start_datetime", "acceptance_end_datetime", "project_end_deadline", "created_date",
                   "update_datetime")

# Error bodies: spec:159-249 (4xx, 501), spec:406-433 (500); the rest in the same style.
ERROR_MESSAGES = {400: "Bad request", 401: "Unauthorized", 404: "Resource not found", 405: "Method not allowed",
                  406: "Not acceptable", 415: "Unsupported media type", 501: "Not Implemented",
                  429: "Too Many Requests", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


# ---------------------------------------------------------------------------------------------------------------
# Wire formats
# ---------------------------------------------------------------------------------------------------------------

def parse_datetime(value: Any) -> datetime | None:
    """An aware datetime from a datetime or an ISO 8601 string ("Z" allowed); naive values are taken as JST."""
    if value is None or value == "":
        return None
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=JST)


def list_datetime(dt: datetime | None) -> str | None:
    """How the list endpoint writes a datetime: 2026-07-24T08:30:00.000Z."""
    if dt is None:
        return None
    u = dt.astimezone(UTC)
    return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{u.microsecond // 1000:03d}Z"


def detail_datetime(dt: datetime | None) -> str | None:
    """How the detail endpoint writes a datetime: 2026-07-24T08:30Z."""
    return None if dt is None else dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def normalise(text: str) -> str:
    """The spec's 表記ゆれ tolerance: NFKC (ＩｏＴ→IoT, ｶﾀｶﾅ→カタカナ, Ⅰ→I) and case folding."""
    return unicodedata.normalize("NFKC", text).casefold()


def _values(field: Any) -> list[str]:
    return [v.strip() for v in str(field or "").split("/") if v.strip()]


def _plain(detail_html: str | None) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", detail_html or ""))


def salesforce_id(id15: str) -> str:
    """The 18-character form of a 15-character Salesforce id (jGrants ids look like a0WJ200000CDWaWMAX): three
    letters from the upper-case pattern of each five-character chunk."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    assert len(id15) == 15
    return id15 + "".join(alphabet[sum(1 << j for j, c in enumerate(id15[i:i + 5]) if "A" <= c <= "Z")]
                          for i in range(0, 15, 5))


# ---------------------------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    standin: JGrantsStandin


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx and requests use it
    server: _Server
    timeout = 30

    def do_GET(self) -> None:
        self.server.standin._handle(self, "GET")

    def do_HEAD(self) -> None:
        self.server.standin._handle(self, "HEAD")

    def do_POST(self) -> None:
        self.server.standin._handle(self, "POST")

    def do_PUT(self) -> None:
        self.server.standin._handle(self, "PUT")

    def do_PATCH(self) -> None:
        self.server.standin._handle(self, "PATCH")

    def do_DELETE(self) -> None:
        self.server.standin._handle(self, "DELETE")

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class JGrantsStandin:
    """The jGrants public API on 127.0.0.1 (see the module docstring for the protocol).

    subsidies: detail-shaped records (make_subsidies() makes some); besides the API's fields a record may hold
    created_date (used by sort=created_date, not served) and update_datetime (served only when listed in
    extra_detail_fields). now: the moment acceptance=1 compares with (None: the real clock at each request); it can
    be changed later through the `now` attribute.
    """

    def __init__(self, subsidies: list[dict], now: datetime | None = None, *, extra_detail_fields: Iterable[str] = ()) -> None:
        self.now = now
        self.extra_detail_fields = tuple(extra_detail_fields)
        self.requests: list[tuple[str, dict]] = []  # (path, query parameters) of every request received
        self._lock = threading.Lock()
        self._records: dict[str, dict] = {}
        for record in subsidies:
            self.add(record)
        self._failures: list[tuple[int, dict[str, str]]] = []
        self._delays: list[float] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------------

    def start(self) -> str:
        """Serve on a free port; returns the base URL, e.g. http://127.0.0.1:PORT/exp/v1/public."""
        if self._server is None:
            self._stopping.clear()
            self._server = _Server(("127.0.0.1", 0), _Handler)
            self._server.standin = self
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="jgrants-standin", daemon=True)
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # cuts delay_next short
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> JGrantsStandin:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}{BASE_PATH}"

    # -- test controls --------------------------------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, *, retry_after: int | None = None) -> None:
        """The next `times` requests get `status` with the API's JSON error body (500: the spec's E-ML-9999 body),
        whatever they asked; 429/503 may carry a Retry-After header."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._failures.extend([(status, headers)] * times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """The next `times` requests wait `seconds` before being answered (a delay and a failure can both apply)."""
        with self._lock:
            self._delays.extend([seconds] * times)

    def add(self, record: dict) -> None:
        """Add a subsidy (or replace the one with its id)."""
        rec = copy.deepcopy(record)
        sid = rec.get("id")
        if not isinstance(sid, str) or not 1 <= len(sid) <= 18:
            raise ValueError(f"a subsidy id is 1-18 characters (spec:482): {sid!r}")
        for field in DATETIME_FIELDS:
            if field in rec:
                rec[field] = parse_datetime(rec[field])
        with self._lock:
            self._records[sid] = rec

    def remove(self, subsidy_id: str) -> None:
        """Withdraw a subsidy: it leaves the list and its detail answers 404."""
        with self._lock:
            del self._records[subsidy_id]

    def update(self, subsidy_id: str, **fields: Any) -> dict:
        """Change a subsidy's fields while serving; update_datetime moves to max(now, previous + 1 s). Returns a copy
        of the record as now stored (datetimes as aware datetime objects)."""
        if "id" in fields:
            raise ValueError("the id of a subsidy cannot change")
        with self._lock:
            rec = self._records[subsidy_id]
            for field, value in fields.items():
                rec[field] = parse_datetime(value) if field in DATETIME_FIELDS else copy.deepcopy(value)
            if "update_datetime" not in fields:
                previous = rec.get("update_datetime") or rec.get("created_date")
                now = self._now()
                rec["update_datetime"] = max(now, previous + timedelta(seconds=1)) if previous else now
            return copy.deepcopy(rec)

    def get(self, subsidy_id: str) -> dict:
        """A copy of the stored record (datetimes as aware datetime objects)."""
        with self._lock:
            return copy.deepcopy(self._records[subsidy_id])

    @property
    def ids(self) -> list[str]:
        with self._lock:
            return list(self._records)

    # -- request handling -----------------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return parse_datetime(self.now) or datetime.now(UTC)

    def _handle(self, handler: _Handler, method: str) -> None:
        parts = urlsplit(handler.path)
        path = unquote(parts.path)
        params: dict[str, str] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            params.setdefault(key, value)
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)
        with self._lock:
            self.requests.append((path, params))
            delay = self._delays.pop(0) if self._delays else 0.0
            failure = self._failures.pop(0) if self._failures else None
        if delay:
            self._stopping.wait(delay)
        if failure is not None:
            status, headers = failure
            self._send(handler, method, status, self._error_body(status, path), headers)
            return
        status, body = self._route(method, path, params, handler.headers.get("Accept"))
        self._send(handler, method, status, body)

    def _route(self, method: str, path: str, params: dict[str, str], accept: str | None) -> tuple[int, dict]:
        rest = path[len(BASE_PATH):] if path.startswith(BASE_PATH + "/") else None
        if rest == "/subsidies":
            endpoint = "list"
        elif rest is not None and rest.startswith(_DETAIL_PREFIX) and rest[len(_DETAIL_PREFIX):] and "/" not in rest[len(_DETAIL_PREFIX):]:
            endpoint = "detail"
        else:
            return 404, self._error_body(404, path)
        if method not in ("GET", "HEAD"):
            return 405, self._error_body(405, path)
        if accept and not re.search(r"(^|,)\s*(\*/\*|application/\*|application/json)\s*(;|,|$)", accept):
            return 406, self._error_body(406, path)
        if endpoint == "list":
            return self._list(params, path)
        return self._detail(rest[len(_DETAIL_PREFIX):], path)

    def _error_body(self, status: int, path: str) -> dict:
        if status == 500:
            instance = "/api" + path[len(BASE_PATH):] if path.startswith(BASE_PATH) else path
            return {"type": SPEC_URL, "errorCode": "E-ML-9999", "title": "Internal Server Error", "instance": instance}
        return {"message": ERROR_MESSAGES.get(status, "Error")}

    def _bad_request(self, params: dict[str, str]) -> bool:
        keyword = params.get("keyword")
        if keyword is None or not 2 <= len(keyword) <= 255 or re.search(r"\s", keyword):
            return True  # spec:21-28: required, 2-255 characters, スペース入力不可
        if params.get("sort") not in SORTS or params.get("order") not in ORDERS or params.get("acceptance") not in ("0", "1"):
            return True
        if "target_number_of_employees" in params and params["target_number_of_employees"] not in EMPLOYEE_OPTIONS:
            return True
        if "target_area_search" in params and params["target_area_search"] not in AREA_OPTIONS:
            return True
        return any(len(params.get(p, "")) > 255 for p in ("use_purpose", "industry", "institution_name"))

    def _list(self, params: dict[str, str], path: str) -> tuple[int, dict]:
        if self._bad_request(params):
            return 400, self._error_body(400, path)
        now = self._now()
        with self._lock:
            records = [r for r in self._records.values() if self._matches(r, params, now)]
            key = params["sort"]
            records.sort(key=lambda r: r["id"])  # ties keep this order either way (sorts are stable)
            present = sorted((r for r in records if r.get(key) is not None), key=lambda r: r[key], reverse=params["order"] == "DESC")
            ordered = present + [r for r in records if r.get(key) is None]
            result = [self._wire(r, LIST_FIELDS, list_datetime) for r in ordered]
        return 200, {"metadata": {"type": SPEC_URL, "resultset": {"count": len(result)}}, "result": result}

    def _detail(self, subsidy_id: str, path: str) -> tuple[int, dict]:
        if len(subsidy_id) > 18:
            return 400, self._error_body(400, path)  # spec:266
        with self._lock:
            record = self._records.get(subsidy_id)
            if record is None:
                return 404, self._error_body(404, path)
            item = self._wire(record, (*DETAIL_FIELDS, *self.extra_detail_fields), detail_datetime)
        for field in ATTACHMENT_FIELDS:
            item[field] = item[field] or []
        return 200, {"metadata": {"type": SPEC_URL, "resultset": {"count": 1}}, "result": [item]}

    @staticmethod
    def _wire(record: dict, fields: Iterable[str], fmt: Any) -> dict:
        out = {}
        for field in fields:
            value = record.get(field)
            if field == "update_datetime":
                out[field] = list_datetime(value)
            else:
                out[field] = fmt(value) if field in DATETIME_FIELDS else copy.deepcopy(value)
        return out

    @staticmethod
    def _matches(record: dict, params: dict[str, str], now: datetime) -> bool:
        keyword = normalise(params["keyword"])
        if keyword not in normalise(record.get("title") or "") and keyword not in normalise(_plain(record.get("detail"))):
            return False
        if params["acceptance"] == "1":
            start, end = record.get("acceptance_start_datetime"), record.get("acceptance_end_datetime")
            if start is None or end is None or not start <= now <= end:
                return False
        for param in ("use_purpose", "industry"):
            if params.get(param) and not set(_values(params[param])) & set(_values(record.get(param))):
                return False
        employees = params.get("target_number_of_employees")
        if employees and record.get("target_number_of_employees") not in (employees, NO_EMPLOYEE_LIMIT):
            return False
        area = params.get("target_area_search")
        if area:
            areas = set(_values(record.get("target_area_search")))
            wanted = {area, NATIONWIDE, REGION_OF.get(area, area), *REGIONS.get(area, ())}
            if not areas & wanted:
                return False
        institution = params.get("institution_name")
        return not institution or normalise(institution) in normalise(record.get("institution_name") or "")

    def _send(self, handler: _Handler, method: str, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            if method != "HEAD":
                handler.wfile.write(data)


# ---------------------------------------------------------------------------------------------------------------
# Generated subsidies and their 公募要領 PDF
# ---------------------------------------------------------------------------------------------------------------

# (local title stem, national title, catch phrase, purposes, rates, limits, expenses, aim)
_THEMES: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...], tuple[int, ...], str, str], ...] = (
    ("中小企業IT導入支援補助金", "デジタル化・AI導入補助金", "ITツールの導入で業務効率化を支援します", ("設備整備・IT導入をしたい",),
     ("1/2以内", "2/3以内"), (1_000_000, 3_000_000, 4_500_000), "ソフトウェア購入費、クラウドサービス利用料、導入関連経費",
     "中小企業者等がITツールを導入し、業務の効率化と生産性の向上を図ることを目的とします。"),
    ("省エネルギー設備導入促進補助金", "省エネルギー投資促進支援事業費補助金", "省エネ設備への更新で光熱費と CO2 を削減",
     ("エコ・SDGs活動支援がほしい", "設備整備・IT導入をしたい"), ("1/3以内", "1/2以内"), (5_000_000, 10_000_000, 30_000_000),
     "高効率空調、LED照明、ボイラー等の省エネルギー設備の購入費及び設置工事費",
     "事業所における省エネルギー設備の導入を支援し、エネルギー使用量の削減を図ることを目的とします。"),
    ("販路開拓支援補助金", "小規模事業者持続化補助金", "新たな販路の開拓に挑む小規模事業者を応援", ("販路拡大・海外展開をしたい",),
     ("2/3以内",), (500_000, 1_000_000, 2_000_000), "広報費、ウェブサイト関連費、展示会等出展費、開発費",
     "小規模事業者が経営計画に基づいて行う販路開拓等の取組に要する経費の一部を補助します。"),
    ("事業承継支援補助金", "事業承継・M&A補助金", "円滑な事業承継と引継ぎ後の新たな挑戦を後押し", ("事業を引き継ぎたい",),
     ("1/2以内", "2/3以内"), (1_000_000, 6_000_000, 8_000_000), "専門家活用費、設備投資費、廃業費",
     "事業承継を契機とした経営革新等への挑戦や、M&Aによる経営資源の引継ぎを支援することを目的とします。"),
    ("人材育成・リスキリング支援補助金", "人材開発支援事業費補助金", "社員のリスキリングで企業の成長を支援", ("人材育成を行いたい",),
     ("3/4以内", "1/2以内"), (300_000, 1_000_000), "研修受講料、外部講師謝金、教材費",
     "従業員のデジタル技能等の習得を支援し、人材の育成と定着を図ることを目的とします。"),
    ("創業支援補助金", "創業・新事業展開支援補助金", "地域で新たに事業を始める方を支援します", ("新たな事業を行いたい",),
     ("1/2以内",), (1_000_000, 2_000_000), "店舗改装費、設備費、広告宣伝費、賃借料",
     "地域における創業を促進し、雇用の創出と地域経済の活性化を図ることを目的とします。"),
    ("職場環境改善・賃上げ促進補助金", "業務改善助成金", "賃上げと働きやすい職場づくりを応援", ("雇用・職場環境を改善したい",),
     ("定額", "3/4以内"), (500_000, 1_500_000, 6_000_000), "生産性向上に資する設備投資費、コンサルティング費",
     "事業場内の最低賃金の引上げと、働きやすい職場環境の整備に取り組む事業者を支援します。"),
    ("新技術研究開発支援補助金", "成長型中小企業等研究開発支援事業", "ものづくり基盤技術の研究開発を支援",
     ("研究開発・実証事業を行いたい",), ("2/3以内",), (10_000_000, 30_000_000, 50_000_000),
     "研究員費、機械装置費、外注費、知的財産権関連経費",
     "中小企業者等が大学・公設試験研究機関等と連携して行う研究開発及び試作品開発を支援します。"),
    ("海外展開支援補助金", "海外展開・輸出促進支援補助金", "海外市場への挑戦を後押しします", ("販路拡大・海外展開をしたい",),
     ("1/2以内",), (1_000_000, 5_000_000), "海外展示会出展費、翻訳費、海外向けECサイト構築費",
     "海外市場への販路開拓に取り組む中小企業者を支援し、輸出の拡大を図ることを目的とします。"),
    ("BCP・防災対策設備導入補助金", "事業継続力強化支援補助金", "災害に強い事業所づくりを支援します", ("安全・防災対策支援がほしい",),
     ("1/2以内",), (1_000_000, 3_000_000), "自家発電設備、止水板、耐震補強工事費",
     "自然災害等に備えた事業継続計画に基づく防災・減災設備の導入を支援します。"),
    ("商店街にぎわい創出事業補助金", "地域商業機能複合化推進事業", "商店街のにぎわいづくりを応援",
     ("まちづくり・地域振興支援がほしい", "イベント・事業運営支援がほしい"), ("2/3以内",), (500_000, 3_000_000),
     "イベント開催費、空き店舗改装費、共同施設整備費", "商店街等が行う地域のにぎわい創出に資する取組を支援します。"),
    ("生産性向上・省力化設備導入補助金", "中小企業省力化投資補助金", "人手不足を省力化投資で解消", ("設備整備・IT導入をしたい",),
     ("1/2以内", "2/3以内"), (7_500_000, 10_000_000, 100_000_000), "省力化に資する機械装置・システムの購入費及び設置費",
     "人手不足に悩む中小企業者等が行う省力化設備の導入を支援し、付加価値額の向上を図ることを目的とします。"),
)
_EMPLOYEE_WEIGHTS = (6, 1, 2, 2, 1, 3, 1, 1)
_WEEKDAYS = "月火水木金土日"


def _yen(amount: int | None) -> str:
    if amount is None:
        return "定めなし"
    oku, man = divmod(amount // 10_000, 10_000)
    if oku and man:
        return f"{oku}億{man:,}万円"
    return f"{oku}億円" if oku else f"{man:,}万円"


def _ja_datetime(dt: datetime | None) -> str:
    if dt is None:
        return "未定"
    j = dt.astimezone(JST)
    return f"{j.year}年{j.month}月{j.day}日（{_WEEKDAYS[j.weekday()]}）{j:%H:%M}"


def _reiwa_fy(dt: datetime) -> str:
    j = dt.astimezone(JST)
    fiscal = j.year if j.month >= 4 else j.year - 1
    return f"令和{fiscal - 2018}年度"


def _base62(n: int, width: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    out = ""
    for _ in range(width):
        n, r = divmod(n, 62)
        out = digits[r] + out
    return out


def guideline_lines(subsidy: dict) -> list[str]:
    """The text of a subsidy's 公募要領 (one line each, before wrapping)."""
    start = parse_datetime(subsidy.get("acceptance_start_datetime"))
    end = parse_datetime(subsidy.get("acceptance_end_datetime"))
    aim = re.sub(r"\s+", "", _plain(subsidy.get("detail"))).split("対象者")[0].removeprefix("目的")
    return [
        subsidy.get("title") or "",
        "公募要領",
        f"実施機関：{subsidy.get('institution_name') or '事務局'}",
        "1. 事業の目的",
        f"　{aim}",
        f"2. 対象者：中小企業者等（{subsidy.get('target_area_detail') or '対象地域：' + (subsidy.get('target_area_search') or '全国')}。"
        f"従業員数：{subsidy.get('target_number_of_employees') or NO_EMPLOYEE_LIMIT}）",
        f"　対象業種：{subsidy.get('industry') or '全業種'}",
        f"3. 補助上限額：{_yen(subsidy.get('subsidy_max_limit'))}",
        f"4. 補助率：{subsidy.get('subsidy_rate') or '定額'}",
        f"5. 申請受付期間：{_ja_datetime(start)}～{_ja_datetime(end)}",
        "6. 申請方法：jGrants（電子申請システム）により申請してください。",
        "7. 留意事項：交付決定前に発注・契約した経費は補助対象外です。",
    ]


def _wrap(lines: list[str], width: int = 76) -> list[str]:
    """Lines cut to `width` columns (a full-width character takes two), so that none runs off an A4 page."""
    out = []
    for line in lines:
        piece, used = "", 0
        for ch in line:
            w = 2 if unicodedata.east_asian_width(ch) in "WFA" else 1
            if used + w > width:
                out.append(piece)
                piece, used = "　", 2
            piece, used = piece + ch, used + w
        out.append(piece)
    return out


def _pdf_with_reportlab(lines: list[str]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    font = "HeiseiKakuGo-W5"  # a CID font reportlab knows without font files; pypdf reads its text back
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)  # invariant: the same bytes every time
    c.setTitle(lines[0])
    y = 800.0
    for n, line in enumerate(lines):
        c.setFont(font, 12 if n == 0 else 11)
        c.drawString(50, y, line)
        y -= 20 if n == 0 else 17
    c.showPage()
    c.save()
    return buf.getvalue()


def _pdf_by_hand(lines: list[str]) -> bytes:
    """A minimal valid PDF: Type0 font HeiseiKakuGo-W5 (UniJIS-UCS2-H, not embedded) with a ToUnicode map, so text
    extraction needs no font file."""
    stream = ["BT", "/F1 11 Tf", "17 TL", "50 800 Td"]
    stream += [f"<{line.encode('utf-16-be').hex().upper()}> Tj T*" for line in lines]
    stream.append("ET")
    content = "\n".join(stream).encode("ascii")
    rows = [f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>" for hi in range(256) if not 0xD8 <= hi <= 0xDF]
    ranges = "\n".join(f"{len(rows[i:i + 100])} beginbfrange\n" + "\n".join(rows[i:i + 100]) + "\nendbfrange"
                       for i in range(0, len(rows), 100))
    cmap = ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            f"{ranges}\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n").encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /HeiseiKakuGo-W5 /Encoding /UniJIS-UCS2-H /DescendantFonts [6 0 R]"
        b" /ToUnicode 8 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /HeiseiKakuGo-W5"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 2 >> /FontDescriptor 7 0 R /DW 1000 >>",
        b"<< /Type /FontDescriptor /FontName /HeiseiKakuGo-W5 /Flags 4 /FontBBox [-92 -250 1010 922] /ItalicAngle 0"
        b" /Ascent 752 /Descent -221 /CapHeight 737 /StemV 114 >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_guideline_pdf(subsidy: dict, *, use_reportlab: bool | None = None) -> bytes:
    """A one-page 公募要領 PDF for the subsidy, with extractable Japanese text (申請受付期間, 補助上限額, 補助率, 対象者 ...).
    reportlab when importable (or when use_reportlab=True), else a PDF written by hand."""
    lines = _wrap(guideline_lines(subsidy))
    if use_reportlab is None:
        try:
            import reportlab  # noqa: F401
            use_reportlab = True
        except ImportError:
            use_reportlab = False
    return _pdf_with_reportlab(lines) if use_reportlab else _pdf_by_hand(lines)


def make_subsidies(n: int = 200, with_attachments: int = 20, now: datetime | None = None, seed: int = 8) -> list[dict]:
    """`n` deterministic, realistic subsidies (detail-shaped records, datetimes as ISO 8601 strings in +09:00) around
    `now` (default: today's JST midnight, so a whole day's runs agree): about half open at `now`, the rest closed
    or upcoming. `with_attachments` of them, spread over the list, carry a 公募要領 PDF in application_guidelines
    (base64, as the API sends it). Each record also has created_date and update_datetime (not served by default)."""
    if now is None:
        today = datetime.now(JST)
        now = datetime(today.year, today.month, today.day, tzinfo=JST)
    now = parse_datetime(now)
    assert now is not None
    rng = random.Random(seed)
    with_files = set(rng.sample(range(n), min(with_attachments, n)))
    day0 = now.astimezone(JST).replace(hour=0, minute=0, second=0, microsecond=0)
    rounds: dict[str, int] = {}
    out = []
    for i in range(n):
        stem, national, catch, purposes, rates, limits, expenses, aim = _THEMES[rng.randrange(len(_THEMES))]
        phase = rng.choices(("open", "closed", "upcoming"), weights=(5, 3, 2))[0]
        if phase == "open":
            start = day0 - timedelta(days=rng.randint(1, 60))
            end = day0 + timedelta(days=rng.randint(1, 90))
        elif phase == "closed":
            end = day0 - timedelta(days=rng.randint(1, 200))
            start = end - timedelta(days=rng.randint(20, 90))
        else:
            start = day0 + timedelta(days=rng.randint(1, 60))
            end = start + timedelta(days=rng.randint(20, 90))
        start = start.replace(hour=rng.choice((0, 9, 10)))
        end = end.replace(hour=23, minute=59) if rng.random() < 0.6 else end.replace(hour=17)
        fy = _reiwa_fy(start)
        kind = rng.choices(("pref", "national", "region"), weights=(7, 2, 1))[0]
        if kind == "national":
            rounds[national] = rounds.get(national, 0) + 1
            area, title = NATIONWIDE, f"{national}（第{rounds[national]}次公募）"
            institution, area_detail = national, "日本国内に事業所を有すること"
        elif kind == "region":
            region = rng.choice(list(REGIONS))
            prefs = rng.sample(REGIONS[region], min(3, len(REGIONS[region])))
            area = SEPARATOR.join(prefs) if rng.random() < 0.5 else region
            title = f"{fy} {region.removesuffix('地方')}広域 {stem}"
            institution, area_detail = f"{region.removesuffix('地方')}広域連携推進協議会", f"{region}内に事業所を有すること"
        else:
            pref = rng.choice(PREFECTURES)
            area, title = pref, f"{fy} {pref} {stem}"
            institution, area_detail = pref, f"{pref}内に本社又は主たる事業所を有すること"
        industries = sorted(rng.sample(INDUSTRIES, rng.randint(1, 5)), key=INDUSTRIES.index)
        purpose = list(purposes) + ([rng.choice(USE_PURPOSES)] if rng.random() < 0.25 else [])
        employees = rng.choices(EMPLOYEE_OPTIONS, weights=_EMPLOYEE_WEIGHTS)[0]
        limit = None if i % 25 == 24 else rng.choice(limits)
        rate = rng.choice(rates)
        sid = salesforce_id("a0WJ200000CD" + _base62(3000 + i * 7919 % 200_000, 3))
        created = start - timedelta(days=rng.randint(7, 30), hours=rng.randint(0, 8))
        record: dict[str, Any] = {
            "id": sid,
            "name": f"S-{10_000 + i * 37:08d}",
            "title": title,
            "subsidy_catch_phrase": catch,
            "detail": (f"<p><strong>目的</strong><br>{aim}</p>"
                       f"<p><strong>対象者</strong><br>中小企業者等（{area_detail}。従業員数：{employees}）</p>"
                       f"<p><strong>補助対象経費</strong><br>{expenses}</p>"
                       f"<p>補助率：{rate}　補助上限額：{_yen(limit)}</p>"),
            "use_purpose": SEPARATOR.join(dict.fromkeys(purpose)),
            "industry": SEPARATOR.join(industries),
            "target_area_search": area,
            "target_area_detail": None if i % 25 == 24 else area_detail,
            "target_number_of_employees": employees,
            "subsidy_rate": rate,
            "subsidy_max_limit": limit,
            "acceptance_start_datetime": start.isoformat(),
            "acceptance_end_datetime": end.isoformat(),
            "project_end_deadline": (end + timedelta(days=rng.choice((180, 270, 365)))).isoformat() if rng.random() < 0.7 else None,
            "request_reception_presence": "有",
            "is_enable_multiple_request": rng.random() < 0.3,
            "front_subsidy_detail_page_url": PORTAL_DETAIL_URL.format(id=sid),
            "application_guidelines": [],
            "outline_of_grant": [],
            "application_form": [],
            "institution_name": institution if rng.random() < 0.8 else None,
            "created_date": created.isoformat(),
            "update_datetime": (created + timedelta(days=rng.randint(0, 5))).isoformat(),
        }
        if i in with_files:
            pdf = make_guideline_pdf(record)
            record["application_guidelines"] = [{"name": "公募要領.pdf", "data": base64.b64encode(pdf).decode("ascii")}]
        out.append(record)
    return out
