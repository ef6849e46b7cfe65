/**
 * The dashboard's stylesheet. Problems are red (`bad`: unreachable, lost, down, quorum
 * degraded) or amber (`warn`: lagging); data the page could not refresh is greyed (`stale`).
 */
export const styleCss = `:root {
  color-scheme: light;
  --bad: #b42318;
  --bad-bg: #fef3f2;
  --warn: #93370d;
  --warn-bg: #fffaeb;
  --ok: #067647;
  --line: #d0d5dd;
  --muted: #667085;
}
* { box-sizing: border-box; }
/* Above every display rule below: a hidden form or section stays hidden. */
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #101828; background: #f9fafb; }
header { display: flex; align-items: center; gap: 1.5rem; padding: 0.6rem 1.5rem; background: #101828; color: #fff; }
header h1 { margin: 0; font-size: 1.2rem; }
header p { margin: 0; flex: 1; color: #d0d5dd; }
header p.bad { color: #fff; background: var(--bad); padding: 0.2rem 0.6rem; border-radius: 4px; }
main { padding: 1rem 1.5rem; max-width: 80rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 0.5rem 1rem 1rem; margin-bottom: 1rem; }
h2 { font-size: 1rem; margin: 0.5rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0; }
dt { color: var(--muted); font-family: ui-monospace, monospace; }
dd { margin: 0; font-family: ui-monospace, monospace; }
table { border-collapse: collapse; width: 100%; font-family: ui-monospace, monospace; }
th { text-align: left; color: var(--muted); font-weight: normal; border-bottom: 1px solid var(--line); padding: 0.25rem 0.5rem; }
td { border-bottom: 1px solid #eaecf0; padding: 0.25rem 0.5rem; vertical-align: top; }
tr.bad td { background: var(--bad-bg); }
tr.warn td { background: var(--warn-bg); }
.bad { color: var(--bad); font-weight: 600; }
.warn { color: var(--warn); font-weight: 600; }
.ok { color: var(--ok); font-weight: 600; }
.muted { color: var(--muted); }
ul#warnings { margin: 0.6rem 0 0; padding: 0; list-style: none; }
ul#warnings li { color: var(--warn); background: var(--warn-bg); padding: 0.25rem 0.5rem; margin-top: 0.25rem; border-radius: 4px; font-family: ui-monospace, monospace; }
ol#events { margin: 0; padding: 0; list-style: none; font-family: ui-monospace, monospace; max-height: 20rem; overflow-y: auto; }
ol#events li { padding: 0.15rem 0; border-bottom: 1px solid #eaecf0; }
ol#events time { color: var(--muted); margin-right: 0.75rem; }
ol#events .type { display: inline-block; min-width: 10rem; }
p:empty { display: none; }
.stale { opacity: 0.45; }
form#login { display: grid; gap: 0.5rem; max-width: 28rem; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem; }
form#login h2 { margin: 0; }
input, button { font: inherit; padding: 0.35rem 0.6rem; }
header button { background: transparent; color: #fff; border: 1px solid #667085; border-radius: 4px; cursor: pointer; }
form#login button { justify-self: start; }
`;
