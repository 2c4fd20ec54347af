/// The UI's stylesheet: system fonts, one accent colour, light and dark, readable from a
/// phone to a wide screen. Focus is always visible.
enum AssetStyle {
    static let source = #"""
:root { --bg: #f6f7f9; --panel: #fff; --text: #1c2330; --muted: #5b6577; --line: #dde1e7;
  --accent: #2457c5; --accent-text: #fff; --ok: #1b7f3b; --bad: #b42318; --warn: #a15c00; --busy: #6941c6;
  --code: #0f1720; --code-text: #e6edf3; color-scheme: light dark; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #10141b; --panel: #171c25; --text: #e6e9ef; --muted: #9aa4b5; --line: #2a3240;
    --accent: #6d9bff; --accent-text: #0b1020; --ok: #4cc27a; --bad: #ff7b72; --warn: #e3a33b; --busy: #b69cff; }
}
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg);
  color: var(--text); line-height: 1.45; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; border-radius: 3px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--panel); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; }
header.top { background: var(--panel); border-bottom: 1px solid var(--line); }
header.top nav { max-width: 1240px; margin: 0 auto; display: flex; flex-wrap: wrap; align-items: center;
  gap: .25rem 1rem; padding: .5rem 1rem; }
.brand { font-weight: 700; font-size: 1.15rem; text-decoration: none; color: var(--text); margin-right: .5rem; }
.nav-links { display: flex; flex-wrap: wrap; gap: .1rem .25rem; list-style: none; margin: 0; padding: 0; }
.nav-links a { display: block; padding: .35rem .6rem; border-radius: 6px; text-decoration: none; color: var(--muted); }
.nav-links a[aria-current=page] { background: var(--bg); color: var(--text); font-weight: 600; }
.nav-links a:hover { color: var(--text); }
.nav-end { margin-left: auto; display: flex; align-items: center; gap: .75rem; }
.live { font-size: .85rem; color: var(--muted); }
.live.on { color: var(--ok); }
main { max-width: 1240px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.page-head { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5rem; }
.page-head h1 { margin-bottom: .5rem; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin-bottom: 1rem; }
.panel > h2:first-child, .panel > h1:first-child { margin-top: 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 1rem; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
@media (max-width: 760px) { .cols { grid-template-columns: 1fr; } }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; }
.card h3 { margin: 0 0 .25rem; font-size: 1rem; display: flex; justify-content: space-between; gap: .5rem; }
.card h3 a { overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.small { font-size: .85rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .5rem .75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); white-space: nowrap; }
tr:last-child td { border-bottom: none; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td .wrap { overflow-wrap: anywhere; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600;
  border: 1px solid currentColor; white-space: nowrap; }
.s-online, .s-idle, .s-completed, .s-passed { color: var(--ok); }
.s-offline, .s-failed, .s-error, .s-cancelled { color: var(--bad); }
.s-busy, .s-running, .s-dispatched { color: var(--busy); }
.s-queued, .s-draft, .s-provisioned { color: var(--warn); }
progress { width: 100%; height: .8rem; accent-color: var(--accent); }
.empty { text-align: center; padding: 2rem 1rem; color: var(--muted); background: var(--panel);
  border: 1px dashed var(--line); border-radius: 8px; }
.empty p { margin: .25rem 0 .75rem; }
.button, button { font: inherit; display: inline-block; padding: .45rem .9rem; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text); text-decoration: none; }
.button.secondary, button.secondary { background: transparent; color: var(--accent); }
button.danger { background: transparent; color: var(--bad); border-color: var(--bad); }
button:disabled { opacity: .6; cursor: progress; }
form.stack { display: grid; gap: .9rem; max-width: 720px; }
.field { display: grid; gap: .25rem; align-content: start; }
.field label, fieldset legend { font-weight: 600; }
.hint { color: var(--muted); font-size: .85rem; }
input[type=text], input[type=password], input[type=number], input[type=search], select, textarea {
  font: inherit; width: 100%; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px;
  background: var(--bg); color: var(--text); }
textarea { min-height: 5rem; font-family: ui-monospace, monospace; }
fieldset { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .8rem; margin: 0; }
.checks { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; }
.checks label { font-weight: normal; display: flex; gap: .35rem; align-items: center; }
[aria-invalid=true] { border-color: var(--bad) !important; }
.field-error, .form-error { color: var(--bad); margin: 0; font-size: .9rem; }
.form-status { color: var(--muted); margin: 0; }
.check-result { padding: .5rem .75rem; border-radius: 6px; border: 1px solid var(--line); margin: 0; }
.check-result.ok { color: var(--ok); border-color: var(--ok); }
.check-result.bad { color: var(--bad); border-color: var(--bad); }
.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: 1rem; }
.filters .field { min-width: 10rem; flex: 1 1 10rem; }
.devon-search { margin-bottom: 0; }
.devon-search .hint { flex-basis: 100%; margin: 0; }
.devon-search .hint:empty { display: none; }
.table-wrap + .actions { margin-top: .75rem; }
.pager { display: flex; gap: .5rem; align-items: center; justify-content: center; margin: 1rem 0; flex-wrap: wrap; }
pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
pre.log, pre.script { background: var(--code); color: var(--code-text); padding: .75rem; border-radius: 6px;
  overflow: auto; max-height: 28rem; font-size: .85rem; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.secret { background: var(--code); color: var(--code-text); padding: .5rem; border-radius: 6px; overflow-wrap: anywhere; }
.notice { padding: .6rem .9rem; border-radius: 6px; border: 1px solid var(--warn); color: var(--warn); margin-bottom: 1rem; }
.error-box { padding: .6rem .9rem; border-radius: 6px; border: 1px solid var(--bad); color: var(--bad); margin-bottom: 1rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); gap: 1rem; }
@media (max-width: 480px) { .charts { grid-template-columns: 1fr; } }
figure.chart { margin: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .75rem; }
figure.chart figcaption { font-weight: 600; margin-bottom: .25rem; overflow-wrap: anywhere; }
svg.bars { width: 100%; max-width: 560px; height: auto; display: block; }
svg.bars.narrow { display: none; }
svg.bars text { fill: var(--text); font-size: 14px; }
svg.bars text.value { fill: var(--muted); }
svg.bars rect.bar { fill: var(--accent); opacity: .55; }
svg.bars rect.bar.best { fill: var(--ok); opacity: .9; }
.tags { display: flex; flex-wrap: wrap; gap: .25rem; }
.tag { background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 0 .4rem; font-size: .8rem; }
@media (max-width: 600px) {
  main { padding: .75rem; }
  dl.facts { grid-template-columns: minmax(0, 40%) 1fr; gap: .25rem .75rem; }
  td > a.wrap, td > span.wrap { display: inline-block; min-width: 7rem; }
  svg.bars.wide { display: none; }
  svg.bars.narrow { display: block; max-width: 400px; }
  /* The nav: brand and sign-in on one line, the links on one line below that scrolls sideways. */
  header.top nav { display: grid; grid-template-columns: auto 1fr; gap: .25rem .5rem; padding: .4rem .75rem; }
  .nav-end { justify-self: end; gap: .5rem; }
  .nav-links { grid-column: 1 / -1; grid-row: 2; flex-wrap: nowrap; overflow-x: auto; scrollbar-width: none; position: relative;
    -webkit-overflow-scrolling: touch; }
  .nav-links a { padding: .3rem .5rem; white-space: nowrap; }
  .nav-links.more { mask-image: linear-gradient(to right, #000 80%, transparent); }
  th, td { padding: .4rem .5rem; }
  .hide-narrow { display: none; }
}
"""#
}
