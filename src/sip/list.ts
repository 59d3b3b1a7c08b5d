/**
 * What `list-sip-trunks` and `list-sip-dispatch` print: aligned tables for people, or JSON for
 * scripts. Passwords are never printed, in either form.
 */
import type { SIPDispatchRuleInfo, SIPInboundTrunkInfo, SIPOutboundTrunkInfo } from '@livekit/protocol';
import { SIPTransport } from '@livekit/protocol';
import { table } from '../cli/table.js';

/** One row of the trunk listing. */
export interface TrunkRow {
  id: string;
  direction: 'inbound' | 'outbound';
  name: string;
  numbers: string[];
  /** Outbound: the provider address; inbound: the addresses calls are accepted from. */
  address: string;
  /** Outbound transport (UDP, TCP, TLS, AUTO); empty for inbound. */
  transport: string;
  authUsername: string;
  /** Whether a password is set; the password itself is never listed. */
  hasPassword: boolean;
}

/** One row of the dispatch rule listing. */
export interface DispatchRow {
  id: string;
  name: string;
  type: string;
  roomPrefix: string;
  trunkIds: string[];
  agents: string[];
}

export function trunkRows(inbound: readonly SIPInboundTrunkInfo[], outbound: readonly SIPOutboundTrunkInfo[]): TrunkRow[] {
  return [
    ...inbound.map((t) => ({
      id: t.sipTrunkId,
      direction: 'inbound' as const,
      name: t.name,
      numbers: [...t.numbers],
      address: t.allowedAddresses.join(' '),
      transport: '',
      authUsername: t.authUsername,
      hasPassword: t.authPassword !== '',
    })),
    ...outbound.map((t) => ({
      id: t.sipTrunkId,
      direction: 'outbound' as const,
      name: t.name,
      numbers: [...t.numbers],
      address: t.address,
      transport: (SIPTransport[t.transport] ?? String(t.transport)).replace(/^SIP_TRANSPORT_/, ''),
      authUsername: t.authUsername,
      hasPassword: t.authPassword !== '',
    })),
  ];
}

export function dispatchRows(rules: readonly SIPDispatchRuleInfo[]): DispatchRow[] {
  return rules.map((r) => {
    const rule = r.rule?.rule;
    const type = rule?.case?.replace(/^dispatchRule/, '').toLowerCase() ?? '';
    const roomPrefix = rule?.case === 'dispatchRuleIndividual' || rule?.case === 'dispatchRuleCallee' ? rule.value.roomPrefix : '';
    return {
      id: r.sipDispatchRuleId,
      name: r.name,
      type: rule?.case === 'dispatchRuleDirect' ? `direct (room ${rule.value.roomName})` : type,
      roomPrefix,
      trunkIds: [...r.trunkIds],
      agents: (r.roomConfig?.agents ?? []).map((a) => a.agentName),
    };
  });
}

export function formatTrunks(rows: readonly TrunkRow[]): string {
  if (rows.length === 0) return 'no SIP trunks';
  return table(
    ['ID', 'DIRECTION', 'NAME', 'NUMBERS', 'ADDRESS', 'TRANSPORT', 'AUTH'],
    rows.map((r) => [
      r.id,
      r.direction,
      r.name,
      r.numbers.join(' '),
      r.address || '-',
      r.transport || '-',
      r.authUsername ? `${r.authUsername}${r.hasPassword ? ' (password set)' : ''}` : '-',
    ]),
  );
}

export function formatDispatchRules(rows: readonly DispatchRow[]): string {
  if (rows.length === 0) return 'no SIP dispatch rules';
  return table(
    ['ID', 'NAME', 'TYPE', 'ROOM PREFIX', 'TRUNKS', 'AGENTS'],
    rows.map((r) => [r.id, r.name, r.type, r.roomPrefix || '-', r.trunkIds.join(' ') || '(any)', r.agents.join(' ') || '-']),
  );
}
