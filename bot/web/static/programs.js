/* subsidy-advisor programs page: the catalogue as a sortable, filterable table; every cell opens its source.
 * Plain JS, no build step; server text only through textContent; no inline script or style (CSP). */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var COLUMNS = [
    { key: "name", label: "事業名" },
    { key: "kind", label: "種別" },
    { key: "budget", label: "予算額" },
    { key: "target", label: "対象者" },
    { key: "rate", label: "補助率" },
    { key: "cap", label: "補助上限" },
    { key: "support", label: "支援内容" },
    { key: "deadline", label: "申請締切" },
    { key: "division", label: "担当課" }
  ];
  var LONG = { support: 70, purpose: 70, outcomes: 70, deadline: 40 };

  var els = {
    head: $("head"), rows: $("rows"), count: $("count"), text: $("filter-text"), kind: $("filter-kind"),
    year: $("filter-year"), fresh: $("filter-new"), open: $("filter-open"), panel: $("source-panel"), panelTitle: $("panel-title"),
    panelMeta: $("panel-meta"), panelBody: $("panel-body"), panelClose: $("panel-close"), backdrop: $("backdrop")
  };
  var state = { programs: [], sortKey: null, sortDir: 1, opener: null, request: 0 };

  var el = window.advisorCommon.el;

  function fold(s) {  // NFKC, lower case, no spaces: what counts as "contains" for the keyword filter
    return (s || "").normalize("NFKC").toLowerCase().replace(/\s+/g, "");
  }

  /** 予算額 as a number of yen for sorting: "令和6年度予算額 1,400億円（…）" -> 1.4e11; none -> -1. */
  function yen(text) {
    var m = fold(text).replace(/,/g, "").match(/予算額[^\d]*?(\d+(?:\.\d+)?)(兆|億)円/) ||
      fold(text).replace(/,/g, "").match(/(\d+(?:\.\d+)?)(兆|億)円/);
    if (!m) return -1;
    return Number(m[1]) * (m[2] === "兆" ? 1e12 : 1e8);
  }

  function budgetLabel(p) {  // "令和6年度" / "令和6年度補正" from the budget line, for the year filter
    var b = p.fields.budget ? fold(p.fields.budget.value) : "";
    var m = b.match(/^(令和\d+年度)(補正|予備費)?/);
    return m ? m[1] + (m[2] || "") : "";
  }

  function cellValue(p, key) {
    if (key === "name") return p.name;
    return p.fields[key] ? p.fields[key].value : "";
  }

  // ---- table -----------------------------------------------------------------------------------

  function renderHead() {
    els.head.replaceChildren();
    COLUMNS.forEach(function (c) {
      var th = el("th");
      th.scope = "col";
      var b = el("button", "sort", c.label);
      b.type = "button";
      b.dataset.key = c.key;
      var dir = state.sortKey === c.key ? (state.sortDir > 0 ? "ascending" : "descending") : "none";
      th.setAttribute("aria-sort", dir);
      b.setAttribute("aria-label", c.label + "で並べ替え");
      b.appendChild(el("span", "sort-mark", dir === "ascending" ? "▲" : dir === "descending" ? "▼" : "⇅"));
      th.appendChild(b);
      els.head.appendChild(th);
    });
  }

  function visible() {
    var words = fold(els.text.value).split(/[、,]/).filter(Boolean);
    var kind = els.kind.value;
    var year = els.year.value;
    var fresh = els.fresh.checked;
    var open = els.open.checked;
    return state.programs.filter(function (p) {
      if (open && p.status !== "受付中") return false;
      if (kind && !(p.fields.kind && p.fields.kind.value === kind)) return false;
      if (year && budgetLabel(p) !== year) return false;
      if (fresh && !(p.fields.budget && /[（(]新規[）)]/.test(p.fields.budget.value))) return false;
      if (!words.length) return true;
      var hay = fold([p.name, p.parent || ""].concat(p.nicknames, Object.keys(p.fields).map(function (k) {
        return p.fields[k].value;
      })).join("|"));
      return words.every(function (w) { return hay.indexOf(w) >= 0; });
    });
  }

  function sorted(list) {
    if (!state.sortKey) return list;
    var key = state.sortKey;
    return list.slice().sort(function (a, b) {
      var x, y;
      if (key === "budget") { x = yen(cellValue(a, key)); y = yen(cellValue(b, key)); }
      else { x = cellValue(a, key); y = cellValue(b, key); }
      if (x === y) return 0;
      if (x === "" || x === -1) return 1;   // empty cells last whatever the direction
      if (y === "" || y === -1) return -1;
      return (x < y ? -1 : 1) * state.sortDir;
    });
  }

  function citeButton(p, key, cited, text) {
    var b = el("button", "cell-cite");
    b.type = "button";
    b.dataset.id = p.id;
    b.dataset.field = key;
    b.appendChild(el("span", "cell-value", text));
    b.setAttribute("aria-label", text + "（出典：" + cited.source + " " + lineRange(cited) + "を表示）");
    b.setAttribute("aria-haspopup", "dialog");
    return b;
  }

  function renderRows() {
    var list = sorted(visible());
    els.count.textContent = list.length + " 件の事業（全 " + state.programs.length + " 件）";
    var frag = document.createDocumentFragment();
    if (!list.length) {
      var tr = el("tr");
      var td = el("td", "empty", "条件に合う事業はありません。");
      td.colSpan = COLUMNS.length;
      tr.appendChild(td);
      frag.appendChild(tr);
    }
    list.forEach(function (p) {
      var tr = el("tr");
      tr.dataset.id = p.id;
      COLUMNS.forEach(function (c) {
        var cell = el(c.key === "name" ? "th" : "td", "col-" + c.key);
        if (c.key === "name") {
          cell.scope = "row";
          cell.appendChild(citeButton(p, "heading", p.heading, p.name));
          if (p.nicknames.length) cell.appendChild(el("span", "nick", "（" + p.nicknames.slice(0, 2).join("、") + "）"));
          if (p.parent) cell.appendChild(el("span", "parent", p.parent + " の内"));
          if (p.reviewed) cell.appendChild(el("span", "badge", "確認済"));
        } else if (p.fields[c.key]) {
          var v = p.fields[c.key].value;
          var limit = LONG[c.key];
          cell.appendChild(citeButton(p, c.key, p.fields[c.key], limit && v.length > limit ? v.slice(0, limit) + "…" : v));
          if (c.key === "deadline" && p.status) cell.appendChild(el("span", "badge", p.status));
        } else {
          cell.appendChild(el("span", "none", "—"));
          cell.setAttribute("aria-label", "記載なし");
        }
        tr.appendChild(cell);
      });
      frag.appendChild(tr);
    });
    els.rows.replaceChildren(frag);
  }

  function fillYears() {
    var seen = {};
    state.programs.forEach(function (p) { var y = budgetLabel(p); if (y) seen[y] = true; });
    Object.keys(seen).sort().reverse().forEach(function (y) { els.year.appendChild(el("option", null, y)); });
  }

  // ---- source panel (the same viewer as the chat page) -----------------------------------------

  function lineRange(c) {
    return c.start_line === c.end_line ? c.start_line + "行" : c.start_line + "〜" + c.end_line + "行";
  }

  function openPanel(p, key, opener) {
    var c = key === "heading" ? p.heading : p.fields[key];
    if (!c) return;
    if (els.panel.hidden) state.opener = opener || document.activeElement;
    var label = key === "heading" ? "事業名" : (COLUMNS.filter(function (x) { return x.key === key; })[0] || {}).label || key;
    els.panelTitle.textContent = p.name;
    els.panelMeta.textContent = label + "：" + c.source + "・" + lineRange(c);
    var loading = el("p", "panel-message", "資料を読み込んでいます…");
    loading.setAttribute("role", "status");
    els.panelBody.replaceChildren(loading);
    els.panel.hidden = false;
    els.backdrop.hidden = false;
    document.body.classList.add("panel-open");
    els.panel.focus();
    var request = ++state.request;
    fetch("/api/sources/" + encodeURIComponent(c.source) + "?start=" + c.start_line + "&end=" + c.end_line +
          "&context=8").then(function (res) {
      if (!res.ok) throw new Error("資料を読み込めませんでした（" + res.status + "）。");
      return res.json();
    }).then(function (ex) {
      if (request !== state.request) return;
      els.panelTitle.textContent = ex.title || c.source;
      var shown = window.advisorCommon.sourceLines(ex);
      els.panelBody.replaceChildren(shown.list);
      if (shown.first) els.panelBody.scrollTop = Math.max(0, shown.first.offsetTop - 48);
    }).catch(function (err) {
      if (request !== state.request) return;
      var msg = el("p", "panel-message is-error", err && err.message && !(err instanceof TypeError)
        ? err.message : "サーバーに接続できませんでした。");
      msg.setAttribute("role", "alert");
      els.panelBody.replaceChildren(msg);
    });
  }

  function closePanel() {
    if (els.panel.hidden) return;
    state.request++;
    els.panel.hidden = true;
    els.backdrop.hidden = true;
    document.body.classList.remove("panel-open");
    var back = state.opener;
    state.opener = null;
    if (back && document.contains(back)) back.focus();
  }

  // ---- wiring ----------------------------------------------------------------------------------

  els.head.addEventListener("click", function (ev) {
    var b = ev.target.closest("button.sort");
    if (!b) return;
    if (state.sortKey === b.dataset.key) state.sortDir = -state.sortDir;
    else { state.sortKey = b.dataset.key; state.sortDir = b.dataset.key === "budget" ? -1 : 1; }
    renderHead();
    renderRows();
    var again = els.head.querySelector('button[data-key="' + b.dataset.key + '"]');
    if (again) again.focus();
  });

  els.rows.addEventListener("click", function (ev) {
    var b = ev.target.closest("button.cell-cite");
    if (!b) return;
    var p = state.programs.filter(function (x) { return x.id === b.dataset.id; })[0];
    if (p) openPanel(p, b.dataset.field, b);
  });

  // "input" only: a text field's "change" fires on blur, which would rebuild the table under the pointer
  // just as a cell is clicked (selects and check boxes fire "input" too).
  $("filters").addEventListener("input", renderRows);
  $("filters").addEventListener("submit", function (ev) { ev.preventDefault(); });
  els.panelClose.addEventListener("click", closePanel);
  els.backdrop.addEventListener("click", closePanel);
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && !els.panel.hidden) { ev.preventDefault(); closePanel(); }
  });

  renderHead();
  fetch("/api/programs").then(function (res) {
    if (!res.ok) throw new Error("一覧を読み込めませんでした（" + res.status + "）。");
    return res.json();
  }).then(function (programs) {
    state.programs = programs;
    var q = new URLSearchParams(window.location.search).get("q");
    if (q) els.text.value = q;
    fillYears();
    renderRows();
  }).catch(function (err) {
    var td = el("td", "empty is-error", err && err.message ? err.message : "一覧を読み込めませんでした。");
    td.colSpan = COLUMNS.length;
    td.setAttribute("role", "alert");
    var tr = el("tr");
    tr.appendChild(td);
    els.rows.replaceChildren(tr);
  });
})();
