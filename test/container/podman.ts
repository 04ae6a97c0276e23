/**
 * podman: run the image built by build-image.sh with podman, the way that works on a
 * machine without a Docker engine, as root in a VM: the script's own vfs storage, the runc
 * runtime (crun fails on setrlimit there) and lowered ulimits. Containers use the host's network, so the demo app and an s3rver on
 * 127.0.0.1 reach each other.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logFile } from '../helpers/capture.js';
import { ROOT } from '../helpers/cli.js';

/** STORAGE_ROOT is build-image.sh's podman/buildah storage (LIFEBOAT_CONTAINER_ROOT). */
export const STORAGE_ROOT = process.env.LIFEBOAT_CONTAINER_ROOT || '/var/tmp/lifeboat-containers';

/** IMAGE is the tag build-image.sh builds (LIFEBOAT_IMAGE). */
export const IMAGE = process.env.LIFEBOAT_IMAGE || 'localhost/lifeboat:test';

/** BUILD_SCRIPT builds the base and the image. */
export const BUILD_SCRIPT = path.join(ROOT, 'test/container/build-image.sh');

const STORE = ['--root', `${STORAGE_ROOT}/storage`, '--runroot', `${STORAGE_ROOT}/run`, '--storage-driver', 'vfs'];
const RUNTIME = ['--runtime', 'runc', '--ulimit', 'nofile=1000:1000', '--ulimit', 'nproc=1000:1000'];

/** TOOLS are the commands the container test needs. */
export const TOOLS = ['podman', 'buildah', 'runc', 'debootstrap'];

/** skipReason says why the container test cannot run here, or undefined when it can. */
export function skipReason(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (podman with vfs storage and debootstrap need root)';
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  const missing = TOOLS.filter((t) => !dirs.some((d) => d && fs.existsSync(path.join(d, t))));
  if (missing.length > 0) return `missing ${missing.join(', ')} (apt-get install podman buildah runc debootstrap uidmap)`;
  return undefined;
}

/** podman runs `podman <storage flags> ARGS`; never throws on a non-zero exit. */
export async function podman(args: string[], timeoutMs = 120_000) {
  return execa('podman', [...STORE, ...args], { reject: false, all: true, timeout: timeoutMs });
}

/** podmanOk runs podman and throws with its output unless it exits 0; returns stdout. */
export async function podmanOk(args: string[], timeoutMs?: number): Promise<string> {
  const r = await podman(args, timeoutMs);
  if (r.exitCode !== 0) throw new Error(`podman ${args.join(' ')}: exit ${r.exitCode}\n${r.all}`);
  return String(r.stdout).trim();
}

/** RunOptions describe one `podman run -d`. */
export interface RunOptions {
  name: string;
  env?: Record<string, string>;
  /** volumes map host paths to container paths. */
  volumes?: Record<string, string>;
  entrypoint?: string[];
  /** command replaces the image's CMD. */
  command?: string[];
}

/** runDetached starts a container on the host network; returns its name. */
export async function runDetached(opts: RunOptions): Promise<string> {
  const args = ['run', '-d', ...RUNTIME, '--network', 'host', '--name', opts.name];
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push('-e', `${k}=${v}`);
  for (const [host, inside] of Object.entries(opts.volumes ?? {})) args.push('-v', `${host}:${inside}`);
  if (opts.entrypoint) args.push('--entrypoint', JSON.stringify(opts.entrypoint));
  args.push(IMAGE, ...(opts.command ?? []));
  await podmanOk(args);
  return opts.name;
}

/** runOnce runs a container to completion (removed after) and returns its exit code and output (captured for the secrets scan). */
export async function runOnce(opts: Omit<RunOptions, 'name'>): Promise<{ exitCode: number; output: string }> {
  const args = ['run', '--rm', ...RUNTIME, '--network', 'host'];
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push('-e', `${k}=${v}`);
  for (const [host, inside] of Object.entries(opts.volumes ?? {})) args.push('-v', `${host}:${inside}`);
  if (opts.entrypoint) args.push('--entrypoint', JSON.stringify(opts.entrypoint));
  const r = await podman([...args, IMAGE, ...(opts.command ?? [])]);
  fs.writeFileSync(logFile('container-run'), String(r.all));
  return { exitCode: r.exitCode ?? -1, output: String(r.all) };
}

/** logs returns a container's stdout and stderr (captured for the secrets scan). */
export async function logs(name: string): Promise<string> {
  const out = String((await podman(['logs', name])).all);
  fs.writeFileSync(logFile(`container-${name}`), out);
  return out;
}

/** isRunning reports whether the container is still running. */
export async function isRunning(name: string): Promise<boolean> {
  const r = await podman(['inspect', '--format', '{{.State.Running}}', name]);
  return String(r.stdout).trim() === 'true';
}

/** stop sends SIGTERM (`podman stop`, SIGKILL after `timeoutS`) and returns the exit code. */
export async function stop(name: string, timeoutS = 30): Promise<number> {
  await podmanOk(['stop', '--time', String(timeoutS), name], (timeoutS + 30) * 1000);
  return Number(await podmanOk(['inspect', '--format', '{{.State.ExitCode}}', name]));
}

/** remove removes containers, running or not; ignores those that do not exist. */
export async function remove(...names: string[]): Promise<void> {
  if (names.length > 0) await podman(['rm', '-f', '--ignore', ...names]);
}

/** waitHttp polls `url` until it answers 200; throws with the container's logs when it exits or after `ms`. */
export async function waitHttp(url: string, container: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (!(await isRunning(container))) throw new Error(`${container} exited before ${url} answered:\n${await logs(container)}`);
    await sleep(250);
  }
  throw new Error(`${url} did not answer within ${ms} ms:\n${await logs(container)}`);
}
