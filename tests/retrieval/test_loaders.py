import re
from pathlib import Path

import pytest

from retrieval.corpus import Manifest, add_document, convert_dropped_documents, corpus_files
from retrieval.loaders import LoadError, load, repair_pdf_lines


def make_japanese_pdf(path: Path, pages: list[list[str]]) -> None:
    """A real PDF with a Japanese text layer, using reportlab's built-in CID font."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    c = canvas.Canvas(str(path), pagesize=A4)
    for number, lines in enumerate(pages, 1):
        c.setFont("HeiseiKakuGo-W5", 11)
        c.drawString(60, 800, "中小企業支援施策ガイド")  # running header on every page
        y = 760
        for line in lines:
            c.drawString(60, y, line)
            y -= 18
        c.drawString(290, 40, str(number))  # page number
        c.showPage()
    c.save()


def test_pdf_ingest_extracts_japanese_and_drops_page_furniture(tmp_path):
    pdf = tmp_path / "guide.pdf"
    make_japanese_pdf(pdf, [
        ["第1章 ものづくり補助金", "中小企業が行う革新的な製品開発や生産プロセスの改善に", "必要な設備投資等を支援する。"],
        ["第2章 IT導入補助金", "補助率は2分の1以内、補助上限額は450万円とする。"],
        ["第3章 事業承継", "事業承継・引継ぎ支援センターが相談に応じる。"],
    ])
    doc = load(pdf)
    text = "\n".join(doc.lines)
    assert "ものづくり補助金" in text and "補助上限額は450万円" in text
    assert "中小企業支援施策ガイド" not in text  # repeated header removed
    assert not any(line.strip() in {"1", "2", "3"} for line in doc.lines)  # page numbers removed


def test_add_document_converts_pdf_to_text_with_manifest(tmp_path):
    pdf = tmp_path / "guide.pdf"
    make_japanese_pdf(pdf, [[f"第{i}章 IT導入補助金", f"補助率は2分の1以内とする（その{i}）。", "詳細は公募要領による。", "以上"]
                            for i in range(1, 4)])
    corpus = tmp_path / "corpus"
    target = add_document(pdf, corpus, title="支援施策ガイド", publisher="経済産業省", fiscal_year="令和6年度")
    assert target.name == "guide.txt" and "補助率は2分の1以内" in target.read_text(encoding="utf-8")
    assert (corpus / "originals" / "guide.pdf").exists()
    entry = Manifest.load(corpus).entries["guide.txt"]
    assert entry.title == "支援施策ガイド" and entry.fiscal_year == "令和6年度"
    assert corpus_files(corpus) == [target]


def test_broken_pdf_is_reported_by_name_and_loses_nothing(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\nthis is not really a pdf")
    (corpus / "ok.txt").write_text("本文。\n", encoding="utf-8")
    converted, errors = convert_dropped_documents(corpus)
    assert converted == [] and len(errors) == 1 and "broken.pdf" in errors[0]
    assert (corpus / "broken.pdf").exists()  # left in place for the user to fix
    with pytest.raises(LoadError, match=re.escape("broken.pdf")):
        load(corpus / "broken.pdf")


def test_empty_file_is_an_error_naming_it(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    with pytest.raises(LoadError, match=re.escape("empty.txt")):
        load(empty)


def test_html_visible_text_only(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><script>var x='秘密';</script><style>p{}</style></head><body><nav>メニュー</nav>"
        "<main><h1>省力化投資補助金</h1><p>人手不足に悩む中小企業の<b>省力化投資</b>を支援する。</p>"
        "<table><tr><th>補助率</th><td>1/2</td></tr></table></main></body></html>", encoding="utf-8")
    lines = load(page).lines
    text = "\n".join(lines)
    assert "省力化投資補助金" in lines and "人手不足に悩む中小企業の 省力化投資 を支援する。" in text
    assert "補助率 | 1/2" in text and "秘密" not in text and "メニュー" not in text


def test_shift_jis_text_is_read(tmp_path):
    f = tmp_path / "sjis.txt"
    f.write_bytes("補助金の概要です。".encode("cp932"))
    assert load(f).lines == ("補助金の概要です。",)


def test_repair_pdf_lines_keeps_body_lines():
    pages = [f"ヘッダー\n本文{i}行目\n{i}" for i in range(1, 5)]
    assert repair_pdf_lines(pages) == [x for i in range(1, 5) for x in (f"本文{i}行目", "")]
