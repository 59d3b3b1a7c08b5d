/**
 * The environment variables the product reads: one entry each, with its rule, its help text and the
 * file it belongs in. This table is the single source for validation (./load.ts), for
 * `.env.example` / `.env.sip.example` and for the README's table (a unit test keeps them in step).
 */
import { getCountries, isValidPhoneNumber, type CountryCode } from 'libphonenumber-js/max';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { OpeningHoursError, parseOpeningHours } from './hours.js';

/** Which consumer needs a variable; a command asks for the groups it uses. */
export type VariableGroup = 'livekit' | 'telnyx' | 'inbound' | 'outbound' | 'visit-links' | 'optional';

/** One environment variable. */
export interface VariableSpec {
  /** The variable's name, e.g. `LIVEKIT_URL`. */
  readonly name: string;
  /** The group that makes it required; `optional` is never required. */
  readonly group: VariableGroup;
  /** The file it is kept in: `.env` (LiveKit, models, logging) or `.env.sip` (trunks and numbers). */
  readonly file: '.env' | '.env.sip';
  /** Secret values are never echoed in errors or logs. */
  readonly secret: boolean;
  /** What is expected, phrased to complete "X: expected …" in an error line. */
  readonly expected: string;
  /** Validates a present value (already trimmed, never empty) and turns it into its type (numbers, enums, codes). */
  readonly schema: z.ZodType<unknown, string>;
  /** Default used when the variable is unset (optional variables only). */
  readonly default?: string;
}

const url = (protocols: readonly string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  });

/** A whole number written in decimal, from `min` to `max`. */
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/)
    .transform(Number)
    .refine((n) => n >= min && n <= max);

/** An ISO 3166 country code libphonenumber-js knows (US, GB…). */
const country = z
  .string()
  .refine((v) => (getCountries() as string[]).includes(v))
  .transform((v) => v as CountryCode);

/** Hours of the week as src/config/hours.ts reads them; the problem named when they are not. */
const openingHours = z.string().superRefine((v, ctx) => {
  try {
    parseOpeningHours(v);
  } catch (err) {
    if (!(err instanceof OpeningHoursError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
  }
});

/**
 * E.164: "+" then 8–15 digits (ITU-T E.164 §6), and a number libphonenumber-js considers valid
 * for its country.
 */
export const e164 = z
  .string()
  .regex(/^\+[1-9]\d{7,14}$/)
  .refine((v) => isValidPhoneNumber(v));

/** `host` or `host:port` with a port of 1–65535 (a SIP server address). */
export const hostPort = z.string().regex(/^[A-Za-z0-9.-]+(:([1-9]\d{0,4}))?$/).refine((v) => {
  const port = v.split(':')[1];
  return port === undefined || Number(port) <= 65535;
});

const TABLE = [
  {
    name: 'LIVEKIT_URL',
    group: 'livekit',
    file: '.env',
    secret: false,
    expected: 'the LiveKit server URL, e.g. wss://<project>.livekit.cloud or ws://127.0.0.1:7880',
    schema: url(['ws:', 'wss:', 'http:', 'https:']),
  },
  {
    name: 'LIVEKIT_API_KEY',
    group: 'livekit',
    file: '.env',
    secret: false,
    expected: 'the API key of your LiveKit project (Settings → Keys), e.g. APIxxxxxxxx',
    schema: z.string().regex(/^\S+$/),
  },
  {
    name: 'LIVEKIT_API_SECRET',
    group: 'livekit',
    file: '.env',
    secret: true,
    expected: 'the API secret that belongs to LIVEKIT_API_KEY',
    schema: z.string().regex(/^\S+$/),
  },
  {
    name: 'GOOGLE_API_KEY',
    group: 'optional',
    file: '.env',
    secret: true,
    expected: 'a Gemini API key from Google AI Studio (unset: the agent runs in keypad mode)',
    schema: z.string().regex(/^\S+$/),
  },
  {
    name: 'VOICE_MODEL',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'gemini, openai or keypad; unset: gemini with GOOGLE_API_KEY, else openai with OPENAI_API_KEY, else keypad',
    schema: z.enum(['gemini', 'openai', 'keypad']),
  },
  {
    name: 'OPENAI_API_KEY',
    group: 'optional',
    file: '.env',
    secret: true,
    expected: 'an OpenAI API key, for VOICE_MODEL=openai (OpenAI Realtime)',
    schema: z.string().regex(/^\S+$/),
  },
  {
    name: 'OPENAI_REALTIME_MODEL',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the OpenAI Realtime model, e.g. gpt-realtime',
    schema: z.string().min(1),
    default: 'gpt-realtime',
  },
  {
    name: 'OPENAI_VOICE',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the OpenAI Realtime voice, e.g. marin, alloy, cedar',
    schema: z.string().min(1),
    default: 'marin',
  },
  {
    name: 'OPENAI_BASE_URL',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'another OpenAI-compatible endpoint (https://…/v1); unset for api.openai.com',
    schema: url(['http:', 'https:']),
  },
  {
    name: 'AGENT_NAME',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the agent name the worker registers under and dispatch rules name (letters, digits, - and _)',
    schema: z.string().regex(/^[A-Za-z0-9_-]+$/),
    default: 'gemini-sip-agent',
  },
  {
    name: 'DATABASE_PATH',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the SQLite file of the appointment store, e.g. data/appointments.db (created with its folder)',
    schema: z.string().min(1),
    default: 'data/appointments.db',
  },
  {
    name: 'CLINIC_NAME',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the business name the agent says, e.g. Main Street Dental',
    schema: z.string().min(1),
    default: 'the clinic',
  },
  {
    name: 'CLINIC_TIMEZONE',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the IANA time zone of the clinic, e.g. America/New_York',
    schema: z.string().refine((v) => IANAZone.isValidZone(v)),
    default: 'America/Los_Angeles',
  },
  {
    name: 'PHONE_DEFAULT_COUNTRY',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the ISO 3166 country numbers without a + belong to, e.g. US or GB',
    schema: country,
    default: 'US',
  },
  {
    name: 'MENU_TIMEOUT_MS',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'milliseconds of silence before the keypad menu is repeated (once) and the call ends, e.g. 8000',
    schema: int(1000, 120000),
    default: '8000',
  },
  {
    name: 'CALLER_VERIFICATION',
    group: 'optional',
    file: '.env',
    secret: false,
    expected:
      'how a caller whose number is on file proves who they are before hearing or changing an appointment: dob (their date of birth, on the keypad or said to the voice model) or none (caller ID alone, which is easily spoofed)',
    schema: z.enum(['dob', 'none']),
    default: 'dob',
  },
  {
    name: 'OUTBOUND_VERIFICATION',
    group: 'optional',
    file: '.env',
    secret: false,
    expected:
      'how the person who answers a call we place proves they are the patient before hearing the appointment: confirm-name ("If this is Maria, press 1"), dob (their date of birth) or none',
    schema: z.enum(['confirm-name', 'dob', 'none']),
    default: 'confirm-name',
  },
  {
    name: 'OUTBOUND_AMD',
    group: 'optional',
    file: '.env',
    secret: false,
    expected:
      'answering-machine detection on calls we place: on (a voicemail greeting gets a short message after its beep, outcome voicemail) or off (every answer is greeted as a person)',
    schema: z.enum(['on', 'off']),
    default: 'on',
  },
  {
    name: 'CALLING_HOURS',
    group: 'optional',
    file: '.env',
    secret: false,
    expected:
      'when the dialer may call a patient, in the patient\'s own time zone (stored, else their number\'s region, else CLINIC_TIMEZONE): days and HH:MM-HH:MM ranges as CLINIC_HOURS, e.g. "Mon-Sat 09:00-20:00"; default "Mon-Sun 08:00-21:00" (US TCPA, 47 CFR 64.1200(c)(1))',
    schema: openingHours,
    default: 'Mon-Sun 08:00-21:00',
  },
  {
    name: 'VOICEMAIL_INCLUDE_DATE',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'whether the message left on a voicemail names the appointment\'s day and time: no (default: anyone with the mailbox may hear it) or yes',
    schema: z.enum(['yes', 'no']),
    default: 'no',
  },
  {
    name: 'DOB_ORDER',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the order of the 8 keypad digits of a date of birth: MDY (MMDDYYYY, US), DMY (DDMMYYYY) or YMD (YYYYMMDD)',
    schema: z.enum(['MDY', 'DMY', 'YMD']),
    default: 'MDY',
  },
  {
    name: 'OPERATOR_NUMBER',
    group: 'optional',
    file: '.env.sip',
    secret: false,
    expected:
      'the front desk a caller who asks for a person is put through to: an E.164 number dialed through the outbound trunk (e.g. +14155550100) or a SIP URI (e.g. sip:desk@pbx.example.com); unset: callers leave a message',
    schema: z.union([e164, z.string().regex(/^sip:[^@\s]+@[A-Za-z0-9.-]+(:\d{1,5})?$/)]),
  },
  {
    name: 'TRANSFER_MODE',
    group: 'optional',
    file: '.env',
    secret: false,
    expected:
      'how a caller reaches the desk: warm (the caller on hold while the agent rings the desk and tells whoever answers who is calling and why; they accept with 1) or cold (the call is handed to the desk at once by SIP REFER)',
    schema: z.enum(['warm', 'cold']),
    default: 'warm',
  },
  {
    name: 'CLINIC_HOURS',
    group: 'optional',
    file: '.env',
    secret: false,
    expected:
      'when the desk answers, in CLINIC_TIMEZONE: days and HH:MM-HH:MM ranges, entries separated by ";", e.g. "Mon-Fri 08:00-12:00 13:00-17:00; Sat 09:00-12:00" (a day not named is closed); unset: always',
    schema: openingHours,
  },
  {
    name: 'OPERATOR_RING_TIMEOUT_S',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'seconds the desk may ring (warm transfer) or a REFER may wait for the desk to answer (cold) before the caller is offered a message (5-120), e.g. 25',
    schema: int(5, 120),
    default: '25',
  },
  {
    name: 'NOTIFY_WEBHOOK_URL',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'where each new message is POSTed as JSON, signed per Standard Webhooks (https://…); unset: messages are only kept in the database',
    schema: url(['http:', 'https:']),
  },
  {
    name: 'NOTIFY_WEBHOOK_SECRET',
    group: 'optional',
    file: '.env',
    secret: true,
    expected: 'the Standard Webhooks signing secret shared with the receiver: whsec_ then base64 of 24 to 64 random bytes (e.g. `echo whsec_$(openssl rand -base64 32)`)',
    schema: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/)
      .refine((v) => {
        const n = Buffer.from(v.slice('whsec_'.length), 'base64').length;
        return n >= 24 && n <= 64;
      }),
  },
  {
    name: 'WORKER_PORT',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the TCP port of the worker health endpoint (GET / answers 200), 1-65535',
    schema: int(1, 65535),
    default: '8081',
  },
  {
    name: 'WORKER_HOST',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the address the worker health endpoint listens on, e.g. 127.0.0.1 (this host only) or 0.0.0.0 (every interface, for a load balancer or orchestrator probe)',
    schema: z.string().trim().regex(/^[A-Za-z0-9.:-]+$/, { message: 'is not an IP address or host name' }),
    default: '127.0.0.1',
  },
  {
    name: 'WORKER_MAX_CALLS',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'how many calls one worker runs at once (1-100), e.g. 10; further calls go to other workers',
    schema: int(1, 100),
    default: '10',
  },
  {
    name: 'WORKER_IDLE_PROCESSES',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'job processes kept loaded for the next calls (1-100), e.g. 3; each holds ~90 MB; unset: WORKER_MAX_CALLS, at most an eighth of the memory',
    schema: int(1, 100),
  },
  {
    name: 'CALL_MAX_DURATION_S',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'longest any call may last, in seconds (60-3600), e.g. 600; then the agent says goodbye and hangs up (the inbound trunk cuts calls at 900 s regardless)',
    schema: int(60, 3600),
    default: '600',
  },
  {
    name: 'OUTBOUND_RINGING_TIMEOUT_S',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'seconds an outbound call may ring before it counts as no answer (5-120), e.g. 30',
    schema: int(5, 120),
    default: '30',
  },
  {
    name: 'OUTBOUND_MAX_CALL_S',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'longest an outbound call may last once answered, in seconds (30-3600), e.g. 600',
    schema: int(30, 3600),
    default: '600',
  },
  {
    name: 'GEMINI_MODEL',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'a Gemini Live model id, e.g. gemini-3.8-live (Google\'s recommended low-latency voice model) or gemini-2.5-flash-native-audio-preview-12-2025',
    schema: z.string().regex(/^[\w.-]+$/),
    default: 'gemini-3.8-live',
  },
  {
    name: 'GEMINI_VOICE',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'a Gemini prebuilt voice name, e.g. Puck, Charon, Kore',
    schema: z.string().regex(/^[A-Za-z]+$/),
    default: 'Puck',
  },
  {
    name: 'SIP_LANGUAGE',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the BCP-47 language spoken on phone calls, e.g. en-US',
    schema: z.string().regex(/^[a-z]{2,3}-[A-Z]{2}$/),
    default: 'en-US',
  },
  {
    name: 'WEB_LANGUAGE',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the BCP-47 language spoken with web visitors, e.g. ar-XA',
    schema: z.string().regex(/^[a-z]{2,3}-[A-Z]{2}$/),
    default: 'ar-XA',
  },
  {
    name: 'AGENT_PROMPT_FILE',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'a text file with the coordinator instructions for the voice model, e.g. ./prompts/my-clinic.md; unset for src/voice/coordinator.md',
    schema: z.string().min(1),
  },
  {
    name: 'GOOGLE_GEMINI_BASE_URL',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'another Gemini Live API endpoint (http:// or https://); unset for Google',
    schema: url(['http:', 'https:', 'ws:', 'wss:']),
  },
  {
    name: 'MODEL_ON_FAILURE',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'what a voice model link that closes, errs or stalls mid-call leads to: keypad (keypad mode takes over at once) or resume (a new connection first, the conversation kept; keypad mode if that fails)',
    schema: z.enum(['keypad', 'resume']),
    default: 'keypad',
  },
  {
    name: 'MODEL_REPLY_TIMEOUT_S',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'seconds without audio from the voice model once a reply is due before its link counts as lost (2-60), e.g. 8',
    schema: int(2, 60),
    default: '8',
  },
  {
    name: 'MODEL_TOOL_TIMEOUT_S',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: "seconds one of the voice model's tools may run before the link counts as stuck (2-120), e.g. 15",
    schema: int(2, 120),
    default: '15',
  },
  {
    name: 'LOG_LEVEL',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'one of trace, debug, info, warn, error, fatal',
    schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']),
    default: 'info',
  },
  {
    name: 'LOG_FORMAT',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'json (one JSON object per line) or pretty (coloured, for development)',
    schema: z.enum(['json', 'pretty']),
    default: 'json',
  },
  {
    name: 'WEB_HOST',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the address the web page server (`make web`) listens on, e.g. 127.0.0.1 (behind a reverse proxy on this host) or 0.0.0.0 (every interface)',
    schema: z.string().trim().regex(/^[A-Za-z0-9.:-]+$/, { message: 'is not an IP address or host name' }),
    default: '127.0.0.1',
  },
  {
    name: 'WEB_PORT',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the TCP port of the web page server (`make web`), 1-65535',
    schema: int(1, 65535),
    default: '8080',
  },
  {
    name: 'WEB_PUBLIC_URL',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the address patients open the web page at (http:// or https://), e.g. https://visit.example-clinic.com; visit links start with it; unset for http://WEB_HOST:WEB_PORT',
    schema: url(['http:', 'https:']),
  },
  {
    name: 'WEB_LIVEKIT_URL',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'the LiveKit URL browsers connect to (ws:// or wss://), when it differs from LIVEKIT_URL (a server reached by another name from outside); unset for LIVEKIT_URL',
    schema: url(['ws:', 'wss:']),
  },
  {
    name: 'VISIT_LINK_SECRET',
    group: 'visit-links',
    file: '.env',
    secret: true,
    expected: 'a random secret of at least 32 characters that signs visit links (e.g. `openssl rand -base64 48`); unset, the web page takes anonymous visitors only',
    schema: z.string().min(32),
  },
  {
    name: 'VISIT_LINK_DAYS',
    group: 'optional',
    file: '.env',
    secret: false,
    expected: 'how many days a visit link stays valid (1-90), e.g. 7',
    schema: int(1, 90),
    default: '7',
  },
  {
    name: 'TELNYX_PHONE_NUMBER',
    group: 'telnyx',
    file: '.env.sip',
    secret: false,
    expected: 'the business phone number in E.164, e.g. +14155550123',
    schema: e164,
  },
  {
    name: 'TELNYX_SIP_SERVER',
    group: 'telnyx',
    file: '.env.sip',
    secret: false,
    expected: 'the Telnyx SIP server as host or host:port, e.g. sip.telnyx.com:5060',
    schema: hostPort,
  },
  {
    name: 'TELNYX_SIP_USER',
    group: 'telnyx',
    file: '.env.sip',
    secret: false,
    expected: 'the SIP connection username from the Telnyx portal (letters and digits, no underscores)',
    schema: z.string().regex(/^[^\s_]+$/),
  },
  {
    name: 'TELNYX_SIP_PASSWORD',
    group: 'telnyx',
    file: '.env.sip',
    secret: true,
    expected: 'the SIP connection password from the Telnyx portal',
    schema: z.string().min(1),
  },
  {
    name: 'INBOUND_TRUNK_ID',
    group: 'inbound',
    file: '.env.sip',
    secret: false,
    expected: 'a LiveKit inbound trunk id (ST_…), written by `make setup-sip`',
    schema: z.string().regex(/^ST_\w+$/),
  },
  {
    name: 'OUTBOUND_TRUNK_ID',
    group: 'outbound',
    file: '.env.sip',
    secret: false,
    expected: 'a LiveKit outbound trunk id (ST_…), written by `make setup-sip`',
    schema: z.string().regex(/^ST_\w+$/),
  },
  {
    name: 'DISPATCH_RULE_ID',
    group: 'optional',
    file: '.env.sip',
    secret: false,
    expected: 'a LiveKit dispatch rule id (SDR_…), written by `make setup-sip`',
    schema: z.string().regex(/^SDR_\w+$/),
  },
] as const satisfies readonly VariableSpec[];

/** Every variable, in the order of the example files and the README's table. */
export const VARIABLES: readonly VariableSpec[] = TABLE;

type Spec = (typeof TABLE)[number];

/**
 * The validated configuration, typed: numbers as numbers, enums as their values, the country as a
 * `CountryCode`. LiveKit's variables and those with a default are always present; the rest are
 * absent unless set (or required by a group the command asked for).
 */
export type AppConfig = {
  readonly [S in Spec as S['name']]: S extends { readonly default: string } | { readonly group: 'livekit' } ? z.output<S['schema']> : z.output<S['schema']> | undefined;
};
