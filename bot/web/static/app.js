/* subsidy-advisor chat page: streamed answers, citation viewer, feedback.
 * Plain JS, no build step. Every piece of server text goes into the DOM through textContent (never innerHTML),
 * and no inline style or handler is used (the server's CSP forbids them). */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var SVG = "http://www.w3.org/2000/svg";

  var els = {
    form: $("composer"),
    input: $("question"),
    send: $("send"),
    conversation: $("conversation"),
    scroll: $("scroll"),
    welcome: $("welcome"),
    newChat: $("new-chat"),
    panel: $("source-panel"),
    panelTitle: $("panel-title"),
    panelMeta: $("panel-meta"),
    panelBody: $("panel-body"),
    panelClose: $("panel-close"),
    backdrop: $("backdrop")
  };

  var state = {
    sessionId: null,      // from the `session` event; sent with follow-up questions
    busy: false,
    controller: null,     // AbortController of the running answer
    messages: new Map(),  // local key -> {citations: Map(n -> citation), messageId, ...}
    nextKey: 1,
    panelOpener: null,    // element focused before the panel opened (focus returns there)
    panelRequest: 0
  };

  // ---- helpers ---------------------------------------------------------------------------------

  var el = window.advisorCommon.el;

  function svgIcon(className, paths) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", className);
    paths.forEach(function (d) {
      var p = document.createElementNS(SVG, "path");
      p.setAttribute("d", d);
      svg.appendChild(p);
    });
    return svg;
  }

  var THUMB = ["M7 10v11H4a1 1 0 0 1-1-1v-9a1 1 0 0 1 1-1h3z",
               "M7 10l4-7a2.2 2.2 0 0 1 3 2.4L13.3 9H19a2 2 0 0 1 2 2.3l-1.3 7.9A2 2 0 0 1 17.7 21H7"];
  var INFO = ["M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z", "M12 11v5", "M12 8h.01"];

  /** Server messages are "日本語。 (English.)": show the Japanese part. */
  function japanese(detail) {
    if (typeof detail !== "string" || !detail) return "";
    var cut = detail.replace(/\s*\([\x20-\x7e]*\)\s*$/, "").trim();
    return cut || detail;
  }

  function nearBottom() {
    var s = els.scroll;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  }

  function toBottom(force) {
    if (force || nearBottom()) els.scroll.scrollTop = els.scroll.scrollHeight;
  }

  function setBusy(busy) {
    state.busy = busy;
    els.send.disabled = busy;
    els.send.setAttribute("aria-label", busy ? "回答を作成中です" : "質問を送信");
  }

  // ---- answer rendering ------------------------------------------------------------------------

  /** One paragraph per answer line; `[n]` markers become links that open the cited passage.
   *  Consecutive lines starting with "|" form a table (a catalogue comparison or list). */
  function renderAnswer(container, text, key) {
    var frag = document.createDocumentFragment();
    var rows = [];
    function flush() {
      if (rows.length) frag.appendChild(renderTable(rows, key));
      rows = [];
    }
    text.split("\n").forEach(function (line) {
      if (/^\s*\|/.test(line)) {
        rows.push(line);
        return;
      }
      flush();
      if (!line.trim()) return;
      var p = el("p", "answer-line");
      appendMarked(p, line, key);
      frag.appendChild(p);
    });
    flush();
    container.replaceChildren(frag);
  }

  /** Text with `[n]` markers as citation links. */
  function appendMarked(node, text, key) {
    var re = /\[(\d{1,3})\]/g;
    var last = 0;
    var m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) node.appendChild(document.createTextNode(text.slice(last, m.index)));
      node.appendChild(citeLink(key, Number(m[1])));
      last = re.lastIndex;
    }
    if (last < text.length) node.appendChild(document.createTextNode(text.slice(last)));
  }

  /** A markdown table ("| a | b |", then "|---|---|", then rows) as an HTML table; the first column heads rows. */
  function renderTable(lines, key) {
    var cells = function (line) {
      return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map(function (c) { return c.trim(); });
    };
    var wrap = el("div", "answer-table");
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", "比較表（横にスクロールできます）");
    wrap.tabIndex = 0;
    var table = el("table");
    var body = el("tbody");
    var head = null;
    lines.forEach(function (line, i) {
      if (/^\s*\|?\s*:?-{3,}/.test(line)) return;  // the separator row
      var tr = el("tr");
      cells(line).forEach(function (text, j) {
        var cell;
        if (i === 0) {
          cell = el("th");
          cell.scope = "col";
        } else if (j === 0) {
          cell = el("th");
          cell.scope = "row";
        } else {
          cell = el("td");
        }
        appendMarked(cell, text, key);
        tr.appendChild(cell);
      });
      if (i === 0) {
        head = el("thead");
        head.appendChild(tr);
      } else {
        body.appendChild(tr);
      }
    });
    if (head) table.appendChild(head);
    table.appendChild(body);
    wrap.appendChild(table);
    return wrap;
  }

  function citeLink(key, n) {
    var a = el("a", "cite", "[" + n + "]");
    a.href = "#";
    a.dataset.key = String(key);
    a.dataset.n = String(n);
    a.setAttribute("aria-label", "出典" + n + "の該当箇所を表示");
    a.setAttribute("aria-haspopup", "dialog");
    return a;
  }

  function lineRange(c) {
    return c.start_line === c.end_line ? c.start_line + "行" : c.start_line + "〜" + c.end_line + "行";
  }

  function renderSources(msg) {
    var list = msg.sourcesList;
    var items = Array.from(msg.citations.values()).sort(function (a, b) { return a.n - b.n; });
    msg.sources.hidden = items.length === 0;
    list.replaceChildren();
    items.forEach(function (c) {
      var li = el("li");
      var a = el("a", "source-link");
      a.href = "#";
      a.dataset.key = String(msg.key);
      a.dataset.n = String(c.n);
      a.setAttribute("aria-haspopup", "dialog");
      a.appendChild(el("span", "source-n", "[" + c.n + "]"));
      var body = el("span");
      body.appendChild(el("span", "source-title", c.title || c.source));
      var detail = [c.section || "", lineRange(c)].filter(Boolean).join(" / ");
      body.appendChild(el("span", "source-detail", " / " + detail));
      a.appendChild(body);
      li.appendChild(a);
      list.appendChild(li);
    });
  }

  function addUserTurn(question) {
    var div = el("div", "turn-user", question);
    var label = el("span", "visually-hidden", "あなたの質問：");
    div.prepend(label);
    els.conversation.appendChild(div);
  }

  function addBotTurn() {
    var key = state.nextKey++;
    var article = el("article", "turn-bot");
    article.setAttribute("aria-label", "回答");
    article.setAttribute("aria-busy", "true");
    article.dataset.key = String(key);
    article.appendChild(el("p", "who", "アドバイザー"));

    var status = el("p", "status");
    status.setAttribute("role", "status");
    status.appendChild(el("span", "spinner"));
    var statusText = el("span", null, "送信しています…");
    status.appendChild(statusText);
    article.appendChild(status);

    var answer = el("div", "answer is-streaming");
    article.appendChild(answer);

    var sources = el("section", "sources");
    sources.hidden = true;
    sources.setAttribute("aria-label", "この回答の出典");
    sources.appendChild(el("p", "sources-title", "出典（押すと該当箇所を表示）"));
    var sourcesList = el("ul", "sources-list");
    sources.appendChild(sourcesList);
    article.appendChild(sources);

    els.conversation.appendChild(article);
    var msg = {
      key: key, article: article, status: status, statusText: statusText, answer: answer,
      sources: sources, sourcesList: sourcesList, citations: new Map(), text: "", messageId: null, done: false
    };
    state.messages.set(key, msg);
    return msg;
  }

  function finishStatus(msg) {
    msg.status.remove();
    msg.answer.classList.remove("is-streaming");
    msg.article.setAttribute("aria-busy", "false");
  }

  function showError(msg, text, question) {
    finishStatus(msg);
    msg.article.classList.add("is-error");
    msg.answer.replaceChildren();
    var box = el("div");
    box.setAttribute("role", "alert");
    box.appendChild(el("p", "error-title", "回答できませんでした"));
    box.appendChild(el("p", "error-text", text));
    msg.answer.appendChild(box);
    if (question) {
      var retry = el("button", "button retry", "もう一度送信する");
      retry.type = "button";
      retry.addEventListener("click", function () {
        if (!state.busy) ask(question);
      });
      msg.answer.appendChild(retry);
    }
  }

  function showRefusal(msg, text) {
    msg.article.classList.add("is-refused");
    var head = el("p", "refusal-title");
    head.appendChild(svgIcon("icon", INFO));
    head.appendChild(el("span", null, "資料から確認できませんでした"));
    msg.answer.replaceChildren(head);
    text.split("\n").forEach(function (line) {
      if (line.trim()) msg.answer.appendChild(el("p", "answer-line", line));
    });
  }

  // ---- feedback --------------------------------------------------------------------------------

  function addFeedback(msg) {
    var box = el("div", "feedback");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "この回答の評価");
    box.appendChild(el("span", "feedback-question", "この回答は役に立ちましたか？"));

    var up = rateButton("up", "役に立った", "👍 役に立った");
    var down = rateButton("down", "役に立たなかった", "👎 役に立たなかった");
    box.appendChild(up);
    box.appendChild(down);

    var form = el("form", "feedback-form");
    form.hidden = true;
    form.noValidate = true;
    var fieldId = "fb-comment-" + msg.key;
    var label = el("label", null, "コメント（任意）：どこが違っていたか、知りたかったことなど");
    label.htmlFor = fieldId;
    var area = el("textarea");
    area.id = fieldId;
    area.maxLength = 2000;
    area.rows = 3;
    var actions = el("div", "feedback-actions");
    var submit = el("button", "button button-primary", "評価を送信");
    submit.type = "submit";
    var cancel = el("button", "button", "やめる");
    cancel.type = "button";
    actions.appendChild(submit);
    actions.appendChild(cancel);
    form.appendChild(label);
    form.appendChild(area);
    form.appendChild(actions);
    box.appendChild(form);

    var thanks = el("p", "feedback-thanks");
    thanks.setAttribute("role", "status");
    thanks.hidden = true;
    box.appendChild(thanks);
    var error = el("p", "feedback-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    box.appendChild(error);

    var rating = null;
    function choose(value) {
      rating = value;
      up.setAttribute("aria-pressed", String(value === "up"));
      down.setAttribute("aria-pressed", String(value === "down"));
      form.hidden = false;
      error.hidden = true;
      area.focus();
    }
    up.addEventListener("click", function () { choose("up"); });
    down.addEventListener("click", function () { choose("down"); });
    cancel.addEventListener("click", function () {
      rating = null;
      form.hidden = true;
      up.setAttribute("aria-pressed", "false");
      down.setAttribute("aria-pressed", "false");
      up.focus();
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!rating) return;
      submit.disabled = true;
      error.hidden = true;
      fetch("/api/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ message_id: msg.messageId, rating: rating, comment: area.value.trim() })
      }).then(function (res) {
        if (!res.ok) return readProblem(res).then(function (text) { throw new Error(text); });
        form.hidden = true;
        up.disabled = true;
        down.disabled = true;
        thanks.textContent = "評価を送信しました。ご協力ありがとうございます。今後の改善に役立てます。";
        thanks.hidden = false;
        thanks.setAttribute("tabindex", "-1");
        thanks.focus();
      }).catch(function (err) {
        submit.disabled = false;
        error.textContent = err && err.message && !(err instanceof TypeError)
          ? err.message : "評価を送信できませんでした。通信環境をご確認のうえ、もう一度お試しください。";
        error.hidden = false;
      });
    });
    msg.article.appendChild(box);
  }

  function rateButton(value, label, accessible) {
    var b = el("button", "rate");
    b.type = "button";
    b.dataset.rating = value;
    b.setAttribute("aria-pressed", "false");
    b.setAttribute("aria-label", accessible);
    b.appendChild(svgIcon(value === "up" ? "thumb" : "thumb thumb-down", THUMB));
    b.appendChild(el("span", null, label));
    return b;
  }

  // ---- errors ----------------------------------------------------------------------------------

  /** A readable Japanese message for a failed response (422, 429, 503, ...). */
  function readProblem(res) {
    return res.json().catch(function () { return {}; }).then(function (body) {
      var detail = japanese(body && body.detail);
      if (res.status === 429) {
        var wait = res.headers.get("Retry-After");
        return detail || ("リクエストが多すぎます。" + (wait ? wait + "秒後に" : "しばらくしてから") + "もう一度お試しください。");
      }
      if (res.status === 422 || res.status === 400) return detail || "入力内容を確認してください。";
      if (res.status === 404) return detail || "見つかりませんでした。";
      if (res.status === 503) return "現在サービスを利用できません。しばらくしてからもう一度お試しください。" +
        (detail ? "（" + detail + "）" : "");
      return "サーバーでエラーが発生しました（" + res.status + "）。しばらくしてからもう一度お試しください。";
    });
  }

  var NETWORK = "サーバーに接続できませんでした。インターネット接続を確認して、もう一度お試しください。";

  // ---- streaming -------------------------------------------------------------------------------

  /** Reads a text/event-stream body and calls onEvent(name, data) for every complete event. */
  function readEvents(body, onEvent) {
    var reader = body.getReader();
    var decoder = new TextDecoder("utf-8");
    var buffer = "";

    function dispatch(block) {
      var name = "message";
      var data = [];
      block.split("\n").forEach(function (line) {
        if (!line || line.charAt(0) === ":") return;
        var i = line.indexOf(":");
        var field = i < 0 ? line : line.slice(0, i);
        var value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
        if (field === "event") name = value;
        else if (field === "data") data.push(value);
      });
      if (!data.length) return;
      var parsed;
      try { parsed = JSON.parse(data.join("\n")); } catch (e) { parsed = data.join("\n"); }
      onEvent(name, parsed);
    }

    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          buffer += decoder.decode();
          if (buffer.trim()) dispatch(buffer.replace(/\r\n?/g, "\n"));
          return;
        }
        buffer += decoder.decode(chunk.value, { stream: true });
        buffer = buffer.replace(/\r\n?/g, "\n");
        var cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          var block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          dispatch(block);
        }
        return pump();
      });
    }
    return pump();
  }

  function ask(question) {
    question = question.trim();
    if (!question || state.busy) return;
    els.welcome.hidden = true;
    addUserTurn(question);
    var msg = addBotTurn();
    toBottom(true);
    setBusy(true);

    var controller = new AbortController();
    state.controller = controller;
    var finished = false;

    fetch("/api/chat/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify({ question: question, session_id: state.sessionId }),
      signal: controller.signal
    }).then(function (res) {
      if (!res.ok) {
        return readProblem(res).then(function (text) {
          finished = true;
          showError(msg, text, res.status === 422 ? null : question);
          if (res.status === 422) {
            els.input.value = question;
            els.input.focus();
          }
        });
      }
      if (!res.body) throw new TypeError("no body");
      return readEvents(res.body, function (name, data) {
        if (controller.signal.aborted) return;
        var follow = nearBottom();
        if (name === "session" && data && data.session_id) {
          state.sessionId = data.session_id;
        } else if (name === "status" && data) {
          msg.statusText.textContent = data.text || "";
        } else if (name === "delta" && data) {
          msg.text += data.text || "";
          msg.statusText.textContent = "回答を作成しています…";
          renderAnswer(msg.answer, msg.text, msg.key);
        } else if (name === "citation" && data) {
          msg.citations.set(Number(data.n), data);
          renderSources(msg);
        } else if (name === "done" && data) {
          finished = true;
          complete(msg, data);
        } else if (name === "error") {
          finished = true;
          showError(msg, japanese(data && data.detail) || "回答の作成中にエラーが発生しました。", question);
        }
        if (follow) toBottom(true);
      }).then(function () {
        if (!finished && !controller.signal.aborted) {
          showError(msg, "回答が途中で途切れました。もう一度お試しください。", question);
        }
      });
    }).catch(function (err) {
      if (controller.signal.aborted) return;
      showError(msg, err instanceof TypeError ? NETWORK : "予期しないエラーが発生しました。もう一度お試しください。",
                question);
    }).then(function () {
      if (state.controller === controller) {
        state.controller = null;
        setBusy(false);
      }
    });
  }

  function complete(msg, data) {
    finishStatus(msg);
    msg.done = true;
    msg.messageId = data.message_id || null;
    if (data.session_id) state.sessionId = data.session_id;
    msg.text = data.answer || msg.text;
    if (data.refused) {
      showRefusal(msg, msg.text);
    } else {
      renderAnswer(msg.answer, msg.text, msg.key);
    }
    msg.citations = new Map();
    (data.citations || []).forEach(function (c) { msg.citations.set(Number(c.n), c); });
    renderSources(msg);
    if (data.finder && data.finder.profile) renderProfile(msg, data.finder);
    if (data.notice) {  // the LLM could not be used: the answer quotes the passages instead
      msg.article.appendChild(el("p", "note", data.notice));
    }
    if (!data.refused) {
      msg.article.appendChild(el("p", "note", "※ 出典の資料に基づく回答です。申請の際は最新の公募要領をご確認ください。"));
    }
    if (msg.messageId) addFeedback(msg);
  }

  // ---- finder: the situation shown back as chips; a chip puts a correction in the input box -----

  var PROFILE_FIELDS = [
    ["industry", "業種", function (v) { return v; }, "業種は〇〇です"],
    ["employees", "従業員", function (v) { return v + "人"; }, "従業員は〇人です"],
    ["capital_yen", "資本金", yen, "資本金は〇〇万円です", true],
    ["size", "規模", function (v) { return v; }, "規模は〇〇です"],
    ["region", "地域", function (v) { return v; }, "所在地は〇〇県です"],
    ["goals", "やりたいこと", function (v) { return v.join("・"); }, "やりたいことは〇〇です"],
    ["circumstances", "状況", function (v) { return v.join("・"); }, "状況は〇〇です"],
    ["ruled_out", "当てはまらない", function (v) { return v.join("・"); }, "〇〇に当てはまります", true]
  ];

  function yen(v) {  // 30000000 -> 3,000万円, 300000000 -> 3億円 (as the documents write amounts)
    if (v >= 1e8 && v % 1e6 === 0) return (v / 1e8) + "億円";
    if (v >= 1e4 && v % 1e4 === 0) return (v / 1e4).toLocaleString("ja-JP") + "万円";
    return v.toLocaleString("ja-JP") + "円";
  }

  function renderProfile(msg, finder) {
    var profile = finder.profile || {};
    var box = el("div", "profile");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "伺ったご状況（押すと修正できます）");
    box.appendChild(el("p", "profile-title", "伺ったご状況（押すと修正できます）"));
    var list = el("ul", "profile-chips");
    PROFILE_FIELDS.forEach(function (f) {
      var value = profile[f[0]];
      var empty = value === undefined || value === null || (Array.isArray(value) && !value.length);
      if (empty && f[4]) return;  // shown only once said (資本金, what does not apply)
      var chip = el("button", "chip" + (empty ? " chip-empty" : ""), f[1] + ": " + (empty ? "未入力" : f[2](value)));
      chip.type = "button";
      chip.dataset.field = f[0];
      chip.setAttribute("aria-label", f[1] + (empty ? "を入力する" : "を修正する（いま: " + f[2](value) + "）"));
      chip.addEventListener("click", function () {
        els.input.value = f[3];
        els.input.focus();
        var at = f[3].indexOf("〇");
        if (at >= 0) els.input.setSelectionRange(at, f[3].lastIndexOf("〇") + 1);
      });
      var item = el("li");
      item.appendChild(chip);
      list.appendChild(item);
    });
    box.appendChild(list);
    msg.article.appendChild(box);
  }

  // ---- source panel ----------------------------------------------------------------------------

  function openPanel(msg, n, opener) {
    var c = msg.citations.get(n);
    if (!c) return;  // the marker arrived before its citation event; nothing to show yet
    closeMarkers();
    if (opener && opener.classList.contains("cite")) opener.classList.add("is-active");
    if (els.panel.hidden) state.panelOpener = opener || document.activeElement;
    else if (opener) state.panelOpener = opener;

    els.panelTitle.textContent = c.title || c.source;
    els.panelMeta.textContent = "[" + c.n + "] " + [c.section, c.source + "・" + lineRange(c)].filter(Boolean).join(" / ");
    var loading = el("p", "panel-message", "資料を読み込んでいます…");
    loading.setAttribute("role", "status");
    els.panelBody.replaceChildren(loading);
    els.panel.hidden = false;
    els.backdrop.hidden = false;
    document.body.classList.add("panel-open");
    els.panel.focus();

    var request = ++state.panelRequest;
    var url = "/api/sources/" + encodeURIComponent(c.source) + "?start=" + c.start_line + "&end=" + c.end_line +
      "&context=8";
    fetch(url).then(function (res) {
      if (!res.ok) return readProblem(res).then(function (text) { throw new Error(text); });
      return res.json();
    }).then(function (ex) {
      if (request !== state.panelRequest) return;
      if (ex.title) els.panelTitle.textContent = ex.title;
      var shown = window.advisorCommon.sourceLines(ex);
      els.panelBody.replaceChildren(shown.list);
      if (shown.first) els.panelBody.scrollTop = Math.max(0, shown.first.offsetTop - 48);
    }).catch(function (err) {
      if (request !== state.panelRequest) return;
      var p = el("p", "panel-message is-error",
                 err && err.message && !(err instanceof TypeError) ? err.message : NETWORK);
      p.setAttribute("role", "alert");
      els.panelBody.replaceChildren(p);
      // the citation text from the answer is still worth showing
      if (c.text) {
        var list = el("ol", "source-lines");
        c.text.split("\n").forEach(function (t, i) {
          var li = el("li", "source-line cited");
          li.appendChild(el("span", "line-no", String(c.start_line + i)));
          li.appendChild(el("span", "line-text", t));
          list.appendChild(li);
        });
        els.panelBody.appendChild(list);
      }
    });
  }

  function closeMarkers() {
    els.conversation.querySelectorAll(".cite.is-active").forEach(function (a) { a.classList.remove("is-active"); });
  }

  function closePanel() {
    if (els.panel.hidden) return;
    state.panelRequest++;
    els.panel.hidden = true;
    els.backdrop.hidden = true;
    document.body.classList.remove("panel-open");
    closeMarkers();
    var back = state.panelOpener;
    state.panelOpener = null;
    if (back && document.contains(back)) back.focus();
    else els.input.focus();
  }

  // ---- new conversation ------------------------------------------------------------------------

  function newConversation() {
    if (state.controller) state.controller.abort();
    state.controller = null;
    setBusy(false);
    closePanel();
    state.sessionId = null;
    state.messages.clear();
    els.conversation.replaceChildren();
    els.welcome.hidden = false;
    els.input.value = "";
    els.input.focus();
  }

  // ---- wiring ----------------------------------------------------------------------------------

  els.form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = els.input.value;
    if (!q.trim()) {
      els.input.focus();
      return;
    }
    if (state.busy) return;
    els.input.value = "";
    ask(q);
  });

  els.input.addEventListener("keydown", function (ev) {
    // Enter sends; Shift+Enter is a newline; Enter that confirms a Japanese IME conversion does nothing.
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      els.form.requestSubmit();
    }
  });

  document.querySelectorAll(".example").forEach(function (b) {
    b.addEventListener("click", function () {
      if (state.busy) return;
      ask(b.textContent || "");
    });
  });

  els.newChat.addEventListener("click", newConversation);

  els.conversation.addEventListener("click", function (ev) {
    var a = ev.target.closest("a[data-key][data-n]");
    if (!a) return;
    ev.preventDefault();
    var msg = state.messages.get(Number(a.dataset.key));
    if (msg) openPanel(msg, Number(a.dataset.n), a);
  });

  els.panelClose.addEventListener("click", closePanel);
  els.backdrop.addEventListener("click", closePanel);

  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && !els.panel.hidden) {
      ev.preventDefault();
      closePanel();
    }
  });

  setBusy(false);
  // focus the question box on wide screens only (on a phone it would pop up the keyboard at once)
  if (window.matchMedia("(min-width: 761px)").matches) els.input.focus();
})();
