import { afterEach, describe, expect, it } from 'vitest';
import {
  REDACTED,
  redactText,
  redactValue,
  registerPrivateValues,
  registerSecrets,
  registerSecretsIn,
  type Unregister,
} from '../../src/logging/index.js';

const registered: Unregister[] = [];
/** Registers through `register` and removes the values again after the test. */
function keep(unregister: Unregister): Unregister {
  registered.push(unregister);
  return unregister;
}
afterEach(() => {
  for (const unregister of registered.splice(0)) unregister();
});

describe('registerSecrets', () => {
  const secret = 'Zx9/Qw+7pL"Kd\\m2';

  it('replaces the exact value anywhere, as is, JSON-escaped once or twice, and percent-encoded', () => {
    keep(registerSecrets([secret]));
    expect(redactText(`secret is ${secret}.`)).toBe(`secret is ${REDACTED}.`);
    expect(redactText(`glued${secret}glued`)).toBe(`glued${REDACTED}glued`);
    const line = JSON.stringify({ msg: `using ${secret}` });
    expect(redactText(line)).toBe(JSON.stringify({ msg: `using ${REDACTED}` }));
    const twice = JSON.stringify({ msg: JSON.stringify({ s: secret }) });
    expect(redactText(twice)).toBe(JSON.stringify({ msg: JSON.stringify({ s: REDACTED }) }));
    expect(redactText(`?x=${encodeURIComponent(secret)}&y=1`)).toBe(`?x=${REDACTED}&y=1`);
  });

  it('replaces a secret made of digits whole, before phone masking could show part of it', () => {
    keep(registerSecrets(['98765432101234']));
    expect(redactText('pin 98765432101234')).toBe(`pin ${REDACTED}`);
  });

  it('is case-sensitive', () => {
    keep(registerSecrets(['AbCdEfGh1234']));
    expect(redactText('abcdefgh1234')).toBe('abcdefgh1234');
  });

  it('ignores values shorter than 8 characters, empty or missing', () => {
    keep(registerSecrets(['5060', 'clinic', 'abcdefg', '', undefined, null]));
    const text = 'clinic abcdefg on port 5060';
    expect(redactText(text)).toBe(text);
  });

  it('stops replacing a value once unregistered, unless another registration still holds it', () => {
    const first = registerSecrets(['value-12345678']);
    const second = keep(registerSecrets(['value-12345678']));
    first();
    first();
    expect(redactText('value-12345678')).toBe(REDACTED);
    second();
    expect(redactText('value-12345678')).toBe('value-12345678');
  });

  it('applies to strings inside logged objects', () => {
    keep(registerSecrets(['livekit-secret-value']));
    expect(redactValue({ note: 'signed with livekit-secret-value', nested: ['livekit-secret-value'] })).toEqual({
      note: `signed with ${REDACTED}`,
      nested: [REDACTED],
    });
  });
});

describe('registerSecretsIn', () => {
  it('registers the values of the keys that name secrets, and only those', () => {
    keep(
      registerSecretsIn({
        LIVEKIT_URL: 'ws://livekit.local:7880',
        LIVEKIT_API_KEY: 'APIdevkey12345',
        LIVEKIT_API_SECRET: 'devsecret-0123456789',
        GOOGLE_API_KEY: 'google-key-value-1',
        TELNYX_SIP_PASSWORD: 'sip-password-99',
        TELNYX_SIP_USER: 'clinic-sip-user',
        AGENT_NAME: 'appointment-agent',
        WORKER_PORT: 8081,
      }),
    );
    const text =
      'ws://livekit.local:7880 APIdevkey12345 devsecret-0123456789 google-key-value-1 sip-password-99 clinic-sip-user appointment-agent';
    expect(redactText(text)).toBe(
      `ws://livekit.local:7880 ${REDACTED} ${REDACTED} ${REDACTED} ${REDACTED} clinic-sip-user appointment-agent`,
    );
  });
});

describe('registerPrivateValues', () => {
  it('replaces whole words, case-insensitively, whitespace-tolerant', () => {
    keep(registerPrivateValues(['Maria Garcia', 'Garcia', 'Ann']));
    expect(redactText('booked for maria  GARCIA; Garcia confirmed')).toBe(`booked for ${REDACTED}; ${REDACTED} confirmed`);
    expect(redactText('Ann called about the Annual check, planned by Joann')).toBe(
      `${REDACTED} called about the Annual check, planned by Joann`,
    );
  });

  it('knows letters beyond ASCII', () => {
    keep(registerPrivateValues(['José Núñez']));
    expect(redactText('patient JOSÉ NÚÑEZ arrived')).toBe(`patient ${REDACTED} arrived`);
    expect(redactText('josé núñezz')).toBe('josé núñezz');
  });

  it('reaches names inside JSON lines and logged objects', () => {
    keep(registerPrivateValues(['Garcia']));
    expect(redactText('{"msg":"user said: I am Garcia"}')).toBe(`{"msg":"user said: I am ${REDACTED}"}`);
    expect(redactValue({ patient: { lastName: 'Garcia' } })).toEqual({ patient: { lastName: REDACTED } });
  });

  it('ignores values shorter than 3 characters after trimming', () => {
    keep(registerPrivateValues(['Li', ' Al ', '']));
    expect(redactText('Li and Al')).toBe('Li and Al');
  });

  it('stops replacing once unregistered', () => {
    const unregister = registerPrivateValues(['Garcia']);
    expect(redactText('Garcia')).toBe(REDACTED);
    unregister();
    expect(redactText('Garcia')).toBe('Garcia');
  });
});
