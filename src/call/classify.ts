/**
 * Who is on the line: a caller through a SIP trunk or a visitor in a browser. Pure: reads the
 * participant's kind and attributes as LiveKit sets them (docs.livekit.io, "SIP participant":
 * sip.phoneNumber, sip.trunkPhoneNumber, sip.callID, sip.trunkID, sip.ruleID).
 */
import { ParticipantKind } from '@livekit/rtc-node';

/** What LiveKit tells us about a SIP participant. */
export interface SipFacts {
  /** The other party: caller (inbound) or callee (outbound), as the trunk gave it. */
  readonly phoneNumber?: string;
  /** Our number on the trunk. */
  readonly trunkPhoneNumber?: string;
  /** LiveKit's call id (SCL_…). */
  readonly callId?: string;
  readonly trunkId?: string;
  /** Set only on inbound calls, by the dispatch rule that routed them. */
  readonly ruleId?: string;
  /** inbound when a dispatch rule routed the call (`sip.ruleID` set), otherwise outbound. */
  readonly direction: 'inbound' | 'outbound';
}

/** A classified participant. */
export type Connection =
  | { readonly kind: 'sip'; readonly identity: string; readonly sip: SipFacts }
  | { readonly kind: 'web'; readonly identity: string; readonly attributes: Readonly<Record<string, string>> };

/** The parts of a participant classification reads (an rtc-node RemoteParticipant has them). */
export interface ParticipantLike {
  readonly identity: string;
  readonly kind?: ParticipantKind;
  readonly attributes: Readonly<Record<string, string>>;
}

const nonEmpty = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);

/** Classifies a participant: SIP when its kind is `ParticipantKind.SIP`, web otherwise. */
export function classifyParticipant(p: ParticipantLike): Connection {
  if (p.kind === ParticipantKind.SIP) {
    const a = p.attributes;
    const ruleId = nonEmpty(a['sip.ruleID']);
    return {
      kind: 'sip',
      identity: p.identity,
      sip: {
        phoneNumber: nonEmpty(a['sip.phoneNumber']),
        trunkPhoneNumber: nonEmpty(a['sip.trunkPhoneNumber']),
        callId: nonEmpty(a['sip.callID']),
        trunkId: nonEmpty(a['sip.trunkID']),
        ruleId,
        direction: ruleId ? 'inbound' : 'outbound',
      },
    };
  }
  return { kind: 'web', identity: p.identity, attributes: { ...p.attributes } };
}
