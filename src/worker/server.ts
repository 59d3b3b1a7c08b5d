/**
 * The worker's life as a process: runs the framework's AgentServer, keeps it connected to LiveKit
 * for as long as it takes (the framework gives up after 10 failed attempts by default and the
 * worker would exit for good: agents 1.9.0 worker.ts, MAX_RECONNECT_ATTEMPTS), watches its job
 * processes (./watch.ts), and stops cleanly on SIGTERM/SIGINT: no new calls, active calls finish,
 * exit 0. This replaces the framework's `cli.runApp`, whose SIGTERM ends with 143 and whose
 * retries are bounded.
 */
import { AgentServer, initializeLogger, ServerOptions } from '@livekit/agents';
import type { Logger } from 'pino';
import { leaveOutTurnDetector } from './turn-detector.js';

/** What {@link runWorker} needs beyond the server's own options. */
export interface WorkerRun {
  readonly log: Logger;
  /** Framework log level (trace…fatal), as LOG_LEVEL. */
  readonly level: string;
  /** Called once the server exists: the job watch starts here. Returns a stop function. */
  readonly onStarted?: (server: AgentServer) => () => void;
}

/**
 * Connection attempts to LiveKit before the framework would give up: none — the worker retries
 * for as long as LiveKit is away (the framework waits min(2 s × attempt, 10 s) between attempts and
 * logs each at warn; the health endpoint answers 503 meanwhile).
 */
export const RETRY_FOREVER = Number.POSITIVE_INFINITY;

/**
 * Runs the worker until it is told to stop. The command line takes `start` (or `dev`, the same
 * here); anything else prints the usage and exits 2.
 * Exits 0 after a clean drain on SIGTERM or SIGINT (a second SIGINT forces exit 130), 1 when the
 * server fails for good (e.g. the health port is taken).
 */
export async function runWorker(options: ConstructorParameters<typeof ServerOptions>[0], run: WorkerRun): Promise<never> {
  const command = process.argv[2];
  if (command !== 'start' && command !== 'dev') {
    process.stderr.write(`usage: ${process.argv[1] ?? 'main.js'} start\n`);
    process.exit(2);
  }
  // The framework's own lines as JSON, through this process's standard output (where the output
  // guard of src/logging redacts them); never pretty, which would write past it.
  initializeLogger({ pretty: false, level: run.level });
  // No mode uses the framework's local end-of-turn model: no inference process for it (./turn-detector.ts).
  if (leaveOutTurnDetector()) run.log.info('the local end-of-turn model is left out: keypad mode listens to keys, and the voice models detect turns themselves (no inference process)');
  const server = new AgentServer(new ServerOptions({ maxRetry: RETRY_FOREVER, ...options, production: true }));
  const stopWatch = run.onStarted?.(server);
  const { log } = run;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, activeCalls: server.activeJobs.length }, 'stopping: no new calls; active calls finish first');
    let code = 0;
    try {
      await server.drain();
    } catch (err) {
      log.error({ err }, 'drain did not finish');
      code = 1;
    }
    stopWatch?.();
    await server.close().catch((err: unknown) => log.warn({ err }, 'closing the worker failed'));
    log.info({ code }, 'worker stopped');
    process.exit(code);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    void stop('SIGINT');
  });

  try {
    await server.run();
  } catch (err) {
    log.fatal({ err }, 'worker failed');
    process.exit(1);
  }
  // run() returns once closed by stop(), which exits.
  return new Promise<never>(() => undefined);
}
