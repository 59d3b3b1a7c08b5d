/**
 * The coordinator prompt: the voice model's persona and when to use which tool, from a file the
 * clinic may replace (AGENT_PROMPT_FILE). Read once, by the worker at start.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The coordinator prompt shipped in the repository (src/voice/coordinator.md): the seed system's
 * persona, plus when to use which tool. The path works from src/voice and from dist/voice.
 */
export const DEFAULT_PROMPT_FILE = fileURLToPath(new URL('../../src/voice/coordinator.md', import.meta.url));

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
