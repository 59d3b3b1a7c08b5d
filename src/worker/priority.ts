/**
 * Warm-up yields to live calls. The agents framework starts a replacement idle job process at the
 * moment a call takes the warm one, and that process spends ~2 s of CPU loading modules and
 * prewarming — exactly while the call's greeting is being prepared. So a job process starts at
 * nice {@link WARM_UP_NICE} and returns to nice 0 when it takes a call (measured on 2 cores: INVITE →
 * first audio median −60 to −100 ms, worst of 10 calls ~1000 → ~920 ms).
 *
 * A process may only go back to nice 0 with CAP_SYS_NICE or an RLIMIT_NICE of at least 20
 * (setpriority(2), getrlimit(2)), so where neither holds (a plain user, Docker without
 * SYS_NICE) nothing is lowered and every process keeps normal priority.
 */
import { readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The nice value of a job process while it loads and waits for a call (Linux: −20 … 19). */
export const WARM_UP_NICE = 10;

/** CAP_SYS_NICE's bit in the capability sets (linux/capability.h). */
const CAP_SYS_NICE = 23n;

/** Whether a `CapEff:` line of /proc/self/status holds CAP_SYS_NICE. */
export function hasSysNice(procStatus: string): boolean {
  const hex = /^CapEff:\s*([0-9a-f]+)$/im.exec(procStatus)?.[1];
  return hex !== undefined && ((BigInt(`0x${hex}`) >> CAP_SYS_NICE) & 1n) === 1n;
}

/**
 * The soft RLIMIT_NICE from /proc/self/limits ("Max nice priority  0  0"), 0 when absent.
 * A process may lower its nice value down to 20 − this limit.
 */
export function niceLimit(procLimits: string): number {
  const soft = /^Max nice priority\s+(\S+)/im.exec(procLimits)?.[1];
  if (soft === undefined) return 0;
  return soft === 'unlimited' ? 40 : Number(soft) || 0;
}

/** Whether this process could return to nice 0 after lowering its priority (Linux only). */
export function canRestorePriority(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    return hasSysNice(readFileSync('/proc/self/status', 'utf8')) || niceLimit(readFileSync('/proc/self/limits', 'utf8')) >= 20;
  } catch {
    return false;
  }
}

/** Lowers this process to {@link WARM_UP_NICE} when it can come back; returns whether it did. */
export function lowerForWarmUp(): boolean {
  if (!canRestorePriority() || getPriority() >= WARM_UP_NICE) return false;
  setPriority(WARM_UP_NICE);
  return true;
}

/** Back to nice 0 for a call, if warm-up lowered it. Never throws: a call runs either way. */
export function restoreForCall(): void {
  try {
    if (getPriority() > 0) setPriority(0);
  } catch {
    // Not permitted after all: the call runs at the warm-up priority.
  }
}
