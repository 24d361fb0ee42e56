"""The jGrants stand-in itself: paths, parameters, response shapes and error codes of the real API, and the
failure injection the client tests rely on. Plain urllib, so that nothing here depends on the client under test."""

from __future__ import annotations

import base64
import io
import json
import re
import urllib.error
import urllib.request
from datetime import datetime
from urllib.parse import quote, urlencode

import pypdf
import pytest

from tests.integration.jgrants_standin import (
    DETAIL_FIELDS,
    JST,
    LIST_FIELDS,
    SPEC_URL,
    JGrantsStandin,
    make_guideline_pdf,
    make_subsidies,
    parse_datetime,
    salesforce_id,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=JST)
LIST_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DETAIL_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$")


def query(**overrides: str) -> dict[str, str]:
    params = {"keyword": "補助金", "sort": "acceptance_end_datetime", "order": "ASC", "acceptance": "0"}
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def get(url: str, params: dict | None = None, timeout: float = 5, headers: dict | None = None) -> tuple[int, dict, dict]:
    if params is not None:
        url += "?" + urlencode(params)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def is_open(record: dict) -> bool:
    return parse_datetime(record["acceptance_start_datetime"]) <= NOW <= parse_datetime(record["acceptance_end_datetime"])


@pytest.fixture(scope="module")
def subsidies() -> list[dict]:
    return make_subsidies(n=60, with_attachments=6, now=NOW)


@pytest.fixture
def api(subsidies):
    with JGrantsStandin(subsidies, now=NOW) as standin:
        yield standin


def test_search_parameters_are_checked_as_the_spec_says(api):
    for params in (
        query(keyword=None),  # keyword is required
        query(keyword="I"),  # 2-255 characters
        query(keyword="補" * 256),
        query(keyword="IT 導入"),  # スペース入力不可
        query(sort=None),  # sort, order and acceptance are required too
        query(sort="title"),
        query(order="asc"),
        query(acceptance="2"),
        query(target_number_of_employees="10名以下"),
        query(target_area_search="福岡"),
    ):
        status, body, _ = get(f"{api.base_url}/subsidies", params)
        assert (status, body) == (400, {"message": "Bad request"}), params
    assert get(f"{api.base_url}/subsidies", query(keyword="補" * 255))[0] == 200


def test_listing_has_the_api_shape_and_every_match_in_one_response(api, subsidies):
    status, body, headers = get(f"{api.base_url}/subsidies", query(sort="created_date", order="DESC"))
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    expected = [s for s in subsidies if "補助金" in s["title"] or "補助金" in s["detail"]]
    assert body["metadata"] == {"type": SPEC_URL, "resultset": {"count": len(expected)}}
    assert len(body["result"]) == len(expected) > 30  # no paging
    for item in body["result"]:
        assert set(item) == set(LIST_FIELDS)
        assert LIST_TIME.match(item["acceptance_start_datetime"]) and LIST_TIME.match(item["acceptance_end_datetime"])
    by_id = sorted(expected, key=lambda s: s["id"])
    by_created = sorted(by_id, key=lambda s: parse_datetime(s["created_date"]), reverse=True)
    assert [i["id"] for i in body["result"]] == [s["id"] for s in by_created]
    first = next(s for s in subsidies if s["id"] == body["result"][0]["id"])  # JST in the record, UTC on the wire
    end = parse_datetime(body["result"][0]["acceptance_end_datetime"])
    assert end == parse_datetime(first["acceptance_end_datetime"]) and end.utcoffset().total_seconds() == 0


def test_acceptance_1_keeps_only_calls_open_now(api, subsidies):
    _, everything, _ = get(f"{api.base_url}/subsidies", query())
    _, open_now, _ = get(f"{api.base_url}/subsidies", query(acceptance="1"))
    expected = {s["id"] for s in subsidies if is_open(s) and ("補助金" in s["title"] or "補助金" in s["detail"])}
    assert {i["id"] for i in open_now["result"]} == expected
    assert 0 < len(expected) < everything["metadata"]["resultset"]["count"]
    ends = [i["acceptance_end_datetime"] for i in open_now["result"]]
    assert ends == sorted(ends)  # order=ASC


def test_keyword_tolerates_width_and_case(api):
    def ids(keyword: str) -> set[str]:
        return {i["id"] for i in get(f"{api.base_url}/subsidies", query(keyword=keyword))[1]["result"]}

    assert ids("IT") and ids("IT") == ids("ＩＴ") == ids("it")
    assert ids("ﾂｰﾙ") == ids("ツール") != set()  # ITツール in the detail


def test_filters_for_area_employees_and_purpose(api, subsidies):
    _, body, _ = get(f"{api.base_url}/subsidies", query(target_area_search="福岡県"))
    assert body["result"]
    for item in body["result"]:
        assert {"福岡県", "全国", "九州・沖縄地方"} & {a.strip() for a in item["target_area_search"].split("/")}
    _, body, _ = get(f"{api.base_url}/subsidies", query(target_number_of_employees="20名以下"))
    assert body["result"] and {i["target_number_of_employees"] for i in body["result"]} <= {"20名以下", "従業員数の制約なし"}
    _, body, _ = get(f"{api.base_url}/subsidies", query(use_purpose="事業を引き継ぎたい"))
    expected = {s["id"] for s in subsidies if "事業を引き継ぎたい" in s["use_purpose"] and "補助金" in s["title"] + s["detail"]}
    assert {i["id"] for i in body["result"]} == expected


def test_detail_carries_the_guidelines_pdf_in_base64(api, subsidies):
    record = next(s for s in subsidies if s["application_guidelines"])
    status, body, _ = get(f"{api.base_url}/subsidies/id/{record['id']}")
    assert status == 200 and body["metadata"]["resultset"]["count"] == 1 and len(body["result"]) == 1
    detail = body["result"][0]
    assert list(detail) == list(DETAIL_FIELDS)
    assert detail["id"] == record["id"] and detail["title"] == record["title"]
    assert DETAIL_TIME.match(detail["acceptance_start_datetime"]) and DETAIL_TIME.match(detail["acceptance_end_datetime"])
    (attachment,) = detail["application_guidelines"]
    assert attachment["name"] == "公募要領.pdf"
    pdf = base64.b64decode(attachment["data"])
    assert pdf.startswith(b"%PDF")
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for words in ("申請受付期間", "補助上限額", "補助率", "対象者", record["title"], record["subsidy_rate"]):
        assert words in text
    assert detail["outline_of_grant"] == [] and detail["application_form"] == []


def test_unknown_ids_paths_and_methods(api, subsidies):
    assert get(f"{api.base_url}/subsidies/id/a0WJ200000XXXXXAAA")[:2] == (404, {"message": "Resource not found"})
    assert get(f"{api.base_url}/subsidies/id/{'a' * 19}")[:2] == (400, {"message": "Bad request"})  # id <= 18 characters
    assert get(f"{api.base_url}/subsidy")[:2] == (404, {"message": "Resource not found"})
    assert get(f"{api.base_url}/subsidies/id/{quote(subsidies[0]['id'])}/x")[0] == 404
    request = urllib.request.Request(f"{api.base_url}/subsidies?{urlencode(query())}", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 405 and json.loads(caught.value.read()) == {"message": "Method not allowed"}
    assert get(f"{api.base_url}/subsidies", query(), headers={"Accept": "text/html"})[:2] == (406, {"message": "Not acceptable"})


def test_fail_next_answers_500_once_then_works(api):
    api.fail_next(500)
    status, body, _ = get(f"{api.base_url}/subsidies", query())
    assert status == 500
    assert body == {"type": SPEC_URL, "errorCode": "E-ML-9999", "title": "Internal Server Error", "instance": "/api/subsidies"}
    assert get(f"{api.base_url}/subsidies", query())[0] == 200
    api.fail_next(503, times=2, retry_after=3)
    for _ in range(2):
        status, body, headers = get(f"{api.base_url}/subsidies", query())
        assert (status, body, headers["Retry-After"]) == (503, {"message": "Service Unavailable"}, "3")
    assert get(f"{api.base_url}/subsidies", query())[0] == 200


def test_delay_next_outlasts_a_client_timeout(api):
    api.delay_next(1.0)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        get(f"{api.base_url}/subsidies", query(), timeout=0.3)
    assert get(f"{api.base_url}/subsidies", query())[0] == 200


def test_update_remove_and_the_request_log(subsidies):
    record = subsidies[0]
    with JGrantsStandin(subsidies, now=NOW, extra_detail_fields=("update_datetime",)) as api:
        url = f"{api.base_url}/subsidies/id/{record['id']}"
        before = get(url)[1]["result"][0]
        assert LIST_TIME.match(before["update_datetime"])
        api.update(record["id"], title="令和8年度 特別改訂テスト補助金", subsidy_max_limit=12_345_000)
        after = get(url)[1]["result"][0]
        assert (after["title"], after["subsidy_max_limit"]) == ("令和8年度 特別改訂テスト補助金", 12_345_000)
        assert parse_datetime(after["update_datetime"]) > parse_datetime(before["update_datetime"])
        found = get(f"{api.base_url}/subsidies", query(keyword="特別改訂"))[1]["result"]
        assert [i["id"] for i in found] == [record["id"]]
        api.remove(record["id"])
        assert get(url)[0] == 404
        paths = [path for path, _ in api.requests]
        assert paths[0] == f"/exp/v1/public/subsidies/id/{record['id']}"
        assert api.requests[2] == ("/exp/v1/public/subsidies", query(keyword="特別改訂"))
    # records given to the stand-in are copied: the caller's list is untouched
    assert record["title"] != "令和8年度 特別改訂テスト補助金"


def test_hand_written_pdf_and_salesforce_ids(subsidies):
    pdf = make_guideline_pdf(subsidies[1], use_reportlab=False)
    assert pdf.startswith(b"%PDF-1.4")
    text = pypdf.PdfReader(io.BytesIO(pdf), strict=True).pages[0].extract_text()
    assert "申請受付期間" in text and subsidies[1]["title"] in text
    for real in ("a0WJ200000CDWaWMAX", "a0WJ200000CDapgMAD", "a0WJ200000CDR9HMAX"):  # ids seen in real responses
        assert salesforce_id(real[:15]) == real
    assert all(s["id"] == salesforce_id(s["id"][:15]) for s in subsidies)
    assert len({s["id"] for s in subsidies}) == len(subsidies)
