import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  createLogger,
  maskPhoneNumber,
  REDACTED,
  redactText,
  redactValue,
  registerPrivateValues,
  registerSecrets,
} from '../../src/logging/index.js';

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

describe('redactText: phone numbers', () => {
  it('masks E.164 numbers, sip/tel URIs and NANP numbers in free text', () => {
    expect(redactText('call from +14157774444 to +44 20 7183 8750')).toBe(
      'call from +*******4444 to +** ** **** 8750',
    );
    expect(redactText('INVITE sip:15550001234@127.0.0.1')).toBe('INVITE sip:*******1234@127.0.0.1');
    expect(redactText('INVITE sip:7770123@127.0.0.1')).toBe('INVITE sip:***0123@127.0.0.1');
    expect(redactText('tel:+15550001234')).toBe('tel:+*******1234');
    expect(redactText('dial (415) 777-4444 now')).toBe('dial (***) ***-4444 now');
    expect(redactText('caller 14157774444 pressed 1')).toBe('caller *******4444 pressed 1');
  });

  it('masks North-American numbers written with dots, dashes, spaces or parentheses', () => {
    expect(redactText('415.777.0123')).toBe('***.***.0123');
    expect(redactText('415-777-0123')).toBe('***-***-0123');
    expect(redactText('415 777 0123')).toBe('*** *** 0123');
    expect(redactText('(415) 777-0123')).toBe('(***) ***-0123');
    expect(redactText('(415)777-0123')).toBe('(***)***-0123');
    expect(redactText('(415) 777 0123')).toBe('(***) *** 0123');
    expect(redactText('415-7770123')).toBe('***-***0123');
    expect(redactText('1-415-777-0123')).toBe('1-***-***-0123');
    expect(redactText('+1 (415) 777-0123')).toBe('+* (***) ***-0123');
    expect(redactText('call me at 415-777-0123.')).toBe('call me at ***-***-0123.');
  });

  it('masks national numbers with a trunk prefix (UK and the like)', () => {
    expect(redactText('London 020 7183 8750')).toBe('London *** **** 8750');
    expect(redactText('mobile 07700 900123')).toBe('mobile ***** **0123');
    expect(redactText('0161 496 0000')).toBe('**** *** 0000');
    expect(redactText('01632 960123')).toBe('***** **0123');
    expect(redactText('07700900123')).toBe('*******0123');
    expect(redactText('+44 (0)20 7183 8750')).toBe('+** (*)** **** 8750');
    expect(redactText('01 23 45 67 89')).toBe('** ** ** 67 89');
    // the number ends where the digits stop counting as one: a following date is left alone
    expect(redactText('07700 900123 2026-11-22')).toBe('***** **0123 2026-11-22');
  });

  it('masks E.164 numbers inside room names and identities', () => {
    expect(redactText('room call-_+14155550202_abcd')).toBe('room call-_+*******0202_abcd');
    expect(redactText('room call-_14155550202_abcd')).toBe('room call-_*******0202_abcd');
    expect(redactText('identity sip_+14155550202')).toBe('identity sip_+*******0202');
    expect(redactText('+14157770123 200 OK')).toBe('+*******0123 200 OK');
  });

  it('masks 13-digit numbers that cannot be epoch milliseconds', () => {
    // German mobile in E.164 without +, and a + in front of what would otherwise be an epoch
    expect(redactText('room call-_4915112345678_x')).toBe('room call-_*********5678_x');
    expect(redactText('to +1763812345678')).toBe('to +*********5678');
    expect(redactText('id 17638123456789')).toBe('id **********6789');
  });

  it('masks a bare phone number of a JSON line as a string, so the line stays JSON', () => {
    const out = redactText('{"level":30,"to":14155550202,"from":4157770123}');
    expect(out).toBe('{"level":30,"to":"*******0202","from":"******0123"}');
    expect(JSON.parse(out)).toEqual({ level: 30, to: '*******0202', from: '******0123' });
    // inside a string (escaped JSON text), it is masked in place: quotes there would end the string
    expect(redactText(JSON.stringify({ msg: JSON.stringify({ to: 14155550202 }) }))).toBe(
      JSON.stringify({ msg: JSON.stringify({ to: 0 }).replace('0', '*******0202') }),
    );
  });

  it('leaves dates, times, ids and short numbers alone', () => {
    const text = 'appointment 2026-11-22 at 09:30, room appt-42 port 5060 took 1200 ms, version 1.13.5';
    expect(redactText(text)).toBe(text);
  });

  it.each([
    ['ISO date-time', 'at 2026-11-22T10:30:00.000Z and 2026-11-22 10:30:00+01:00'],
    ['dates written by hand', 'on 22/11/2026, 22.11.2026, 11-22-2026 and 05-11-2026 10:30'],
    ['times and durations', 'at 10:30, took 1.5s, ttft 0.345 s, 1200 ms, timeout 60000ms'],
    ['UUIDs, digits only or not', 'job 550e8400-e29b-41d4-a716-446655440000 and 12345678-1234-1234-1234-123456789012'],
    ['epoch milliseconds in a room name and in pino time', 'room outbound-appt-1-1763812345678 {"time":1763812345678}'],
    ['ports, addresses and SIP status codes', 'ws://127.0.0.1:7880 sip 192.168.1.100:5060 SIP/2.0 486 Busy Here, 200 OK'],
    ['short ids and counts', 'job AJ_x9k2LmQ8 room appt-42 attempt 3 of 5 pid 12345'],
    ['decimal numbers and lists of small numbers', 'score 4157770123.5 lat 0.12 0.34 0.56 levels 0 1 2 3 4 5 6 7 8 9'],
    ['a 7-digit local number and 9-digit counts', 'ext 777-0123 bytes 123456789 and 01234 5678'],
    ['digit runs longer than any phone number', 'trace 12345678901234567890'],
  ])('leaves %s alone', (_what, text) => {
    expect(redactText(text)).toBe(text);
  });
});

describe('redactText: secrets', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZ2VudCIsInZpZGVvIjp7fX0.5mhBHqs5_DTLdINd9p5m7ZJ6XD0Xc55kIaCRY5r6HRA';
  const googleKey = 'AIzaSyA1234567890abcdefghijklmnopqrstuv';
  const openaiKey = 'sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34';

  it('replaces JWTs, Google API keys and OpenAI keys wherever they are', () => {
    expect(redactText(`token ${jwt} end`)).toBe(`token ${REDACTED} end`);
    expect(redactText(`wss://lk/rtc?access=${jwt}`)).toBe(`wss://lk/rtc?access=${REDACTED}`);
    expect(redactText(`using ${googleKey} now`)).toBe(`using ${REDACTED} now`);
    expect(redactText(`key ${openaiKey}`)).toBe(`key ${REDACTED}`);
    expect(redactText(JSON.stringify({ msg: `line\n${openaiKey}` }))).not.toContain(openaiKey);
  });

  it('keeps words that only start like a key', () => {
    const text = 'disk-usage-report-for-clinic-server sk-short eyJhbGciOiJIUzI1NiJ9 AIzaShort';
    expect(redactText(text)).toBe(text);
  });

  it('replaces the value of secret query parameters and keeps the others', () => {
    expect(redactText(`GET https://generativelanguage.googleapis.com/v1?key=${googleKey}&x=1`)).toBe(
      `GET https://generativelanguage.googleapis.com/v1?key=${REDACTED}&x=1`,
    );
    expect(redactText('a=1&api_key=abc123&token=zzz&access_token=qq&b=2')).toBe(
      `a=1&api_key=${REDACTED}&token=${REDACTED}&access_token=${REDACTED}&b=2`,
    );
  });

  it('replaces name=value and name: \'value\' pairs in text', () => {
    expect(redactText('secret=s3 password=p4ss passwd=p5 LIVEKIT_API_SECRET=abcdefgh apiKey = xyz')).toBe(
      `secret=${REDACTED} password=${REDACTED} passwd=${REDACTED} LIVEKIT_API_SECRET=${REDACTED} apiKey = ${REDACTED}`,
    );
    expect(redactText(`{ apiKey: 'AIza-short', password: 'hunter 2', name: 'Ann' }`)).toBe(
      `{ apiKey: '${REDACTED}', password: '${REDACTED}', name: 'Ann' }`,
    );
    expect(redactText('password="hunter2"')).toBe(`password="${REDACTED}"`);
  });

  it('keeps name=value pairs whose name only contains a secret word', () => {
    const text = 'completion_tokens=50 max_tokens=100 keyframe=1 secretary=Ann room=call-42';
    expect(redactText(text)).toBe(text);
  });

  it('replaces Authorization headers, Bearer tokens and Basic credentials', () => {
    expect(redactText('Authorization: Bearer abc.def-ghi')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactText(`Bearer ${jwt}`)).toBe(`Bearer ${REDACTED}`);
    expect(redactText('authorization: Token xyz123')).toBe(`authorization: Token ${REDACTED}`);
    expect(redactText('Authorization: xyz123')).toBe(`Authorization: ${REDACTED}`);
    expect(redactText('Authorization: Basic dXNlcjpwYXNz')).toBe(`Authorization: Basic ${REDACTED}`);
    expect(redactText('sent Basic dXNlcjpwYXNz')).toBe(`sent Basic ${REDACTED}`);
  });

  it('keeps the English word basic', () => {
    const text = 'Basic setup done, Basic Configuration loaded';
    expect(redactText(text)).toBe(text);
  });

  it('replaces the password of a URL and keeps its host and port', () => {
    expect(redactText('postgres://clinic:pa55word@db:5432/x')).toBe(`postgres://clinic:${REDACTED}@db:5432/x`);
    expect(redactText('wss://livekit.example:7880/rtc')).toBe('wss://livekit.example:7880/rtc');
  });

  it('replaces secret values in JSON text and keeps the line JSON', () => {
    const line = JSON.stringify({ apiSecret: 's3cr3t"x', password: 'p', pin: 1, apiKey: 12345, completion_tokens: 50, token: '' });
    const out = redactText(line);
    expect(JSON.parse(out)).toEqual({
      apiSecret: REDACTED,
      password: REDACTED,
      pin: 1,
      apiKey: REDACTED,
      completion_tokens: 50,
      token: '',
    });
  });

  it('replaces secret values in JSON text inside a JSON line (escaped) and keeps both levels JSON', () => {
    const inner = JSON.stringify({ apiSecret: 'in"ner\\x', authorization: 'Bearer t0k', room: 'call-42' });
    const out = redactText(JSON.stringify({ level: 30, msg: `config ${inner}` }));
    const msg = (JSON.parse(out) as { msg: string }).msg;
    expect(JSON.parse(msg.slice('config '.length))).toEqual({ apiSecret: REDACTED, authorization: REDACTED, room: 'call-42' });
  });

  it('gives the same text when applied twice', () => {
    const text = `+14155550202 415-777-0123 020 7183 8750 key=${googleKey} Bearer ${jwt} {"password":"x"}`;
    expect(redactText(redactText(text))).toBe(redactText(text));
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

  it('redacts the message pino takes from an Error logged alone, and keeps its type and code', () => {
    const { logger, lines, raw } = capture();
    logger.error(Object.assign(new TypeError('dial +14157774444 failed'), { code: 'E_DIAL' }));
    const line = lines[0]!;
    expect(line.msg).toBe('dial +*******4444 failed');
    expect(line.err).toMatchObject({ type: 'TypeError', code: 'E_DIAL', message: 'dial +*******4444 failed' });
    expect(raw()).not.toContain('4157774444');
  });

  it('redacts what format arguments print', () => {
    const { logger, lines } = capture();
    logger.info('config %o, peer %j, key %s', { password: 'hunter2', to: '+14157774444' }, { apiSecret: 'abc' }, 'AIzaSyA1234567890abcdefghijklmnopqrstuv');
    expect(lines[0]!.msg).toBe(`config {"password":"${REDACTED}","to":"+*******4444"}, peer {"apiSecret":"${REDACTED}"}, key ${REDACTED}`);
  });

  it('redacts registered secrets and private values under any key, and keeps pino time a number', () => {
    const unregister = [registerSecrets(['lk-secret-0123456789']), registerPrivateValues(['Maria Garcia'])];
    try {
      const { logger, lines, raw } = capture();
      logger.child({ note: 'lk-secret-0123456789' }).info({ said: 'this is Maria Garcia' }, 'token lk-secret-0123456789');
      const line = lines[0]!;
      expect(line).toMatchObject({ note: REDACTED, said: `this is ${REDACTED}`, msg: `token ${REDACTED}` });
      expect(typeof line.time).toBe('number');
      expect(raw()).not.toMatch(/lk-secret|Maria|Garcia/);
    } finally {
      for (const u of unregister) u();
    }
  });

  it('honours the level', () => {
    const { logger, lines } = capture('warn');
    logger.info('hidden');
    logger.warn('shown');
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });
});

describe('dates of birth (a caller\'s proof of identity)', () => {
  it('are redacted by key, in objects and in JSON text, as the framework logs a tool call\'s arguments', () => {
    expect(redactValue({ function: 'verify_identity', 'lk.pii.arguments': { date_of_birth: '1985-03-14' } })).toEqual({
      function: 'verify_identity',
      'lk.pii.arguments': { date_of_birth: REDACTED },
    });
    expect(redactValue({ dateOfBirth: '1985-03-14', dob: '03141985', started: '2026-11-22' })).toEqual({ dateOfBirth: REDACTED, dob: REDACTED, started: '2026-11-22' });
    expect(redactText('{"args":"{\\"date_of_birth\\":\\"1985-03-14\\"}"}')).toBe(`{"args":"{\\"date_of_birth\\":\\"${REDACTED}\\"}"}`);
    expect(redactText('{"date_of_birth":"1985-03-14","at":"2026-11-22"}')).toBe(`{"date_of_birth":"${REDACTED}","at":"2026-11-22"}`);
  });

  it('a logger masks them in its lines', () => {
    const { logger, raw } = capture();
    logger.info({ 'lk.pii.arguments': { date_of_birth: '1985-03-14' } }, 'Executing LLM tool call');
    expect(raw()).not.toContain('1985-03-14');
  });
});
