/**
 * status-page-script: the status page's script (status-page.ts), plain browser JavaScript
 * in a string: every STATUS_REFRESH_MS it fetches `status?history=1` (relative: it works
 * behind a path prefix) and renders it. Data is only ever set as text (`textContent`,
 * SVG attributes of numbers), never parsed as HTML.
 */

/** STATUS_REFRESH_MS is how often the page reads the status document. */
export const STATUS_REFRESH_MS = 2_000;

/** STATUS_PAGE_SCRIPT is the page's script. */
export const STATUS_PAGE_SCRIPT = `'use strict';
var REFRESH_MS = ${STATUS_REFRESH_MS}, HOUR = 3600000, SVG = 'http://www.w3.org/2000/svg';
function $(id) { return document.getElementById(id); }
function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function add(parent, children) { children.forEach(function (c) { parent.appendChild(c); }); return parent; }
function hex(n) { var s = n.toString(16); while (s.length < 8) s = '0' + s; return s; }
function pos(p) { return p ? p.generation + ' ' + hex(p.index) + ':' + hex(p.offset) : '-'; }
function dur(ms) {
  if (ms === null || ms === undefined) return '-';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h > 0 ? h + 'h ' + m + 'm' : m + 'm ' + (s % 60) + 's';
}
function ago(iso, now) { return iso ? dur(Math.max(0, now - Date.parse(iso))) + ' ago' : 'never'; }
function fields(pairs) {
  var dl = el('dl');
  pairs.forEach(function (p) { add(dl, [el('dt', '', p[0]), el('dd', p[2] || '', p[1])]); });
  return dl;
}
function svg(tag, attrs) {
  var e = document.createElementNS(SVG, tag);
  Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
  return e;
}
function spark(points, now) {
  var W = 120, H = 30, max = 0;
  points.forEach(function (p) { if (p[1] > max) max = p[1]; });
  var xy = points.map(function (p) {
    var x = Math.max(0, W * (1 - (now - p[0]) / HOUR)), y = H - 1 - (max > 0 ? ((H - 2) * p[1]) / max : 0);
    return x.toFixed(1) + ',' + y.toFixed(1);
  });
  var box = add(svg('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', 'class': 'spark' }), [
    svg('line', { x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5, 'class': 'axis' }),
    svg('polyline', { points: xy.join(' ') }),
  ]);
  return add(el('div', 'sparkline'), [box, el('span', 'muted', 'last hour, at most ' + dur(max))]);
}
function replica(r, now) {
  var box = el('div', 'replica');
  box.setAttribute('data-replica', r.name);
  var lag = el('span', 'lag', dur(r.lag_ms));
  lag.title = r.lag_ms === null ? 'lag unknown' : r.lag_ms + ' ms';
  var line = add(el('div', 'lagline'), [el('strong', 'name', r.name), lag, el('span', r.caught_up ? 'ok' : 'muted', r.caught_up ? 'caught up' : 'behind')]);
  add(box, [line]);
  if (r.lag_history && r.lag_history.length > 1) box.appendChild(spark(r.lag_history, now));
  var err = r.last_error ? r.last_error + ' (' + ago(r.last_error_at, now) + (r.failing ? ', failing' : ', recovered') + ')' : '-';
  return add(box, [fields([
    ['position', pos(r.position), 'position'],
    ['last sync', ago(r.last_sync, now), 'last-sync'],
    ['last error', err, r.failing ? 'bad' : ''],
    ['sync errors', r.sync_errors],
  ])]);
}
function database(db, now) {
  var card = el('article', 'db');
  card.setAttribute('data-db', db.path);
  add(card, [el('h3', 'path', db.path), fields([['state', db.state], ['position', pos(db.position), 'position']])]);
  return add(card, db.replicas.map(function (r) { return replica(r, now); }));
}
function service(s) {
  var tr = el('tr');
  tr.setAttribute('data-service', s.name);
  var cells = [[s.name], [s.state + (s.unhealthy ? ' (crash loop)' : ''), s.unhealthy ? 'bad' : ''], [s.pid === null ? '-' : s.pid],
    [dur(s.uptime_ms)], [s.restarts, 'restarts'], [s.last_exit === null ? '-' : s.last_exit]];
  return add(tr, cells.map(function (c) { return el('td', c[1] || '', c[0]); }));
}
function render(doc) {
  var now = Date.parse(doc.time);
  $('health').textContent = doc.healthy ? 'healthy' : 'unhealthy';
  $('health').className = doc.healthy ? 'ok' : 'bad';
  var up = doc.uptime_ms === undefined ? '' : (doc.services ? ' · init up ' : ' · up ') + dur(doc.uptime_ms);
  $('meta').textContent = 'replicator ' + doc.replicator + (doc.pid ? ' (pid ' + doc.pid + ')' : '') + up + ' · max-lag ' + dur(doc.max_lag_ms);
  $('problems').replaceChildren.apply($('problems'), doc.problems.map(function (p) { return el('li', '', p); }));
  $('databases').replaceChildren.apply($('databases'), doc.databases.map(function (d) { return database(d, now); }));
  if (!doc.databases.length) $('databases').appendChild(el('p', 'muted', 'no databases in the config'));
  $('services-section').hidden = !doc.services;
  $('services').replaceChildren.apply($('services'), (doc.services || []).map(service));
  $('log-section').hidden = !doc.recent_log;
  var log = $('log'), atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  log.textContent = (doc.recent_log || []).join('\\n');
  if (atEnd) log.scrollTop = log.scrollHeight;
}
function tick() {
  if (document.hidden) return void setTimeout(tick, REFRESH_MS);
  fetch('status?history=1', { cache: 'no-store' })
    .then(function (res) { if (!res.ok) throw new Error('HTTP ' + res.status); return res.json(); })
    .then(function (doc) {
      render(doc);
      $('conn').textContent = 'updated ' + new Date().toLocaleTimeString();
      $('conn').className = '';
    })
    .catch(function (err) {
      $('conn').textContent = 'cannot read the status: ' + err.message;
      $('conn').className = 'bad';
    })
    .then(function () { setTimeout(tick, REFRESH_MS); });
}
tick();
`;
