// The viewer's one page: HTML skeleton, stylesheet and script, all static. The script asks the
// JSON API for runs and sample pages and builds every row with createElement and textContent
// (never innerHTML), so prompts and answers are shown as text, whatever they contain. It is a
// plain ES2017 string rather than compiled TypeScript because the compiler's helpers would not
// exist in the page.

/** Browser JavaScript of the viewer. */
export const VIEWER_SCRIPT = String.raw`(function () {
  "use strict";
  var FILTER_LABELS = { all: "all", changed: "changed only", correct_to_wrong: "flips correct→wrong", wrong_to_correct: "flips wrong→correct" };
  var state = { run: null, info: null, cmp: null, filter: "all", q: "", offset: 0, limit: 50, seq: 0 };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  // A search typed but not yet sent (debounced below) keeps the page busy: a page load that ends meanwhile is not the answer to it.
  var searchPending = false;
  function busy(b) { document.body.setAttribute("data-state", b || searchPending ? "loading" : "idle"); }
  function showError(err) {
    var box = $("error");
    box.textContent = err ? String(err && err.message ? err.message : err) : "";
    box.hidden = !err;
  }
  function api(path, params) {
    var u = new URL(path, location.href);
    Object.keys(params || {}).forEach(function (k) { if (params[k] !== null && params[k] !== undefined) u.searchParams.set(k, String(params[k])); });
    return fetch(u.toString(), { headers: { accept: "application/json" } }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j && j.error ? j.error : r.status + " " + r.statusText);
        return j;
      });
    });
  }
  function fmtLl(v) { return typeof v === "number" ? v.toFixed(3) : "–"; }

  function writeHash() {
    if (!state.run || !state.cmp) return;
    var p = new URLSearchParams({ run: state.run, task: state.cmp.task, variant: state.cmp.variant, filter: state.filter, q: state.q, offset: String(state.offset), limit: String(state.limit) });
    history.replaceState(null, "", "#" + p.toString());
  }
  function readHash() {
    var p = new URLSearchParams(location.hash.slice(1));
    var o = {};
    p.forEach(function (v, k) { o[k] = v; });
    return o;
  }

  // Runs
  function loadRuns(initial) {
    busy(true);
    return api("api/runs").then(function (res) {
      $("root").textContent = res.root;
      var ul = $("runs");
      clear(ul);
      if (!res.runs.length) ul.appendChild(el("li", "empty", "No runs here. A run folder holds results.json and quanteval.sqlite (quanteval run --out DIR)."));
      res.runs.forEach(function (r) {
        var li = el("li", "run");
        li.setAttribute("data-run", r.id);
        var b = el("button", null, r.name || r.id);
        b.type = "button";
        b.addEventListener("click", function () { openRun(r.id, {}); });
        li.appendChild(b);
        li.appendChild(el("div", "meta", r.baseline + " vs " + (r.variants.join(", ") || "—")));
        li.appendChild(el("div", "meta", r.created || ""));
        ul.appendChild(li);
      });
      var want = initial.run && res.runs.some(function (r) { return r.id === initial.run; }) ? initial.run : res.runs.length === 1 ? res.runs[0].id : null;
      if (want) return openRun(want, initial);
      busy(false);
    }).catch(function (e) { showError(e); busy(false); });
  }

  function openRun(id, initial) {
    busy(true);
    showError(null);
    return api("api/run", { run: id }).then(function (info) {
      state.run = id;
      state.info = info;
      Array.prototype.forEach.call(document.querySelectorAll("#runs li.run"), function (li) { li.classList.toggle("active", li.getAttribute("data-run") === id); });
      $("run-title").textContent = (info.name || id) + " · baseline " + info.baseline;
      var w = $("warnings");
      clear(w);
      info.warnings.forEach(function (m) { w.appendChild(el("li", null, m)); });
      var sel = $("comparison");
      clear(sel);
      info.comparisons.forEach(function (c, i) {
        var o = el("option", null, c.task + " · " + c.variant + (c.variant === info.noise_floor ? " (noise floor)" : "") + " (" + c.samples + " samples)");
        o.value = String(i);
        sel.appendChild(o);
      });
      $("controls").hidden = info.comparisons.length === 0;
      if (!info.comparisons.length) {
        clear($("rows"));
        $("status").textContent = "This run has no per-sample results to compare.";
        busy(false);
        return;
      }
      var idx = info.comparisons.findIndex(function (c) { return c.task === initial.task && c.variant === initial.variant; });
      sel.value = String(idx >= 0 ? idx : 0);
      state.cmp = info.comparisons[idx >= 0 ? idx : 0];
      state.filter = FILTER_LABELS[initial.filter] ? initial.filter : "all";
      state.q = initial.q || "";
      state.offset = Math.max(0, parseInt(initial.offset || "0", 10) || 0);
      if (initial.limit) state.limit = Math.max(1, parseInt(initial.limit, 10) || 50);
      $("search").value = state.q;
      $("limit").value = String(state.limit);
      Array.prototype.forEach.call(document.querySelectorAll("input[name=filter]"), function (r) { r.checked = r.value === state.filter; });
      return loadPage();
    }).catch(function (e) { showError(e); busy(false); });
  }

  // Samples
  function loadPage() {
    var seq = ++state.seq;
    busy(true);
    return api("api/samples", { run: state.run, task: state.cmp.task, variant: state.cmp.variant, filter: state.filter, q: state.q, offset: state.offset, limit: state.limit })
      .then(function (page) {
        if (seq !== state.seq) return;
        render(page);
        writeHash();
        showError(null);
        busy(false);
      })
      .catch(function (e) { if (seq === state.seq) { showError(e); busy(false); } });
  }

  function flipKind(b, v) {
    if (b.correct === true && v.correct === false) return "correct→wrong";
    if (b.correct === false && v.correct === true) return "wrong→correct";
    return "";
  }
  function answerText(s) {
    var keys = ["output", "generation", "completion", "text"];
    for (var i = 0; i < keys.length; i++) if (typeof s[keys[i]] === "string") return s[keys[i]];
    return null;
  }

  function choicesCell(page, pair) {
    var b = pair.baseline, v = pair.variant;
    var t = el("table", "choices");
    var hr = el("tr");
    ["", "choice", page.baseline, page.variant].forEach(function (h) { hr.appendChild(el("th", null, h)); });
    t.appendChild(hr);
    b.choices.forEach(function (c, i) {
      var tr = el("tr", i === b.gold ? "gold" : null);
      tr.appendChild(el("td", "mark", i === b.gold ? "★ gold" : ""));
      tr.appendChild(el("td", "choice", c));
      [b, v].forEach(function (s) {
        var ll = s.loglikelihoods ? s.loglikelihoods[i] : null;
        var td = el("td", "ll" + (s.pred === i ? " pred" : ""), fmtLl(ll) + (s.pred === i ? " ◀" : ""));
        td.title = s.pred === i ? "this model's prediction" : "";
        tr.appendChild(td);
      });
      t.appendChild(tr);
    });
    return t;
  }

  function generationCell(page, pair) {
    var box = el("div", "gens");
    [[page.baseline, pair.baseline], [page.variant, pair.variant]].forEach(function (x) {
      var col = el("div", "gen");
      col.appendChild(el("div", "gen-head", x[0]));
      col.appendChild(el("div", "gen-text", answerText(x[1]) || ""));
      var metrics = Object.keys(x[1]).filter(function (k) { return /^embed_(l1|cos)_to_/.test(k) && typeof x[1][k] === "number"; });
      if (metrics.length) col.appendChild(el("div", "gen-meta", metrics.map(function (k) { return k.replace(/^embed_/, "") + " " + x[1][k].toFixed(4); }).join(" · ")));
      box.appendChild(col);
    });
    if (typeof pair.baseline.reference === "string") {
      var ref = el("div", "gen gold");
      ref.appendChild(el("div", "gen-head", "★ reference"));
      ref.appendChild(el("div", "gen-text", pair.baseline.reference));
      box.appendChild(ref);
    }
    return box;
  }

  function render(page) {
    Object.keys(FILTER_LABELS).forEach(function (f) {
      var span = document.querySelector("[data-label=" + f + "]");
      if (span) span.textContent = FILTER_LABELS[f] + " (" + page.counts[f] + ")";
    });
    var from = page.total ? page.offset + 1 : 0;
    var to = page.offset + page.rows.length;
    $("status").textContent = page.total ? "rows " + from + "–" + to + " of " + page.total : "no samples match";
    $("prev").disabled = page.offset <= 0;
    $("next").disabled = to >= page.total;
    var generate = page.rows.length > 0 && !Array.isArray(page.rows[0].baseline.choices);
    Array.prototype.forEach.call(document.querySelectorAll(".flip-filter"), function (l) { l.hidden = generate; });
    var tbody = $("rows");
    clear(tbody);
    page.rows.forEach(function (pair) {
      var b = pair.baseline, v = pair.variant;
      var kind = flipKind(b, v);
      var changed = Array.isArray(b.choices) ? b.pred !== v.pred : answerText(b) !== answerText(v);
      var tr = el("tr", "sample-row" + (kind === "correct→wrong" ? " worse" : kind === "wrong→correct" ? " better" : changed ? " changed" : ""));
      tr.setAttribute("data-doc-id", String(pair.doc_id));
      tr.appendChild(el("td", "doc", String(pair.doc_id)));
      var p = el("td", "prompt");
      p.appendChild(el("div", "prompt-text", typeof b.prompt === "string" ? b.prompt : typeof b.context === "string" ? b.context : ""));
      tr.appendChild(p);
      var cmp = el("td", "compare");
      cmp.appendChild(Array.isArray(b.choices) ? choicesCell(page, pair) : generationCell(page, pair));
      tr.appendChild(cmp);
      var res = el("td", "result");
      if (typeof b.correct === "boolean") res.appendChild(el("div", null, page.baseline + " " + (b.correct ? "✓" : "✗")));
      if (typeof v.correct === "boolean") res.appendChild(el("div", null, page.variant + " " + (v.correct ? "✓" : "✗")));
      res.appendChild(el("div", "kind", kind || (changed ? "changed" : "same")));
      tr.appendChild(res);
      tbody.appendChild(tr);
    });
    // Long prompts (few-shot, instructions) end with the question: show their end.
    Array.prototype.forEach.call(tbody.querySelectorAll(".prompt-text"), function (d) { d.scrollTop = d.scrollHeight; });
  }

  // Controls
  $("comparison").addEventListener("change", function (e) {
    state.cmp = state.info.comparisons[Number(e.target.value)];
    state.offset = 0;
    loadPage();
  });
  Array.prototype.forEach.call(document.querySelectorAll("input[name=filter]"), function (r) {
    r.addEventListener("change", function () { if (r.checked) { state.filter = r.value; state.offset = 0; loadPage(); } });
  });
  var timer = null;
  $("search").addEventListener("input", function (e) {
    var value = e.target.value;
    searchPending = true;
    busy(true);
    clearTimeout(timer);
    timer = setTimeout(function () { searchPending = false; state.q = value; state.offset = 0; loadPage(); }, 250);
  });
  $("limit").addEventListener("change", function (e) { state.limit = Number(e.target.value); state.offset = 0; loadPage(); });
  $("prev").addEventListener("click", function () { state.offset = Math.max(0, state.offset - state.limit); loadPage(); });
  $("next").addEventListener("click", function () { state.offset += state.limit; loadPage(); });

  loadRuns(readHash());
})();
`;

/** CSS of the viewer. */
export const VIEWER_STYLE = `
:root { --fg: #1d232a; --muted: #5b6570; --line: #dde2e7; --panel: #f6f8fa; --bad: #b42318; --badbg: #fdecea; --good: #067647; --goodbg: #e8f6ee; --chg: #fff6e0; --accent: #2f6fdf; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); }
header { padding: 12px 24px; border-bottom: 1px solid var(--line); background: var(--panel); display: flex; gap: 16px; align-items: baseline; }
header h1 { font-size: 18px; margin: 0; }
header #root { color: var(--muted); font-size: 12px; }
.layout { display: flex; align-items: flex-start; }
aside { width: 250px; flex: none; padding: 12px 16px; border-right: 1px solid var(--line); min-height: calc(100vh - 50px); }
aside h2 { font-size: 14px; margin: 4px 0 8px; }
#runs { list-style: none; margin: 0; padding: 0; }
#runs li.run { margin: 0 0 8px; padding: 6px 8px; border-radius: 6px; }
#runs li.run.active { background: #e8effc; }
#runs button { border: 0; background: none; padding: 0; font: inherit; font-weight: 600; color: var(--accent); cursor: pointer; text-align: left; word-break: break-all; }
#runs .meta { color: var(--muted); font-size: 12px; word-break: break-word; }
main { flex: 1; min-width: 0; padding: 12px 24px 40px; }
#run-title { font-size: 16px; margin: 4px 0 8px; }
#error { background: var(--badbg); color: var(--bad); padding: 8px 12px; border-radius: 4px; margin-bottom: 8px; }
#warnings { margin: 0 0 8px; padding-left: 18px; color: #8a5a00; }
.controls { display: flex; flex-wrap: wrap; gap: 12px 20px; align-items: center; margin: 8px 0; }
.controls fieldset { border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; margin: 0; display: flex; gap: 12px; }
.controls legend { font-size: 12px; color: var(--muted); }
#search { width: 260px; }
.pager { display: flex; gap: 12px; align-items: center; margin: 8px 0; }
table#samples { border-collapse: collapse; width: 100%; }
#samples > thead th { text-align: left; background: var(--panel); padding: 6px 8px; border-bottom: 1px solid var(--line); }
#samples > tbody > tr > td { padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
tr.sample-row.worse > td { background: var(--badbg); }
tr.sample-row.better > td { background: var(--goodbg); }
tr.sample-row.changed > td { background: var(--chg); }
td.doc { color: var(--muted); font-variant-numeric: tabular-nums; }
td.prompt { min-width: 260px; }
.prompt-text { white-space: pre-wrap; max-height: 9.5em; overflow: auto; max-width: 520px; }
.gen-meta { color: var(--muted); font-size: 12px; margin-top: 2px; }
label[hidden] { display: none; }
table.choices { border-collapse: collapse; font-size: 13px; }
table.choices th { font-weight: 600; color: var(--muted); text-align: left; padding: 0 8px 2px 0; }
table.choices td { padding: 1px 8px 1px 0; vertical-align: top; }
table.choices td.choice { white-space: pre-wrap; max-width: 320px; }
table.choices td.ll { font-variant-numeric: tabular-nums; white-space: nowrap; color: var(--muted); }
table.choices td.ll.pred { color: var(--fg); font-weight: 700; }
table.choices tr.gold td.choice { font-weight: 600; }
td.mark { color: #b7791f; white-space: nowrap; font-size: 12px; }
.gens { display: flex; gap: 12px; }
.gen { flex: 1; min-width: 180px; }
.gen-head { font-weight: 600; color: var(--muted); font-size: 12px; }
.gen-text { white-space: pre-wrap; max-height: 12em; overflow: auto; }
.gen.gold .gen-head { color: #b7791f; }
td.result { white-space: nowrap; font-size: 13px; }
td.result .kind { color: var(--muted); font-size: 12px; }
li.empty { color: var(--muted); }
`;

/** The page's HTML (the server allows its one inline script by hash in the CSP header). */
export function viewerHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>quanteval view</title>
<style>${VIEWER_STYLE}</style>
</head>
<body data-state="loading">
<header><h1>quanteval view</h1><span id="root"></span></header>
<div class="layout">
<aside><h2>Runs</h2><ul id="runs"></ul></aside>
<main>
<div id="error" role="alert" hidden></div>
<h2 id="run-title">Choose a run</h2>
<ul id="warnings"></ul>
<div class="controls" id="controls" hidden>
<label>comparison <select id="comparison"></select></label>
<fieldset><legend>show</legend>
<label><input type="radio" name="filter" value="all" checked> <span data-label="all">all</span></label>
<label><input type="radio" name="filter" value="changed"> <span data-label="changed">changed only</span></label>
<label class="flip-filter"><input type="radio" name="filter" value="correct_to_wrong"> <span data-label="correct_to_wrong">flips correct→wrong</span></label>
<label class="flip-filter"><input type="radio" name="filter" value="wrong_to_correct"> <span data-label="wrong_to_correct">flips wrong→correct</span></label>
</fieldset>
<label>search <input id="search" type="search" placeholder="text in prompts, choices, answers" autocomplete="off"></label>
<label>rows <select id="limit"><option>25</option><option selected>50</option><option>100</option><option>200</option></select></label>
</div>
<div class="pager"><button id="prev" type="button" disabled>◀ previous</button><span id="status"></span><button id="next" type="button" disabled>next ▶</button></div>
<table id="samples"><thead><tr><th>#</th><th>prompt</th><th>choices and log-likelihoods (◀ = prediction) or generations, side by side</th><th>result</th></tr></thead><tbody id="rows"></tbody></table>
</main>
</div>
<script>${VIEWER_SCRIPT}</script>
</body>
</html>
`;
}
