/**
 * Waiting in e2e tests for something the stack or the worker does: poll until a check gives a value,
 * or fail naming what was awaited (with the worker's last output when given).
 */

/**
 * Polls `check` every 200 ms until it returns something other than undefined or false, and returns that.
 * @throws Error "timed out waiting for <what>" (plus the tail of `context()`) after `timeoutMs`.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  context?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${context ? `\n${context().slice(-4000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Whether a process with this pid is running. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
