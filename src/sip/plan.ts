/**
 * Deciding what `setup-sip` must do: each trunk and rule from the files is matched by name with
 * what LiveKit already has, then created, updated in place, or left unchanged — so a second run
 * changes nothing.
 */
import type { SIPDispatchRuleInfo, SIPInboundTrunkInfo, SIPOutboundTrunkInfo } from '@livekit/protocol';

/** What setup-sip does to one trunk or rule. */
export type Action = 'create' | 'update' | 'unchanged';

export type ItemKind = 'inbound trunk' | 'outbound trunk' | 'dispatch rule';

/** One line of the plan. */
export interface PlanItem {
  readonly kind: ItemKind;
  readonly name: string;
  readonly action: Action;
  /** The id of the existing trunk or rule (absent for `create`). */
  readonly id?: string;
  /** Top-level fields that differ (names only: values may be secrets). */
  readonly changed: readonly string[];
}

type Info = SIPInboundTrunkInfo | SIPOutboundTrunkInfo | SIPDispatchRuleInfo;

const SERVER_FIELDS = new Set(['sipTrunkId', 'sipDispatchRuleId', 'createdAt', 'updatedAt']);

/** The fields of a trunk or rule as JSON, without ids and timestamps the server sets. */
function comparable(info: Info): Record<string, unknown> {
  const json = info.toJson({ emitDefaultValues: false }) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(json).filter(([k]) => !SERVER_FIELDS.has(k)));
}

/** Names of the top-level fields whose values differ between `desired` and `existing`. */
export function changedFields(desired: Info, existing: Info): string[] {
  const a = comparable(desired);
  const b = comparable(existing);
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

const idOf = (info: Info) => ('sipDispatchRuleId' in info ? info.sipDispatchRuleId : info.sipTrunkId);

/**
 * Plans one item. @throws Error when LiveKit holds two items of that kind with the same name,
 * since either could be the one meant.
 */
export function planItem<T extends Info>(kind: ItemKind, desired: T, existing: readonly T[]): PlanItem {
  const same = existing.filter((e) => e.name === desired.name);
  if (same.length > 1) {
    throw new Error(
      `LiveKit has ${same.length} ${kind}s named "${desired.name}" (${same.map(idOf).join(', ')}); delete all but one (lk sip … delete ID), then run setup-sip again`,
    );
  }
  const found = same[0];
  if (!found) return { kind, name: desired.name, action: 'create', changed: [] };
  const changed = changedFields(desired, found);
  return { kind, name: desired.name, action: changed.length ? 'update' : 'unchanged', id: idOf(found), changed };
}
