import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskPhoneNumber, REDACTED, redactText, redactValue } from '../../src/logging/index.js';

/** A logger writing JSON lines into an array. */
function capture(level = 'trace') {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger({ level, destination });
  const raw = () => JSON.stringify(lines);
  return { logger, lines, raw };
}

describe('maskPhoneNumber', () => {
  it('keeps only the last 4 digits and the separators', () => {
    expect(maskPhoneNumber('+14157774444')).toBe('+*******4444');
    expect(maskPhoneNumber('+1 (415) 777-4444')).toBe('+* (***) ***-4444');
    expect(maskPhoneNumber('14157774444')).toBe('*******4444');
  });
  it('leaves values of 4 digits or fewer alone', () => {
    expect(maskPhoneNumber('1234')).toBe('1234');
    expect(maskPhoneNumber('')).toBe('');
  });
});

describe('redactText', () => {
  it('masks E.164 numbers, sip/tel URIs and NANP numbers in free text', () => {
    expect(redactText('call from +14157774444 to +44 20 7183 8750')).toBe(
      'call from +*******4444 to +** ** **** 8750',
    );
    expect(redactText('INVITE sip:15550001234@127.0.0.1')).toBe('INVITE sip:*******1234@127.0.0.1');
    expect(redactText('tel:+15550001234')).toBe('tel:+*******1234');
    expect(redactText('dial (415) 777-4444 now')).toBe('dial (***) ***-4444 now');
    expect(redactText('caller 14157774444 pressed 1')).toBe('caller *******4444 pressed 1');
  });
  it('leaves dates, times, ids and short numbers alone', () => {
    const text = 'appointment 2026-11-22 at 09:30, room appt-42 port 5060 took 1200 ms, version 1.13.5';
    expect(redactText(text)).toBe(text);
  });
});

describe('redactValue on errors', () => {
  it('keeps code and other own properties, redacted', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED'), {
      code: 'ECONNREFUSED',
      port: 7880,
      callee: '+14157774444',
      password: 'sip-pass-123',
    });
    const out = redactValue(err) as Record<string, unknown>;
    expect(out).toMatchObject({ type: 'Error', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED', port: 7880 });
    expect(out.callee).toBe('+*******4444');
    expect(out.password).toBe(REDACTED);
    expect(typeof out.stack).toBe('string');
  });

  it('keeps the cause chain, each level converted and redacted', () => {
    const root = Object.assign(new Error('socket hang up to +14157774444'), { code: 'ECONNRESET' });
    const err = new Error('dial failed', { cause: new Error('SIP 486', { cause: root }) });
    const out = redactValue(err) as { cause: { message: string; cause: { code: string; message: string } } };
    expect(out.cause.message).toBe('SIP 486');
    expect(out.cause.cause.code).toBe('ECONNRESET');
    expect(out.cause.cause.message).toBe('socket hang up to +*******4444');
    expect(JSON.stringify(out)).not.toContain('4157774444');
  });

  it('keeps a cause that is not an Error, and the errors of an AggregateError', () => {
    const out = redactValue(new AggregateError([new Error('a'), new Error('b')], 'both', { cause: 'timeout' })) as {
      cause: unknown;
      errors: { message: string }[];
    };
    expect(out.cause).toBe('timeout');
    expect(out.errors.map((e) => e.message)).toEqual(['a', 'b']);
  });

  it('ends a cause cycle at the depth limit', () => {
    const err = new Error('loop') as Error & { cause?: unknown };
    err.cause = err;
    expect(JSON.stringify(redactValue(err))).toContain('[…]');
  });
});

describe('createLogger redaction', () => {
  it('replaces API keys, secrets and SIP passwords, at any depth', () => {
    const { logger, lines, raw } = capture();
    logger.info(
      {
        LIVEKIT_API_SECRET: 'shh-secret-value',
        apiKey: 'APIabcdef',
        GOOGLE_API_KEY: 'AIzaSy-google',
        trunk: { authUsername: 'clinic', authPassword: 'sip-pass-123' },
        headers: { authorization: 'Bearer tok' },
        token: 'jwt.jwt.jwt',
      },
      'provisioned',
    );
    const line = lines[0]!;
    expect(line.LIVEKIT_API_SECRET).toBe(REDACTED);
    expect(line.apiKey).toBe(REDACTED);
    expect(line.GOOGLE_API_KEY).toBe(REDACTED);
    expect(line.trunk).toEqual({ authUsername: 'clinic', authPassword: REDACTED });
    expect(line.headers).toEqual({ authorization: REDACTED });
    expect(line.token).toBe(REDACTED);
    for (const secret of ['shh-secret-value', 'APIabcdef', 'AIzaSy-google', 'sip-pass-123', 'Bearer tok', 'jwt.jwt.jwt']) {
      expect(raw()).not.toContain(secret);
    }
  });

  it('masks phone numbers by key, in arrays, in the message and in child bindings', () => {
    const { logger, lines, raw } = capture();
    const child = logger.child({ callerNumber: '+14157774444' });
    child.info(
      { phoneNumber: '+1 (415) 777-4444', numbers: ['+15550001111', '+15550002222'], 'sip.trunkPhoneNumber': '+15559998888' },
      'inbound call from %s',
      '+14157774444',
    );
    const line = lines[0]!;
    expect(line.callerNumber).toBe('+*******4444');
    expect(line.phoneNumber).toBe('+* (***) ***-4444');
    expect(line.numbers).toEqual(['+*******1111', '+*******2222']);
    expect(line['sip.trunkPhoneNumber']).toBe('+*******8888');
    expect(line.msg).toBe('inbound call from +*******4444');
    for (const number of ['4157774444', '5550001111', '5550002222', '5559998888']) {
      expect(raw()).not.toContain(number);
    }
  });

  it('redacts inside errors and keeps ordinary fields as they are', () => {
    const { logger, lines } = capture();
    logger.error({ err: new Error('dial +14157774444 failed'), room: 'call-42', attempt: 3 }, 'failed');
    const line = lines[0]!;
    expect(JSON.stringify(line.err)).toContain('dial +*******4444 failed');
    expect(JSON.stringify(line.err)).not.toContain('4157774444');
    expect(line.room).toBe('call-42');
    expect(line.attempt).toBe(3);
  });

  it('honours the level', () => {
    const { logger, lines } = capture('warn');
    logger.info('hidden');
    logger.warn('shown');
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });
});
