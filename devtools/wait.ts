/**
 * Waiting in e2e tests for something the stack or the worker does: poll until a check gives a value,
 * or fail naming what was awaited (with the worker's last output when given).
 */

/**
 * How many times longer than on a quiet machine a test waits for something that must happen:
 * `TEST_WAIT_SCALE` (default 3). A CI host whose CPU is mostly taken by its neighbours (steal) runs
 * everything several times slower; a wait ends as soon as its thing happens, so a larger scale costs
 * time only when a test fails anyway.
 */
export const WAIT_SCALE = Math.max(1, Number(process.env.TEST_WAIT_SCALE ?? 3) || 3);

/**
 * Polls `check` every 200 ms until it returns something other than undefined or false, and returns that.
 * @param timeoutMs what it takes on a quiet machine, in ms; waits `timeoutMs` × {@link WAIT_SCALE}.
 * @throws Error "timed out waiting for <what>" (plus the tail of `context()`) after that.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  context?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs * WAIT_SCALE;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting ${Math.round((timeoutMs * WAIT_SCALE) / 1000)} s for ${what}${context ? `\n${context().slice(-4000)}` : ''}`);
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
