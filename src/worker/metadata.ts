/**
 * The job metadata contract: what a dispatch says the job is. The outbound dialer
 * (src/outbound/dialer.ts) and the web server (src/web/visit.ts) write it with each explicit
 * dispatch, the job (./job.ts) reads it — all through this one zod schema, so they cannot drift
 * apart. Inbound SIP jobs come from a dispatch rule and carry none.
 */
import { z } from 'zod';

/** The JSON the dialer sends as the dispatch's job metadata. */
export const outboundJobMetadata = z.object({
  direction: z.literal('outbound'),
  /** The appointment the call is about (its id in the store). */
  appointmentId: z.string().min(1),
  /** The number to dial, E.164. */
  phoneNumber: z.string().min(1),
});

/**
 * The JSON the web server sends with a visit's dispatch. `visitor` is the participant identity it
 * issued the browser's token for: the call talks with that participant only. `patientId` is set only
 * when the visitor came with a visit link the server verified (src/web/link.ts) — never from anything
 * the browser says.
 */
export const webJobMetadata = z.object({
  direction: z.literal('web'),
  visitor: z.string().min(1).max(128),
  patientId: z.string().min(1).max(128).optional(),
});

/**
 * How long a web visitor's token lets it join, in s. Joining is at once (the page asks for the token
 * when the visitor starts); once in, LiveKit refreshes a connected participant's token itself, so a
 * visit may last longer than this.
 */
export const VISITOR_TOKEN_TTL_S = 120;
/** The job waits this long for the visitor to join before it ends the visit unheard, in ms (the token is no use after). */
export const VISITOR_JOIN_TIMEOUT_MS = VISITOR_TOKEN_TTL_S * 1000;

/** Every job metadata a dispatch may carry, told apart by `direction`. */
export const jobMetadata = z.discriminatedUnion('direction', [outboundJobMetadata, webJobMetadata]);

/** An outbound call's job metadata. */
export type OutboundJobMetadata = z.infer<typeof outboundJobMetadata>;
/** A web visit's job metadata. */
export type WebJobMetadata = z.infer<typeof webJobMetadata>;
/** What a job's metadata says it is. */
export type JobMetadata = z.infer<typeof jobMetadata>;

/** Thrown when a job's metadata is not one this product writes, well formed. */
export class JobMetadataError extends Error {
  override name = 'JobMetadataError';
}

/** The metadata for an outbound call's dispatch, validated. @throws ZodError when a field is empty. */
export function writeOutboundMetadata(m: Omit<OutboundJobMetadata, 'direction'>): string {
  return JSON.stringify(outboundJobMetadata.parse({ direction: 'outbound', ...m }));
}

/** The metadata for a web visit's dispatch, validated. @throws ZodError when a field is empty or too long. */
export function writeWebMetadata(m: Omit<WebJobMetadata, 'direction'>): string {
  return JSON.stringify(webJobMetadata.parse({ direction: 'web', ...m }));
}

/**
 * Reads a job's metadata: the outbound call or web visit it describes, or undefined when there is
 * none (inbound SIP jobs, and web rooms whose front end dispatches without metadata). Anything else
 * is refused, never guessed at: text that is not JSON, another shape, a field of the wrong type.
 * @throws JobMetadataError naming the field and what the dialer and the web server write.
 */
export function parseJobMetadata(metadata: string | undefined): JobMetadata | undefined {
  if (metadata === undefined || metadata.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(metadata);
  } catch (err) {
    throw new JobMetadataError(`job metadata is not JSON (${(err as Error).message}); ${SHAPE}`);
  }
  const parsed = jobMetadata.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.length ? issue.path.join('.') : '(the whole value)';
  throw new JobMetadataError(`job metadata: ${field} ${issue.message}; ${SHAPE}`);
}

/** What a well-formed job metadata is, for error messages. */
const SHAPE =
  'an outbound dispatch carries {"direction":"outbound","appointmentId":"…","phoneNumber":"+…"} (as the dialer writes it), a web visit {"direction":"web","visitor":"…"} (as the web server writes it); inbound dispatches carry none';
