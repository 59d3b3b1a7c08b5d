/**
 * Visit links: the URL a clinic sends a patient so that the web page knows whom the visit is for.
 * The link carries a JWT (RFC 7519) signed with HMAC-SHA256 (RFC 7518 §3.2, `HS256`) under
 * VISIT_LINK_SECRET, naming the patient (`sub`) and when it expires (`exp`); the web server checks
 * it (src/web/server.ts) before a patient's id goes into a visit's dispatch. Made and checked with
 * jose. The token sits in the URL's fragment (`#v=…`), which browsers never send to a server, so it
 * reaches no access log on the way.
 */
import { randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

/** Who issues visit links (`iss`), and for what (`aud`): a token signed for anything else is refused. */
export const VISIT_LINK_ISSUER = 'livekit-appointment-agent';
export const VISIT_LINK_AUDIENCE = 'web-visit';
/** The only algorithm accepted: a token naming another (`none`, RS256 with the secret as a key) is refused (RFC 8725 §3.1). */
const ALGORITHM = 'HS256';
/** The shortest secret taken, in characters: HS256 wants a key of at least 256 bits (RFC 7518 §3.2). */
export const MIN_SECRET_LENGTH = 32;
/** A day, in ms. */
const DAY_MS = 86_400_000;

/** Thrown when a link cannot be made: the secret is too short, or no patient is named. */
export class VisitLinkError extends Error {
  override name = 'VisitLinkError';
}

/** A signed visit link's token and when it expires. */
export interface SignedVisit {
  readonly token: string;
  readonly expiresAt: Date;
}

/** What a checked link says: the patient's id, or why it is refused. */
export type VisitCheck =
  | { readonly ok: true; readonly patientId: string; readonly expiresAt: Date }
  /** `expired`: signed by us but past its `exp`; `invalid`: anything else (altered, another secret, malformed, another algorithm). */
  | { readonly ok: false; readonly why: 'expired' | 'invalid' };

const keyOf = (secret: string): Uint8Array => {
  if (secret.length < MIN_SECRET_LENGTH) throw new VisitLinkError(`VISIT_LINK_SECRET is too short: at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -base64 48)`);
  return new TextEncoder().encode(secret);
};

/**
 * Signs a visit link for `patientId`, valid `days` days from `now`.
 * @throws VisitLinkError when the secret is shorter than {@link MIN_SECRET_LENGTH} or the id is empty.
 */
export async function signVisit(secret: string, patientId: string, days: number, now = new Date()): Promise<SignedVisit> {
  if (!patientId.trim()) throw new VisitLinkError('a visit link needs a patient id');
  const expiresAt = new Date(now.getTime() + days * DAY_MS);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(patientId)
    .setIssuer(VISIT_LINK_ISSUER)
    .setAudience(VISIT_LINK_AUDIENCE)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    // Two links for one patient differ, so one can be told from the other (e.g. in a support request).
    .setJti(randomBytes(9).toString('base64url'))
    .sign(keyOf(secret));
  return { token, expiresAt };
}

/** The URL a patient opens: the web page with the token in its fragment. */
export function visitUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/#v=${token}`;
}

/**
 * Checks a visit link's token: signed with `secret` by this product, for a web visit, naming a
 * patient, not expired at `now`. Never throws for a bad token: it is `invalid` or `expired`.
 * @throws VisitLinkError only when the secret itself is too short (a configuration error).
 */
export async function checkVisit(secret: string, token: string, now = new Date()): Promise<VisitCheck> {
  const key = keyOf(secret);
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [ALGORITHM],
      issuer: VISIT_LINK_ISSUER,
      audience: VISIT_LINK_AUDIENCE,
      requiredClaims: ['sub', 'exp'],
      currentDate: now,
    });
    if (!payload.sub) return { ok: false, why: 'invalid' };
    return { ok: true, patientId: payload.sub, expiresAt: new Date(payload.exp! * 1000) };
  } catch (err) {
    // Only a token whose signature held can be "expired": jose checks the signature before the claims.
    if (err instanceof errors.JWTExpired) return { ok: false, why: 'expired' };
    return { ok: false, why: 'invalid' };
  }
}
