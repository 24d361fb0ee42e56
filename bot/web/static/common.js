/* subsidy-advisor: what the chat page and the programs page share (loaded before either).
 * Plain JS, no build step; server text only through textContent (CSP: no inline script). */
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // The lines of a source excerpt (GET /api/sources/...), cited ones marked for eyes and screen readers.
  // Returns the list and its first cited line, so the caller can scroll the panel to it.
  function sourceLines(excerpt) {
    var list = el("ol", "source-lines");
    list.setAttribute("aria-label", "資料の本文");
    var first = null;
    (excerpt.lines || []).forEach(function (line) {
      var li = el("li", line.cited ? "source-line cited" : "source-line");
      var no = el("span", "line-no", String(line.n));
      no.setAttribute("aria-hidden", "true");
      li.appendChild(no);
      li.appendChild(el("span", "line-text", line.text));
      if (line.cited) {
        li.appendChild(el("span", "visually-hidden", "（引用箇所）"));
        if (!first) first = li;
      }
      list.appendChild(li);
    });
    return { list: list, first: first };
  }

  window.advisorCommon = { el: el, sourceLines: sourceLines };
})();
