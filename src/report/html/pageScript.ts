// The report page's own script, as text placed in an inline <script>. It reads the data from
// <script type="application/json" id="quanteval-data"> and builds the page with createElement
// and textContent only (never innerHTML), so text from prompts, task or model names is inert.
// It is written as a plain ES2017 string rather than compiled TypeScript because the compiler's
// helpers would not exist in the page.

/** Browser JavaScript of the report page. */
export const REPORT_PAGE_SCRIPT = String.raw`(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("quanteval-data").textContent);
  var main = document.getElementById("main");
  var nav = document.getElementById("toc");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function section(id, title, caption) {
    var s = el("section", "block");
    s.id = id;
    s.appendChild(el("h2", null, title));
    if (caption) s.appendChild(el("p", "caption", caption));
    main.appendChild(s);
    var li = el("li");
    var a = el("a", null, title);
    a.href = "#" + id;
    li.appendChild(a);
    nav.appendChild(li);
    return s;
  }
  function table(t, cls) {
    var wrap = el("div", "table-wrap");
    var tb = el("table", cls || null);
    var thead = el("thead");
    var hr = el("tr");
    t.head.forEach(function (h) { hr.appendChild(el("th", null, h)); });
    thead.appendChild(hr);
    tb.appendChild(thead);
    var body = el("tbody");
    t.rows.forEach(function (r, i) {
      var tr = el("tr", t.rowClasses && t.rowClasses[i] ? t.rowClasses[i] : null);
      r.forEach(function (c) { tr.appendChild(el("td", null, c)); });
      body.appendChild(tr);
    });
    tb.appendChild(body);
    wrap.appendChild(tb);
    return wrap;
  }

  // Header
  document.title = data.title;
  document.getElementById("run-title").textContent = data.title;
  var sub = document.getElementById("run-sub");
  sub.textContent = "baseline " + data.baseline + " · variants " + (data.variants.join(", ") || "none") + (data.noise_floor ? " · noise floor " + data.noise_floor : "") + " · " + data.created;

  // Warnings, prominently, before anything else.
  if (data.warnings.length) {
    var w = el("section", "warnings");
    w.id = "warnings";
    w.setAttribute("role", "alert");
    w.appendChild(el("h2", null, data.warnings.length === 1 ? "1 warning" : data.warnings.length + " warnings"));
    var ul = el("ul");
    data.warnings.forEach(function (m) { ul.appendChild(el("li", /does not reproduce/.test(m) ? "severe" : null, m)); });
    w.appendChild(ul);
    main.appendChild(w);
  }

  if (data.variants.length && data.verdict.table.rows.length) {
    var v = section("verdict", "Verdict", null);
    data.verdict.lines.forEach(function (line) { v.appendChild(el("p", "verdict-line", line)); });
    v.appendChild(table(data.verdict.table));
    v.appendChild(el("p", "caption", data.verdict.table.title));
  }

  var t = data.tables;
  if (t.summary.rows.length) {
    var s = section("summary", "Against the baseline", "Each variant against the baseline per task metric: Δ with its 95% paired-bootstrap CI, recovery (variant/baseline), McNemar p, flips (correct→wrong / wrong→correct) and whether the change is significant (CI excludes 0 and |Δ| exceeds the noise floor). Red rows got significantly worse, green significantly better.");
    s.appendChild(table(t.summary, "summary"));
  }

  var charts = [];
  data.charts.forEach(function (c) {
    var s = section("chart-" + c.id, c.title, c.caption);
    var div = el("div", "chart");
    div.setAttribute("data-chart", c.id);
    s.appendChild(div);
    charts.push({ div: div, spec: c.spec, id: c.id });
  });

  if (t.frontier.rows.length && data.has_quality) section("frontier-table", "Frontier table", null).appendChild(table(t.frontier));
  if (t.kld.rows.length) section("kld-table", "KL divergence percentiles", null).appendChild(table(t.kld));
  if (t.drift.rows.length) section("drift", "Distribution drift", "Perplexity ratio, KL divergence and top-token agreement per variant.").appendChild(table(t.drift));
  if (t.scores.rows.length) section("scores", "Scores", "Every model's score per task metric.").appendChild(table(t.scores));
  t.extra.forEach(function (x, i) { section("extra-" + i, x.title, null).appendChild(table(x)); });

  if (data.examples && data.examples.length) {
    var ex = section("examples", "Flipped samples", "Samples whose answer changed between the baseline and a variant (first few per comparison; open the full set with quanteval view).");
    ex.appendChild(table({
      head: ["task", "variant", "doc", "flip", "prompt", "gold", "baseline answer", "variant answer"],
      rows: data.examples.map(function (e) { return [e.task, e.variant, String(e.doc_id), e.kind, e.prompt, e.gold, e.baseline_answer, e.variant_answer]; }),
      rowClasses: data.examples.map(function (e) { return e.kind === "correct→wrong" ? "worse" : e.kind === "wrong→correct" ? "better" : ""; })
    }, "examples"));
  }

  section("models", "Models", null).appendChild(table(t.models));
  var m = section("manifest", "Reproducibility manifest", "Everything needed to run this evaluation again and get the same numbers.");
  m.appendChild(table(t.manifest));
  var det = el("details");
  det.appendChild(el("summary", null, "full manifest (JSON)"));
  det.appendChild(el("pre", "manifest-json", JSON.stringify(data.manifest, null, 2)));
  m.appendChild(det);
  document.getElementById("libs").textContent = data.libraries.map(function (l) { return l.name + " " + l.version; }).join(", ");

  // Charts last, so a chart error never hides a table.
  var done = 0, failed = [];
  function settle() {
    if (done + failed.length === charts.length) {
      document.body.setAttribute("data-charts-rendered", String(done));
      document.body.setAttribute("data-charts-failed", String(failed.length));
    }
  }
  settle();
  charts.forEach(function (c) {
    // ast: true evaluates Vega expressions with an interpreter, so the page needs no eval.
    window.vegaEmbed(c.div, c.spec, { actions: false, renderer: "svg", mode: "vega-lite", ast: true })
      .then(function () { done++; settle(); })
      .catch(function (err) {
        failed.push(c.id);
        c.div.appendChild(el("p", "chart-error", "chart failed: " + (err && err.message ? err.message : String(err))));
        settle();
      });
  });
})();
`;
