/** demo-client: talk to the demo app (examples/demo/server.mjs) over HTTP. */
import net from 'node:net';

/** Note is one row of the demo's notes table. */
export interface Note {
  id: number;
  text: string;
  created_at: string;
}

/** freePort returns a TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** postNote adds a note; throws unless the app answers 201. */
export async function postNote(base: string, text: string): Promise<Note> {
  const res = await fetch(`${base}/notes`, { method: 'POST', body: text, signal: AbortSignal.timeout(5_000) });
  if (res.status !== 201) throw new Error(`POST /notes: ${res.status} ${await res.text()}`);
  return (await res.json()) as Note;
}

/** getNotes lists the notes; throws unless the app answers 200. */
export async function getNotes(base: string): Promise<Note[]> {
  const res = await fetch(`${base}/notes`, { signal: AbortSignal.timeout(5_000) });
  if (res.status !== 200) throw new Error(`GET /notes: ${res.status} ${await res.text()}`);
  return (await res.json()) as Note[];
}
