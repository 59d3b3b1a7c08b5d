/**
 * What a voice model is told: the coordinator prompt (a file), how to speak on this kind of connection,
 * and the caller's real appointment from the store — never invented facts.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeAppointment } from '../speech/prompts.js';
import type { CallerLookup } from '../store/index.js';

/**
 * The coordinator prompt shipped in the repository (src/agent/coordinator.md): the seed system's
 * persona, plus when to use which tool. The path works from src/agent and from dist/agent.
 */
export const DEFAULT_PROMPT_FILE = fileURLToPath(new URL('../../src/agent/coordinator.md', import.meta.url));

/**
 * Reads the coordinator prompt: AGENT_PROMPT_FILE when set, else {@link DEFAULT_PROMPT_FILE}.
 * @throws Error naming AGENT_PROMPT_FILE when the file cannot be read or is empty.
 */
export function loadPrompt(path: string = DEFAULT_PROMPT_FILE): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new Error(`AGENT_PROMPT_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); point it at a readable text file or unset it`);
  }
  if (!text) throw new Error(`AGENT_PROMPT_FILE: ${path} is empty; write the coordinator's instructions in it or unset it`);
  return text;
}

/** Full instructions for one call. */
export function phoneInstructions(prompt: string, clinic: string, direction: 'inbound' | 'outbound' | 'web', lookup: CallerLookup | undefined): string {
  const connection =
    direction === 'web'
      ? 'The visitor is on the clinic web site, speaking through their browser.'
      : 'This is a phone call: audio is narrowband, so speak clearly and repeat key facts such as the date and time. The caller can also press keys: 1 confirms, 2 asks to reschedule, 0 asks for the operator.';
  const facts = lookup?.appointment
    ? `The caller is ${lookup.patient.name}. They have ${describeAppointment(lookup.appointment)}; its status is ${lookup.appointment.status}.`
    : lookup
      ? `The caller is ${lookup.patient.name}. They have no upcoming appointment on file.`
      : 'The caller is not in our records; no appointment was found for their phone number.';
  const who =
    direction === 'outbound'
      ? `\nYou placed this call to the patient to confirm their appointment: speak first, say who you are and that you call from ${clinic}, then name the appointment.`
      : '';
  return `${prompt}\n\nYou work for ${clinic}.\n${connection}${who}\n${facts}`;
}
