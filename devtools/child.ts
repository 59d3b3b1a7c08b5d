/**
 * A product process as tests run it: spawned with only the environment given (no .env is read from
 * its folder), everything it prints collected and kept in a log file for reading after a failed run,
 * ready once it has printed a given line, and stopped with SIGTERM (SIGKILL after 15 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { WAIT_SCALE } from './wait.js';

/** A running child process and what it printed. */
export interface WatchedChild {
  readonly process: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** SIGTERM, then SIGKILL after 15 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * Spawns `node args…` in `cwd` with `env` (plus PATH and HOME), its output kept in `logFile`, and
 * waits until it prints `ready`.
 * @throws Error with its output when it exits first, or has not printed `ready` within `timeoutMs` × {@link WAIT_SCALE} (it is then killed).
 */
export async function startChild(opts: {
  readonly what: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly logFile: string;
  readonly ready: string;
  readonly timeoutMs?: number;
}): Promise<WatchedChild> {
  let output = '';
  const child = spawn(process.execPath, opts.args, {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(opts.logFile);
  const collect = (d: Buffer) => {
    output += d.toString();
    log.write(d);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const timeoutMs = (opts.timeoutMs ?? 60_000) * WAIT_SCALE;
  const deadline = Date.now() + timeoutMs;
  while (!output.includes(opts.ready)) {
    if (child.exitCode !== null) throw new Error(`${opts.what} exited (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${opts.what} not ready within ${Math.round(timeoutMs / 1000)} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
    },
  };
}
