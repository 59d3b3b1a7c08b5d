import { describe, expect, it } from 'vitest';
import { JobMetadataError, parseOutboundMetadata } from '../../src/outbound/metadata.js';

/** What the job does with metadata it did not expect: refuse it, naming the field — never take it for an inbound call. */
describe('job metadata', () => {
  const refused = (metadata: string) => {
    try {
      parseOutboundMetadata(metadata);
    } catch (err) {
      expect(err).toBeInstanceOf(JobMetadataError);
      return (err as Error).message;
    }
    throw new Error(`accepted: ${metadata}`);
  };

  it('refuses text that is not JSON, saying so', () => {
    expect(refused('{bad json')).toMatch(/^job metadata is not JSON \(.+\); an outbound dispatch carries \{"direction":"outbound"/);
    expect(refused("{'appointment_id': 'a1'}")).toMatch(/not JSON/); // a Python repr, as the seed system wrote it
  });
  it('names the field that is wrong', () => {
    expect(refused('{"direction":"outbound","appointmentId":5,"phoneNumber":"+14155550101"}')).toMatch(/^job metadata: appointmentId .*string/);
    expect(refused('{"direction":"outbound","appointmentId":"a1"}')).toMatch(/^job metadata: phoneNumber /);
    expect(refused('{"direction":"inbound"}')).toMatch(/^job metadata: direction /);
    expect(refused('[1,2]')).toMatch(/^job metadata: \(the whole value\) /);
    expect(refused('null')).toMatch(/^job metadata: \(the whole value\) /);
  });
  it('takes none (inbound and web dispatches) and the dialer\'s own', () => {
    expect(parseOutboundMetadata('')).toBeUndefined();
    expect(parseOutboundMetadata('   ')).toBeUndefined();
    expect(parseOutboundMetadata('{"direction":"outbound","appointmentId":"a1","phoneNumber":"+14155550101"}')?.appointmentId).toBe('a1');
  });
});
