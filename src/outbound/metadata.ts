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

/** Thrown when job metadata claims to be an outbound call's but is not well formed. */
export class JobMetadataError extends Error {
  override name = 'JobMetadataError';
}

/** The metadata for a dispatch, validated. @throws ZodError when a field is empty. */
export function writeOutboundMetadata(m: Omit<OutboundJobMetadata, 'direction'>): string {
  return JSON.stringify(outboundJobMetadata.parse({ direction: 'outbound', ...m }));
}

/**
 * Reads a job's metadata: the outbound call it describes, or undefined when it is not an outbound
 * call's (no metadata, not JSON, another direction — inbound SIP and web jobs).
 * @throws JobMetadataError naming the field when `"direction": "outbound"` comes with a bad field.
 */
export function parseOutboundMetadata(metadata: string | undefined): OutboundJobMetadata | undefined {
  if (!metadata) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(metadata);
  } catch {
    return undefined; // not JSON: not ours
  }
  if ((json as { direction?: unknown } | null)?.direction !== 'outbound') return undefined;
  const parsed = outboundJobMetadata.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new JobMetadataError(`outbound job metadata: ${issue.path.join('.')} ${issue.message}; the dialer writes {"direction":"outbound","appointmentId":…,"phoneNumber":…}`);
}
