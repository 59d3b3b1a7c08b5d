/**
 * The framework's local end-of-turn model, which no mode of ours uses, kept from loading. agents
 * 1.9.0's AgentServer registers it whenever its native binding (@livekit/local-inference) loads
 * (worker.ts `maybeRegisterLocalEotRunner`), and then runs an inference process beside the job
 * processes for the worker's whole life: ≈280 MB PSS measured, a third of an idle worker. Keypad
 * mode listens to keys only (its sessions run with `turnDetection: 'manual'`) and both voice models
 * detect turns on their own servers (Gemini Live's and OpenAI Realtime's voice activity detection).
 * The framework has no option to leave it out, so the binding is made to look absent in the worker
 * process only — the path the framework takes on machines without it: it logs one warning ("local
 * audio EOT disabled") and starts no inference process. Job processes are not affected.
 */
import { createRequire } from 'node:module';
import Module from 'node:module';

/**
 * Makes `@livekit/local-inference` resolve to nothing in this process, as the framework resolves it
 * (a CommonJS require from @livekit/agents). Call before the AgentServer is created.
 * @returns false when the package is not installed (nothing to leave out).
 */
export function leaveOutTurnDetector(): boolean {
  const fromAgents = createRequire(import.meta.resolve('@livekit/agents'));
  let path: string;
  try {
    path = fromAgents.resolve('@livekit/local-inference');
  } catch {
    return false;
  }
  const absent = new Module(path);
  absent.filename = path;
  absent.loaded = true;
  absent.exports = undefined;
  fromAgents.cache[path] = absent;
  return true;
}
