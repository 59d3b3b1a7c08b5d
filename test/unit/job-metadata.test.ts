import { describe, expect, it } from 'vitest';
import { JobMetadataError, parseJobMetadata, writeOutboundMetadata, writeWebMetadata } from '../../src/worker/metadata.js';

/** What the job does with metadata it did not expect: refuse it, naming the field — never take it for an inbound call. */
describe('job metadata', () => {
  const refused = (metadata: string) => {
    try {
      parseJobMetadata(metadata);
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
    expect(refused('{"direction":"web"}')).toMatch(/^job metadata: visitor /);
    expect(refused('{"direction":"web","visitor":"v1","patientId":7}')).toMatch(/^job metadata: patientId /);
    expect(refused('[1,2]')).toMatch(/^job metadata: \(the whole value\) /);
    expect(refused('null')).toMatch(/^job metadata: \(the whole value\) /);
  });
  it('takes none (inbound dispatches), the dialer\'s own and the web server\'s own', () => {
    expect(parseJobMetadata('')).toBeUndefined();
    expect(parseJobMetadata('   ')).toBeUndefined();
    expect(parseJobMetadata(writeOutboundMetadata({ appointmentId: 'a1', phoneNumber: '+14155550101' }))).toEqual({
      direction: 'outbound',
      appointmentId: 'a1',
      phoneNumber: '+14155550101',
    });
    expect(parseJobMetadata(writeWebMetadata({ visitor: 'visitor-1', patientId: 'p1' }))).toEqual({ direction: 'web', visitor: 'visitor-1', patientId: 'p1' });
    expect(parseJobMetadata(writeWebMetadata({ visitor: 'visitor-2' }))).toEqual({ direction: 'web', visitor: 'visitor-2' });
  });
  it('writes only what it can read back', () => {
    expect(() => writeWebMetadata({ visitor: '' })).toThrow();
    expect(() => writeOutboundMetadata({ appointmentId: '', phoneNumber: '+14155550101' })).toThrow();
  });
});
