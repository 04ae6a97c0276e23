/**
 * status-page: the page served at `/` on `addr` (by `lifeboat replicate` and by the init):
 * one static HTML document with its style and a small script inline (no build step, no
 * external resource) that reads `/status` every two seconds and shows the databases, each
 * replica's lag with a sparkline of the last hour, the last sync and error, the init's
 * services and the last log lines. A Content-Security-Policy allows only that script and
 * style, and requests to this origin.
 */
import { loadCrypto } from '../builtin.js';
import type { HttpReply } from './http-server.js';
import { STATUS_PAGE_SCRIPT } from './status-page-script.js';

const STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --muted: #6e7781; --line: #d0d7de; }
@media (prefers-color-scheme: dark) { :root { --ok: #3fb950; --bad: #f85149; --muted: #8b949e; --line: #30363d; } }
body { font: 15px/1.4 system-ui, sans-serif; margin: 0 auto; padding: 0.75rem; max-width: 60rem; }
h1 { font-size: 1.3rem; margin: 0; display: inline; }
h2 { font-size: 1.1rem; margin: 1.2rem 0 0.4rem; }
h3 { font-size: 1rem; margin: 0 0 0.3rem; overflow-wrap: anywhere; }
#health { font-weight: 600; margin-left: 0.5rem; }
.ok { color: var(--ok); }
.bad { color: var(--bad); }
#meta, #conn, .muted { color: var(--muted); margin: 0.2rem 0; font-size: 0.9rem; }
#conn.bad, dd.bad { color: var(--bad); }
#problems { color: var(--bad); padding-left: 1.2rem; overflow-wrap: anywhere; }
.db { border: 1px solid var(--line); border-radius: 6px; padding: 0.6rem; margin-bottom: 0.6rem; }
.replica { border-top: 1px solid var(--line); padding-top: 0.4rem; margin-top: 0.4rem; }
.lagline { display: flex; align-items: center; gap: 0.6rem; flex-wrap: wrap; }
.lag { font-size: 1.4rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.sparkline { display: flex; align-items: center; gap: 0.6rem; font-size: 0.8rem; }
.spark { width: 12rem; height: 2rem; flex: none; }
.spark polyline { fill: none; stroke: currentColor; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.spark .axis { stroke: var(--line); vector-effect: non-scaling-stroke; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 0.8rem; margin: 0.3rem 0 0; font-size: 0.9rem; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.9rem; width: 100%; }
th, td { text-align: left; padding: 0.2rem 0.8rem 0.2rem 0; border-bottom: 1px solid var(--line); white-space: nowrap; }
pre { font-size: 0.8rem; white-space: pre-wrap; overflow-wrap: anywhere; border: 1px solid var(--line); border-radius: 6px; padding: 0.5rem; max-height: 24rem; overflow-y: auto; }
`;

const BODY = `
<header>
<h1>Lifeboat</h1><span id="health">…</span>
<p id="meta"></p>
<p id="conn">loading…</p>
</header>
<main>
<ul id="problems"></ul>
<section><h2>Databases</h2><div id="databases"></div></section>
<section id="services-section" hidden><h2>Services</h2>
<div class="scroll"><table>
<thead><tr><th>service</th><th>state</th><th>pid</th><th>up</th><th>restarts</th><th>last exit</th></tr></thead>
<tbody id="services"></tbody>
</table></div></section>
<section id="log-section" hidden><h2>Last log lines</h2><pre id="log"></pre></section>
<noscript><p>This page needs JavaScript: the same data is at <a href="status">/status</a>.</p></noscript>
</main>
`;

/** STATUS_PAGE is the whole HTML document. */
export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lifeboat status</title>
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${STATUS_PAGE_SCRIPT}</script>
</body>
</html>
`;

/** STATUS_PAGE_TYPE is the page's content type. */
export const STATUS_PAGE_TYPE = 'text/html; charset=utf-8';

let headers: Record<string, string> | undefined;

/** statusPageReply is the answer to `GET /`: the page, with a policy that lets only its own script and style run. */
export async function statusPageReply(): Promise<HttpReply> {
  headers ??= await pageHeaders();
  return { status: 200, type: STATUS_PAGE_TYPE, body: STATUS_PAGE, headers };
}

/** pageHeaders name the inline script and style by their hashes (node:crypto is loaded at the first request, not at the init's boot). */
async function pageHeaders(): Promise<Record<string, string>> {
  const { createHash } = loadCrypto();
  const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
  const policy = [
    "default-src 'none'",
    `script-src ${sha256(STATUS_PAGE_SCRIPT)}`,
    `style-src ${sha256(STYLE)}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ];
  return { 'Content-Security-Policy': policy.join('; '), 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };
}
