/**
 * LiveKit plumbing for tests: server API clients for the local stack, a phone number unique to
 * each test, and per-test trunks and dispatch rules that are removed afterwards, so tests never
 * see each other's calls.
 */
import { RoomConfiguration, RoomAgentDispatch, SIPTransport } from '@livekit/protocol';
import { AccessToken, AgentDispatchClient, RoomServiceClient, SipClient } from 'livekit-server-sdk';
import { ensureStack, type StackInfo } from './stack.js';

/** Server API clients bound to the local stack. */
export interface Clients {
  readonly stack: StackInfo;
  readonly rooms: RoomServiceClient;
  readonly sip: SipClient;
  readonly dispatch: AgentDispatchClient;
}

/** Starts the stack if needed and returns API clients for it. */
export function clients(): Clients {
  const stack = ensureStack();
  return {
    stack,
    rooms: new RoomServiceClient(stack.httpUrl, stack.apiKey, stack.apiSecret),
    sip: new SipClient(stack.httpUrl, stack.apiKey, stack.apiSecret),
    dispatch: new AgentDispatchClient(stack.httpUrl, stack.apiKey, stack.apiSecret),
  };
}

const used = new Set<string>();

/** US area codes in service, so the numbers pass libphonenumber-js's validity check. */
const AREA_CODES = ['206', '212', '303', '312', '415', '512', '617', '646', '702', '917'];

/**
 * A valid-looking US number in the 555 exchange (+1 AAA 555 xxxx; 555 numbers are kept for
 * fiction and directory services, never a real subscriber) that no other test of this process
 * uses; random digits keep parallel test processes apart too.
 */
export function uniqueNumber(): string {
  for (;;) {
    const area = AREA_CODES[Math.floor(Math.random() * AREA_CODES.length)]!;
    const line = Math.floor(Math.random() * 1e4);
    // Not 0100–0199: those are NANPA's fictional examples, which the logs show in full by design
    // (isFictionalNumber in src/logging); a test caller's number must be one the logs mask.
    if (line >= 100 && line <= 199) continue;
    const number = `+1${area}555${String(line).padStart(4, '0')}`;
    if (!used.has(number)) {
      used.add(number);
      return number;
    }
  }
}

/** An access token for a test participant joining `room`. */
export async function participantToken(stack: StackInfo, room: string, identity: string): Promise<string> {
  const token = new AccessToken(stack.apiKey, stack.apiSecret, { identity, ttl: '10m' });
  // As a browser's token must be: it may not change its own attributes or metadata (they identify nobody anyway).
  token.addGrant({ room, roomJoin: true, canPublish: true, canSubscribe: true, canPublishData: true, canUpdateOwnMetadata: false });
  return token.toJwt();
}

/** An inbound trunk and its `individual` dispatch rule, made for one test. */
export interface InboundRoute {
  /** The number SIPp dials (`sip.trunkPhoneNumber`). */
  readonly number: string;
  readonly trunkId: string;
  readonly ruleId: string;
  /** Rooms of this route's calls start with this prefix. */
  readonly roomPrefix: string;
  /** Deletes the trunk and the rule. */
  remove(): Promise<void>;
}

/**
 * Creates an inbound trunk accepting calls from 127.0.0.1 to `number`, and an `individual`
 * dispatch rule (one room per call) for it. With `agentName` the rule dispatches that agent
 * (`roomConfig.agents`) — without it a named agent is never sent to SIP calls.
 */
export async function provisionInbound(
  c: Clients,
  opts: { number?: string; agentName?: string; name?: string } = {},
): Promise<InboundRoute> {
  const number = opts.number ?? uniqueNumber();
  const name = opts.name ?? `test-${number.slice(1)}`;
  const trunk = await c.sip.createSipInboundTrunk(name, [number], { allowedAddresses: ['127.0.0.1/32'] });
  const roomPrefix = `${name}-`;
  try {
    const rule = await c.sip.createSipDispatchRule(
      { type: 'individual', roomPrefix },
      {
        name,
        trunkIds: [trunk.sipTrunkId],
        roomConfig: opts.agentName
          ? new RoomConfiguration({ agents: [new RoomAgentDispatch({ agentName: opts.agentName })] })
          : undefined,
      },
    );
    return {
      number,
      trunkId: trunk.sipTrunkId,
      ruleId: rule.sipDispatchRuleId,
      roomPrefix,
      async remove() {
        await c.sip.deleteSipDispatchRule(rule.sipDispatchRuleId).catch(() => undefined);
        await c.sip.deleteSipTrunk(trunk.sipTrunkId).catch(() => undefined);
      },
    };
  } catch (err) {
    await c.sip.deleteSipTrunk(trunk.sipTrunkId).catch(() => undefined);
    throw err;
  }
}

/** An outbound trunk that sends calls to a test callee on 127.0.0.1. */
export interface OutboundRoute {
  readonly trunkId: string;
  /** The caller ID the trunk presents. */
  readonly number: string;
  remove(): Promise<void>;
}

/** Creates an outbound trunk pointing at `127.0.0.1:calleePort` over UDP. */
export async function provisionOutbound(c: Clients, calleePort: number, number = uniqueNumber()): Promise<OutboundRoute> {
  const trunk = await c.sip.createSipOutboundTrunk(`test-out-${number.slice(1)}`, `127.0.0.1:${calleePort}`, [number], {
    transport: SIPTransport.SIP_TRANSPORT_UDP,
  });
  return {
    trunkId: trunk.sipTrunkId,
    number,
    async remove() {
      await c.sip.deleteSipTrunk(trunk.sipTrunkId).catch(() => undefined);
    },
  };
}

/**
 * Polls until a room whose name starts with `prefix` exists and returns its name.
 * @throws Error after `timeoutMs` (default 10 000 ms).
 */
export async function waitForRoom(c: Clients, prefix: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const rooms = await c.rooms.listRooms();
    const room = rooms.find((r) => r.name.startsWith(prefix));
    if (room) return room.name;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no room starting with "${prefix}" within ${timeoutMs} ms`);
}
