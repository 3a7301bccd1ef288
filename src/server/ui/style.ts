/** The web UI's styles: system fonts, high-contrast colours (WCAG AA), a visible focus ring. */
export const styleCss = String.raw`
:root { --fg: #1a1a1a; --muted: #4a4a4a; --bg: #ffffff; --line: #c8c8c8; --accent: #0b5cad; --bad: #a61b1b; --ok: #1b6b2a; --warn: #7a4b00; --changed: #fff1b8; --panel: #f5f6f8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #e07b00; outline-offset: 2px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 10; }
.top { display: flex; align-items: center; gap: 24px; padding: 10px 20px; background: #16202c; color: #fff; }
.top a { color: #fff; margin-right: 16px; font-weight: 600; }
.top a[aria-current="page"] { text-decoration: underline; text-underline-offset: 4px; }
.top .who { color: #d8dde3; margin-right: 12px; }
.brand { font-weight: 700; font-size: 17px; }
nav { display: flex; align-items: center; }
main { padding: 16px 20px 40px; max-width: 1200px; }
h1 { font-size: 22px; margin: 8px 0 12px; }
h2 { font-size: 17px; margin: 24px 0 8px; }
.status { margin: 0; padding: 0 20px; min-height: 0; }
.status:not(:empty) { padding: 8px 20px; background: #e8f1fb; }
.error { color: var(--bad); font-weight: 600; }
button, input, select, textarea { font: inherit; color: inherit; }
button { padding: 5px 14px; border: 1px solid #16202c; border-radius: 4px; background: #fff; cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
button:disabled { opacity: 0.55; cursor: not-allowed; }
.top button { background: transparent; color: #fff; border-color: #fff; }
input, select, textarea { padding: 4px 6px; border: 1px solid #6b6b6b; border-radius: 3px; background: #fff; }
label { font-weight: 600; }
.filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-end; padding: 12px; background: var(--panel); border-radius: 6px; }
.filters div { display: flex; flex-direction: column; gap: 2px; }
.filters input { width: 9em; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tfoot td { font-weight: 700; border-top: 2px solid var(--fg); }
tr.failure-point { background: #fde8e8; }
tr.failure-point td:first-child { border-left: 4px solid var(--bad); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 13px; font-weight: 600; border: 1px solid currentColor; }
.badge.done { color: var(--ok); } .badge.failed, .badge.cancelled { color: var(--bad); } .badge.waiting, .badge.budget_exhausted { color: var(--warn); } .badge.running { color: var(--accent); }
.totals { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; margin: 0; }
.totals div { background: var(--panel); padding: 8px 10px; border-radius: 6px; }
.totals dt { font-size: 13px; color: var(--muted); }
.totals dd { margin: 0; font-size: 18px; font-weight: 700; font-variant-numeric: tabular-nums; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) minmax(280px, 460px); gap: 24px; align-items: start; }
@media (max-width: 900px) { .layout { grid-template-columns: 1fr; } }
.diagram { margin: 0; }
.diagram img { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.panel { border: 2px solid var(--warn); border-radius: 6px; padding: 12px 14px; margin: 12px 0; background: #fffaf0; }
.panel h2 { margin-top: 0; }
.actions { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 10px; align-items: flex-end; }
pre { background: var(--panel); padding: 8px 10px; border-radius: 6px; overflow: auto; max-height: 320px; font-size: 13px; }
.entry { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin: 14px 0; }
.entry h2 { margin: 0 0 6px; }
.meta { color: var(--muted); margin: 0 0 8px; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; padding: 6px 12px 10px; }
legend { font-weight: 700; padding: 0 4px; }
.field { display: grid; grid-template-columns: minmax(120px, 200px) minmax(0, 1fr); gap: 4px 12px; align-items: start; padding: 4px 6px; border-radius: 4px; }
.field input[type="text"], .field input[type="number"], .field textarea, .field select { width: 100%; max-width: 480px; }
.field .hint { grid-column: 2; font-size: 13px; color: var(--muted); }
.field.changed, fieldset.changed { background: var(--changed); box-shadow: inset 4px 0 0 var(--warn); }
.changed-mark { font-size: 12px; font-weight: 700; color: var(--warn); margin-left: 6px; }
.item { display: flex; gap: 6px; margin: 3px 0; }
.login { max-width: 420px; margin: 40px auto; padding: 20px; border: 1px solid var(--line); border-radius: 8px; }
.login div { display: flex; flex-direction: column; gap: 4px; margin: 12px 0; }
.muted { color: var(--muted); }
`;
