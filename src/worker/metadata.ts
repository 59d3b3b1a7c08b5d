/**
 * The job metadata contract of an outbound call: the dialer writes it with each dispatch, the job
 * reads it — both through this one zod schema, so they cannot drift apart.
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

/** An outbound call's job metadata. */
export type OutboundJobMetadata = z.infer<typeof outboundJobMetadata>;

/** Thrown when a job's metadata is not an outbound call's, well formed. */
export class JobMetadataError extends Error {
  override name = 'JobMetadataError';
}

/** The metadata for a dispatch, validated. @throws ZodError when a field is empty. */
export function writeOutboundMetadata(m: Omit<OutboundJobMetadata, 'direction'>): string {
  return JSON.stringify(outboundJobMetadata.parse({ direction: 'outbound', ...m }));
}

/**
 * Reads a job's metadata: the outbound call it describes, or undefined when there is none (inbound
 * SIP and web jobs are dispatched without metadata). Anything else is refused, never guessed at:
 * text that is not JSON, another shape, a field of the wrong type.
 * @throws JobMetadataError naming the field and what the dialer writes.
 */
export function parseOutboundMetadata(metadata: string | undefined): OutboundJobMetadata | undefined {
  if (metadata === undefined || metadata.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(metadata);
  } catch (err) {
    throw new JobMetadataError(`job metadata is not JSON (${(err as Error).message}); ${SHAPE}`);
  }
  const parsed = outboundJobMetadata.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.length ? issue.path.join('.') : '(the whole value)';
  throw new JobMetadataError(`job metadata: ${field} ${issue.message}; ${SHAPE}`);
}

/** What a well-formed job metadata is, for error messages. */
const SHAPE = 'an outbound dispatch carries {"direction":"outbound","appointmentId":"…","phoneNumber":"+…"} (as the dialer writes it); inbound and web dispatches carry none';
