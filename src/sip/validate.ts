/**
 * Validation of the trunk and dispatch rule files before anything touches LiveKit. Each rule comes
 * from a mistake operators of such systems make (LiveKit telephony docs; the seed setup guide):
 * numbers not in E.164, an outbound address without its port, a transport LiveKit does not dial,
 * Telnyx usernames with underscores, an inbound trunk open to calls from any address, a `direct`
 * rule that puts every caller into one room, and a rule that never dispatches the named agent.
 */
import { SIPDispatchRuleInfo, SIPInboundTrunkInfo, SIPOutboundTrunkInfo } from '@livekit/protocol';
import { z } from 'zod';
import { e164 } from '../config/variables.js';
import { SipConfigError } from './files.js';

/** Transports an outbound trunk may use (LiveKit `SIPTransport`, AUTO excluded). */
export const TRANSPORTS = ['UDP', 'TCP', 'TLS'] as const;

const e164Field = z.unknown().superRefine((v, ctx) => {
  if (typeof v !== 'string' || !e164.safeParse(v).success) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not an E.164 number; write it as + country code and digits, e.g. +14155550123` });
  }
});

const numbers = z.array(e164Field, { error: 'must be a list of E.164 numbers' }).min(1, {
  message: 'is empty; list the number(s) this trunk serves, e.g. ["+14155550123"]',
});

const authUsername = z
  .string()
  .refine((v) => !v.includes('_'), {
    error: (issue) =>
      `${JSON.stringify(issue.input)} contains an underscore, which Telnyx does not allow in SIP usernames; rename the credential in the Telnyx portal`,
  })
  .optional();

const name = z.string({ error: 'is required: setup-sip finds existing trunks and rules by name' }).min(1, {
  message: 'is empty: setup-sip finds existing trunks and rules by name',
});

const ADDRESS = /^(?<host>[A-Za-z0-9.-]+)(:(?<port>\d{1,5}))?$/;

/** A protobuf Duration as JSON: seconds with an `s`, e.g. "900s" (protobuf JSON mapping). */
const duration = z
  .string({ error: 'must be seconds with an s, in quotes, e.g. "900s"' })
  .regex(/^\d+(\.\d+)?s$/, { message: 'must be seconds with an s, in quotes, e.g. "900s"' });

const inboundTrunk = z.looseObject({
  name,
  numbers,
  authUsername,
  /** LiveKit hangs up an inbound call after this long (SIPInboundTrunkInfo.max_call_duration), whatever the agent does. */
  maxCallDuration: duration.optional(),
  allowedAddresses: z
    .array(
      z.string().regex(/^[0-9a-fA-F.:]+(\/\d{1,3})?$/, {
        message: 'must be an IP address or CIDR range, e.g. 192.76.120.10 or 10.0.0.0/24',
      }),
    )
    .optional(),
});

const outboundTrunk = z.looseObject({
  name,
  numbers,
  authUsername,
  address: z.string({ error: 'is required: the provider SIP server as host:port, e.g. sip.telnyx.com:5060' }).superRefine((v, ctx) => {
    const m = ADDRESS.exec(v);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not host:port; write e.g. sip.telnyx.com:5060` });
    } else if (!m.groups!.port) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} has no port; add it, e.g. ${v}:5060 (LiveKit dials the wrong port without it)` });
    } else if (Number(m.groups!.port) < 1 || Number(m.groups!.port) > 65535) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} has port ${m.groups!.port}, outside 1–65535` });
    }
  }),
  transport: z.string({ error: `is required: one of ${TRANSPORTS.join(', ')} (Telnyx: UDP or TCP on 5060, TLS on 5061)` }).superRefine((v, ctx) => {
    if (!normalizeTransport(v)) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a transport LiveKit dials; use one of ${TRANSPORTS.join(', ')}` });
    }
  }),
});

/** `udp`, `UDP` or `SIP_TRANSPORT_UDP` → `SIP_TRANSPORT_UDP`; undefined for anything else. */
export function normalizeTransport(v: string): string | undefined {
  const t = v.toUpperCase().replace(/^SIP_TRANSPORT_/, '');
  return (TRANSPORTS as readonly string[]).includes(t) ? `SIP_TRANSPORT_${t}` : undefined;
}

/** The kind of a dispatch rule, from the one key of its `rule` object. */
export type DispatchRuleType = 'individual' | 'direct' | 'callee';

const RULE_KEYS: Record<string, DispatchRuleType> = {
  dispatchRuleIndividual: 'individual',
  dispatchRuleDirect: 'direct',
  dispatchRuleCallee: 'callee',
};

/** Turns snake_case keys into camelCase (protobuf JSON accepts both); maps of headers, attributes and tags keep theirs. */
export function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (!value || typeof value !== 'object') return value;
  const KEEP = new Set(['headers', 'headersToAttributes', 'attributesToHeaders', 'attributes', 'tags']);
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      const key = k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
      return [key, KEEP.has(key) ? v : camelKeys(v)];
    }),
  );
}

function issues(label: string, prefix: string, error: z.ZodError): string[] {
  return error.issues.map((i) => {
    const path = [prefix, ...i.path]
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '')
      .replace(/\.\[/g, '[');
    return `${label}: ${path} ${i.message}`;
  });
}

function wrapped(label: string, file: unknown, key: string, alt?: string): Record<string, unknown> | string {
  const root = camelKeys(file) as Record<string, unknown> | null;
  const inner = root && typeof root === 'object' ? (root[key] ?? (alt ? root[alt] : undefined)) : undefined;
  if (!inner || typeof inner !== 'object' || Array.isArray(inner)) {
    return `${label}: expected an object {"${alt ?? key}": {…}} as \`lk sip\` files have it`;
  }
  return inner as Record<string, unknown>;
}

function toMessage<T>(label: string, build: () => T): T | string {
  try {
    return build();
  } catch (err) {
    return `${label}: ${(err as Error).message.replace(/^\[[^\]]*\]\s*/, '')}`;
  }
}

/** Options of {@link validateInboundTrunk}. */
export interface InboundTrunkChecks {
  /** Accept a trunk with neither `allowedAddresses` nor `authUsername`/`authPassword` (calls from any address). */
  readonly allowAnySource?: boolean;
}

const given = (v: unknown) => typeof v === 'string' && v !== '';

/** The problems of what restricts who may call in (see {@link validateInboundTrunk}). */
function sourceProblems(label: string, inner: Record<string, unknown>, checks: InboundTrunkChecks): string[] {
  const user = given(inner.authUsername);
  const password = given(inner.authPassword);
  if (user && !password) {
    return [`${label}: trunk.authUsername is set but trunk.authPassword is not; set authPassword too (LiveKit challenges the caller for both), or remove authUsername`];
  }
  if (password && !user) {
    return [`${label}: trunk.authPassword is set but trunk.authUsername is not; set authUsername too (LiveKit challenges the caller for both), or remove authPassword`];
  }
  const addresses = inner.allowedAddresses;
  const listed = addresses !== undefined && addresses !== null && !(Array.isArray(addresses) && addresses.length === 0);
  if (listed || user || checks.allowAnySource) return [];
  return [
    `${label}: trunk.allowedAddresses is empty and the trunk has no authUsername/authPassword, so LiveKit accepts calls to these numbers from any address and anyone can present any caller ID; list your carrier's signalling addresses (Telnyx: see https://sip.telnyx.com, e.g. ["192.76.120.10", "64.16.250.10"]) or set authUsername and authPassword, or pass --allow-any-source if that is really wanted`,
  ];
}

/**
 * Validates `{"trunk": {...}}` of an inbound trunk file. Besides the fields' shapes, the trunk must be
 * locked to its carrier: a non-empty `allowedAddresses`, or both `authUsername` and `authPassword`,
 * unless `checks.allowAnySource`; half a credential pair is refused either way. LiveKit takes a call
 * to the trunk's numbers only from its `allowed_addresses` when they are listed, and only after digest
 * authentication when `auth_username`/`auth_password` are set; with neither, any host that reaches
 * the SIP endpoint gets in with whatever caller ID it presents (LiveKit docs, "SIP inbound trunk").
 * Telnyx publishes the signalling addresses its calls come from at https://sip.telnyx.com.
 * @returns the trunk, or every problem found, each `label: field problem; fix`.
 */
export function validateInboundTrunk(file: unknown, label: string, checks: InboundTrunkChecks = {}): SIPInboundTrunkInfo | string[] {
  const inner = wrapped(label, file, 'trunk');
  if (typeof inner === 'string') return [inner];
  const parsed = inboundTrunk.safeParse(inner);
  const problems = parsed.success ? [] : issues(label, 'trunk', parsed.error);
  problems.push(...sourceProblems(label, inner, checks));
  // Only a well-formed trunk goes to the protobuf parser, which names fields LiveKit does not know.
  if (!parsed.success) return problems;
  const info = toMessage(label, () => SIPInboundTrunkInfo.fromJson(inner as never));
  if (typeof info === 'string') problems.push(info);
  return problems.length || typeof info === 'string' ? problems : info;
}

/** Validates `{"trunk": {...}}` of an outbound trunk file (see {@link validateInboundTrunk}). */
export function validateOutboundTrunk(file: unknown, label: string): SIPOutboundTrunkInfo | string[] {
  const inner = wrapped(label, file, 'trunk');
  if (typeof inner === 'string') return [inner];
  const parsed = outboundTrunk.safeParse(inner);
  if (!parsed.success) return issues(label, 'trunk', parsed.error);
  const json = { ...inner, transport: normalizeTransport(String(inner.transport)) };
  const info = toMessage(label, () => SIPOutboundTrunkInfo.fromJson(json as never));
  return typeof info === 'string' ? [info] : info;
}

/** Options of {@link validateDispatchRule}. */
export interface DispatchRuleChecks {
  /** The worker's agent name: the rule must dispatch it (`roomConfig.agents`). */
  readonly agentName: string;
  /** Accept a `direct` rule (every caller in one room). */
  readonly allowSharedRoom?: boolean;
}

/** Validates `{"dispatch_rule": {...}}` of a dispatch rule file (see {@link validateInboundTrunk}). */
export function validateDispatchRule(file: unknown, label: string, checks: DispatchRuleChecks): SIPDispatchRuleInfo | string[] {
  const inner = wrapped(label, file, 'dispatchRule');
  if (typeof inner === 'string') return [inner];
  const problems: string[] = [];
  const nameCheck = name.safeParse(inner.name);
  if (!nameCheck.success) problems.push(...issues(label, 'dispatch_rule.name', nameCheck.error));

  const rule = inner.rule as Record<string, unknown> | undefined;
  const keys = rule && typeof rule === 'object' ? Object.keys(rule).filter((k) => k in RULE_KEYS) : [];
  if (keys.length !== 1) {
    problems.push(
      `${label}: dispatch_rule.rule must hold exactly one of dispatchRuleIndividual, dispatchRuleDirect, dispatchRuleCallee; use {"dispatchRuleIndividual": {"roomPrefix": "call-"}}`,
    );
  } else {
    const type = RULE_KEYS[keys[0]!]!;
    const body = (rule![keys[0]!] ?? {}) as Record<string, unknown>;
    if (type === 'direct' && !checks.allowSharedRoom) {
      problems.push(
        `${label}: dispatch_rule.rule is "direct", which puts every caller into one shared room where they hear each other; use dispatchRuleIndividual (one room per call), or pass --allow-shared-room if that is really wanted`,
      );
    } else if (type === 'callee') {
      problems.push(`${label}: dispatch_rule.rule "callee" is not supported here; use dispatchRuleIndividual (one room per call)`);
    }
    if (type === 'individual' && (typeof body.roomPrefix !== 'string' || body.roomPrefix === '')) {
      problems.push(`${label}: dispatch_rule.rule.dispatchRuleIndividual.roomPrefix is required, e.g. "call-" (room names start with it)`);
    }
  }

  const agents = ((inner.roomConfig as Record<string, unknown> | undefined)?.agents ?? []) as { agentName?: unknown }[];
  const names = Array.isArray(agents) ? agents.map((a) => a?.agentName) : [];
  if (!names.includes(checks.agentName)) {
    problems.push(
      `${label}: dispatch_rule.roomConfig.agents does not name the agent "${checks.agentName}" (AGENT_NAME); add {"agentName": "${checks.agentName}"} or the worker is never dispatched to calls`,
    );
  }
  if (problems.length) return problems;
  const info = toMessage(label, () => SIPDispatchRuleInfo.fromJson(inner as never));
  return typeof info === 'string' ? [info] : info;
}

/** The type of a validated rule. */
export function dispatchRuleType(rule: SIPDispatchRuleInfo): DispatchRuleType | undefined {
  switch (rule.rule?.rule.case) {
    case 'dispatchRuleIndividual':
      return 'individual';
    case 'dispatchRuleDirect':
      return 'direct';
    case 'dispatchRuleCallee':
      return 'callee';
    default:
      return undefined;
  }
}

export { SipConfigError };
