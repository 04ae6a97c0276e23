#!/usr/bin/env node
/**
 * server: the Lifeboat demo app — a tiny notes service over HTTP on one SQLite database,
 * written the way an app under Lifeboat should be (docs/app-requirements.md): WAL mode,
 * a busy timeout, no checkpoints of its own, one process writing, and a clean exit on
 * SIGTERM/SIGINT.
 *
 *   POST /notes    body: the note's text (plain text, or JSON {"text": "..."}) → 201 + the note
 *   GET  /notes    → 200 + [{id, text, created_at}, …] (oldest first)
 *   GET  /healthz  → 200 "ok" when the database answers
 *
 * Settings (environment): DB_PATH (default ./demo.db), PORT (8080), HOST (all interfaces).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';

const DB_PATH = path.resolve(process.env.DB_PATH || 'demo.db');
const PORT = Number(process.env.PORT || 8080);
const HOST = process.env.HOST || undefined;
const MAX_BODY = 64 * 1024;

fs.mkdirSync(path.dirname(DB_PATH), { recursive: true });
const db = new Database(DB_PATH);
// WAL mode: the replicator reads the WAL; busy_timeout: wait instead of failing while it
// holds its lock for a moment (docs/app-requirements.md).
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 5000');
db.exec('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL, created_at TEXT NOT NULL)');
const insert = db.prepare("INSERT INTO notes (text, created_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) RETURNING *");
const list = db.prepare('SELECT id, text, created_at FROM notes ORDER BY id');
const ping = db.prepare('SELECT count(*) AS n FROM notes');

/** send writes a JSON (or text) response. */
function send(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(text + '\n');
}

/** readBody collects a request body of at most MAX_BODY bytes. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** noteText takes the text from a JSON {"text": …} body or the raw body. */
function noteText(body, type) {
  if (!(type || '').includes('json')) return body.trim();
  const parsed = JSON.parse(body);
  return typeof parsed?.text === 'string' ? parsed.text.trim() : '';
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/healthz' && req.method === 'GET') return send(res, 200, `ok ${ping.get().n} notes`);
  if (url.pathname !== '/notes') return send(res, 404, 'not found');
  if (req.method === 'GET') return send(res, 200, list.all());
  if (req.method !== 'POST') return send(res, 405, 'use GET or POST');
  const text = noteText(await readBody(req), req.headers['content-type']);
  if (!text) return send(res, 400, 'empty note: send the text as the body, or JSON {"text": "..."}');
  return send(res, 201, insert.get(text));
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => send(res, 400, `bad request: ${err.message}`));
});

server.listen(PORT, HOST, () => {
  const { port } = server.address();
  console.log(`demo: listening on port ${port}, database ${DB_PATH} (${ping.get().n} notes)`);
});

// Stop cleanly: no new connections, close idle ones, close the database, exit 0.
let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`demo: ${signal}: closing`);
  server.close(() => {
    db.close();
    process.exit(0);
  });
  server.closeIdleConnections();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
