import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { situationOf } from '../../src/call/index.js';
import { DEFAULT_PROMPT_FILE, instructionsFor, loadPrompt } from '../../src/voice/index.js';
import type { CallerLookup } from '../../src/store/index.js';

const lookup = {
  patient: { id: 'p1', name: 'Maria Garcia', phone_e164: '+14155550101', language: 'en-US', created_at: '' },
  appointment: {
    id: 'a1', patient_id: 'p1', provider_id: 'dr', provider_name: 'Doctor Chen', slot_id: null, starts_at: '2026-11-23T18:30:00.000Z',
    timezone: 'America/Los_Angeles', duration_min: 30, service: 'dental cleaning', location: 'the Main Street clinic', status: 'scheduled', updated_at: '',
  },
} as CallerLookup;

describe('voice model instructions', () => {
  it('come from the prompt file in the repository by default', () => {
    expect(DEFAULT_PROMPT_FILE).toMatch(/src\/voice\/coordinator\.md$/);
    const prompt = loadPrompt();
    expect(prompt).toContain('appointment coordinator');
    expect(prompt).toContain('list_open_slots');
  });

  it('name AGENT_PROMPT_FILE and the fix when the file is missing or empty', () => {
    expect(() => loadPrompt('/nonexistent/prompt.md')).toThrow(/^AGENT_PROMPT_FILE: cannot read \/nonexistent\/prompt\.md \(ENOENT\); point it at a readable text file or unset it$/);
    const empty = join(mkdtempSync(join(tmpdir(), 'prompt-')), 'empty.md');
    writeFileSync(empty, '  \n');
    expect(() => loadPrompt(empty)).toThrow(/AGENT_PROMPT_FILE: .* is empty/);
  });

  it('add the clinic, the connection and the caller\'s real appointment; outbound calls speak first', () => {
    const inbound = instructionsFor('PROMPT', 'Main Street Clinic', situationOf('inbound', lookup));
    expect(inbound.startsWith('PROMPT\n')).toBe(true);
    expect(inbound).toContain('You work for Main Street Clinic.');
    expect(inbound).toContain('This is a phone call');
    expect(inbound).toContain('The caller is Maria Garcia. They have your dental cleaning with Doctor Chen on Monday, November twenty-third at ten thirty a.m.');
    expect(inbound).not.toContain('You placed this call');
    expect(instructionsFor('PROMPT', 'Main Street Clinic', situationOf('outbound', lookup))).toContain('You placed this call to the patient');
    expect(instructionsFor('PROMPT', 'Main Street Clinic', situationOf('web', undefined))).toContain('clinic web site');
    expect(instructionsFor('PROMPT', 'Main Street Clinic', situationOf('inbound', undefined))).toContain('not in our records');
  });

  it('web visits: on-screen keys, the web language by name, the linked patient\'s facts — or nothing about anyone without a link', () => {
    const linked = instructionsFor('PROMPT', 'Main Street Clinic', situationOf('web', lookup), 'ar-XA');
    expect(linked).toContain('The visitor is on the clinic web site');
    expect(linked).toContain('They can also press on-screen keys: 1 ');
    expect(linked).toContain('\nSpeak Arabic, unless the caller speaks to you in another language.');
    expect(linked).not.toContain('phone call');
    expect(linked).toContain('The caller is Maria Garcia. They have your dental cleaning with Doctor Chen');
    const anonymous = instructionsFor('PROMPT', 'Main Street Clinic', situationOf('web', undefined), 'ar-XA');
    expect(anonymous).toContain('without a visit link');
    expect(anonymous).toContain('say nothing about any patient or appointment');
    expect(anonymous).not.toMatch(/Maria|dental|Chen/);
    expect(instructionsFor('PROMPT', 'Main Street Clinic', situationOf('inbound', lookup), 'en-US')).toContain('\nSpeak English, unless');
  });

  it('before the caller has proved who they are: no name, no appointment, only how to verify', () => {
    const inbound = instructionsFor('PROMPT', 'Main Street Clinic', { kind: 'unverified', direction: 'inbound', method: 'dob' });
    expect(inbound).not.toMatch(/Maria|dental|Chen|November/);
    expect(inbound).toContain('ask for their date of birth and call verify_identity');
    expect(inbound).toContain('say nothing about any patient or appointment');
    expect(inbound).toContain('(once they have proved who they are)');
    const outbound = instructionsFor('PROMPT', 'Main Street Clinic', { kind: 'unverified', direction: 'outbound', method: 'name', calledFor: 'Maria Garcia' });
    // The first name only, said to whoever answers; nothing about the appointment.
    expect(outbound).toContain('You are calling for Maria');
    expect(outbound).not.toMatch(/Garcia|dental|Chen|November|to confirm their appointment/);
    expect(outbound).toContain('You placed this call: speak first, and say that you call from Main Street Clinic.');
    const failed = instructionsFor('PROMPT', 'Main Street Clinic', { kind: 'not_verified', direction: 'inbound' });
    expect(failed).toContain('could not prove who they are');
  });
});
