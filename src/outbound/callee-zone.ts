/**
 * Whose clock a callee's calling hours run on (issue 15; US TCPA, 47 CFR 64.1200(c)(1): not before
 * 8 a.m. or after 9 p.m. at the called party's location): the zone stored for the patient, else
 * the zone of their number's region (src/phone `numberTimeZone`), else the clinic's.
 */
import { DateTime } from 'luxon';
import { numberTimeZone } from '../phone/index.js';

/** A callee's zone and where it came from. */
export interface CalleeZone {
  /** IANA name. */
  readonly zone: string;
  readonly source: 'patient' | 'number' | 'clinic';
}

/**
 * @param stored the patient's stored zone (`patients.timezone`), if any; ignored when it is not a
 *   zone luxon knows.
 * @param e164 the number dialed.
 * @param clinicZone `CLINIC_TIMEZONE`.
 */
export async function calleeZone(stored: string | null | undefined, e164: string, clinicZone: string): Promise<CalleeZone> {
  if (stored && DateTime.local().setZone(stored).isValid) return { zone: stored, source: 'patient' };
  const fromNumber = await numberTimeZone(e164);
  if (fromNumber) return { zone: fromNumber, source: 'number' };
  return { zone: clinicZone, source: 'clinic' };
}
