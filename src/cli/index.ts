/**
 * Command-line entry helpers: parse flags, and turn expected failures (bad configuration, bad
 * files, LiveKit refusing) into plain lines on stderr and exit code 1 — never a stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ProblemsError } from '../config/index.js';
import { guardProcessOutput, registerSecretsIn } from '../logging/index.js';

/** An error whose message is meant for the operator as it is (one line or several). */
export class UserError extends Error {
  override name = 'UserError';
}

/**
 * Parses argv with node:util parseArgs. Unknown flags print `usage` and exit 1.
 */
export function flags<T extends NonNullable<ParseArgsConfig['options']>>(options: T, usage: string, argv = process.argv.slice(2)) {
  try {
    return parseArgs({ options, args: argv, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    process.exit(1);
  }
}

/**
 * Runs `main`; known errors print their lines to stderr and exit 1, anything else is a bug. Every
 * line the script writes is redacted (numbers masked, secrets from the environment replaced) —
 * except standard output when `opts.report` says it is the report the operator asked for (the
 * clinic's own trunk numbers in `list-sip`); its errors are redacted still.
 */
export async function runCli(main: () => Promise<void>, opts: { readonly report?: boolean } = {}): Promise<void> {
  guardProcessOutput({ stdout: !opts.report });
  registerSecretsIn(process.env);
  try {
    await main();
  } catch (err) {
    if (err instanceof ProblemsError) {
      process.stderr.write(`${err.problems.join('\n')}\n`);
    } else if (err instanceof UserError) {
      process.stderr.write(`${err.message}\n`);
    } else {
      process.stderr.write(`unexpected error (please report it): ${(err as Error)?.stack ?? String(err)}\n`);
    }
    process.exitCode = 1;
  }
}
