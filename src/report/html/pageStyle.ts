// The report page's stylesheet (inline; the file must open from disk with no network).

/** CSS of the report page. */
export const REPORT_PAGE_STYLE = `
:root { --fg: #1d232a; --muted: #5b6570; --line: #dde2e7; --bg: #fff; --panel: #f6f8fa; --bad: #b42318; --badbg: #fdecea; --good: #067647; --goodbg: #e8f6ee; --warnbg: #fff6e0; --warnline: #e4a11b; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 20px 32px 12px; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .sub { color: var(--muted); }
.layout { display: flex; align-items: flex-start; }
nav { position: sticky; top: 0; width: 220px; flex: none; padding: 16px 12px 16px 24px; font-size: 13px; max-height: 100vh; overflow: auto; }
nav ol { padding-left: 18px; margin: 0; }
nav li { margin: 3px 0; }
nav a { color: var(--fg); text-decoration: none; }
nav a:hover { text-decoration: underline; }
main { flex: 1; min-width: 0; padding: 8px 32px 40px 8px; max-width: 1400px; }
section.block { margin: 18px 0 28px; }
h2 { font-size: 17px; margin: 0 0 4px; }
.caption { color: var(--muted); margin: 0 0 10px; max-width: 900px; }
.warnings { margin: 16px 0; padding: 12px 16px; background: var(--warnbg); border-left: 5px solid var(--warnline); border-radius: 4px; }
.warnings h2 { color: #8a5a00; }
.warnings ul { margin: 6px 0 0; padding-left: 20px; }
.warnings li.severe { color: var(--bad); font-weight: 600; }
.table-wrap { overflow-x: auto; }
.verdict-line { font-size: 15px; margin: 4px 0 8px; font-weight: 500; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; white-space: nowrap; }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
tr.worse td { background: var(--badbg); color: var(--bad); }
tr.better td { background: var(--goodbg); color: var(--good); }
tr.noise td { color: var(--muted); font-style: italic; }
table.examples td { white-space: pre-wrap; max-width: 380px; }
.chart { padding: 8px 0; }
.chart-error { color: var(--bad); }
pre.manifest-json { background: var(--panel); padding: 12px; overflow: auto; max-height: 480px; font-size: 12px; }
footer { color: var(--muted); font-size: 12px; padding: 12px 32px 24px; border-top: 1px solid var(--line); }
@media print { nav { display: none; } }
`;
