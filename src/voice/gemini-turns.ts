/**
 * Keeps a Gemini function call that the model makes on its own (not in reply to our `generateReply`)
 * from being dropped before it runs. agents-plugin-google 1.9.0 starts a new "generation" for each
 * part of a server turn with a non-blocking call (the 3.x models: the `toolCall` message first, then
 * the words in later messages), and tells the framework that the caller started speaking
 * (`input_speech_started`) at each — Gemini sends no such event, so the plugin makes one up for every
 * turn the server starts (livekit/agents#2963). The framework answers that by interrupting every
 * queued speech (agents 1.9.0 `AgentActivity.onInputSpeechStarted` → `interrupt()`): the turn's
 * call, still waiting for its turn to run behind speech being played, is dropped without a trace —
 * no tool run, no answer to the model (related: livekit/agents-js#1137, #2249). That happens
 * whenever the model calls a tool while the agent is speaking, e.g. the next call of a chain
 * (`verify_identity` answered, then `confirm_appointment`).
 *
 * So within a server turn opened by a function call (until its `turnComplete` or `interrupted`), the
 * later parts of the same turn do not report speech: they are the model going on, not the caller.
 * The caller's real barge-in still comes through: the server's `interrupted` is reported as before.
 */

/** The parts of the plugin's RealtimeSession this wraps (instance methods of agents-plugin-google 1.9.0). */
interface TurnHandling {
  handleToolCall(toolCall: unknown): void;
  handleServerContent(content: { turnComplete?: boolean; interrupted?: boolean }): void;
  startNewGeneration(): void;
  handleInputSpeechStarted(): void;
}

/**
 * Wraps `session`'s turn handling as the header says. A session without these methods (another
 * plugin version) is left as it is, and `false` returned so the caller can log it.
 */
export function keepToolTurns(session: object): boolean {
  const s = session as Partial<TurnHandling>;
  if (
    typeof s.handleToolCall !== 'function' ||
    typeof s.handleServerContent !== 'function' ||
    typeof s.startNewGeneration !== 'function' ||
    typeof s.handleInputSpeechStarted !== 'function'
  ) {
    return false;
  }
  const original = {
    handleToolCall: s.handleToolCall,
    handleServerContent: s.handleServerContent,
    startNewGeneration: s.startNewGeneration,
    handleInputSpeechStarted: s.handleInputSpeechStarted,
  };
  /** A server turn opened by a function call is under way. */
  let toolTurn = false;
  /** A generation of that turn is being started (the plugin reports speech from inside it). */
  let starting = false;
  const t = session as TurnHandling;
  t.handleToolCall = function (toolCall) {
    original.handleToolCall.call(this, toolCall);
    toolTurn = true;
  };
  t.handleServerContent = function (content) {
    original.handleServerContent.call(this, content);
    if (content?.turnComplete || content?.interrupted) toolTurn = false;
  };
  t.startNewGeneration = function () {
    starting = true;
    try {
      original.startNewGeneration.call(this);
    } finally {
      starting = false;
    }
  };
  t.handleInputSpeechStarted = function () {
    if (starting && toolTurn) return;
    original.handleInputSpeechStarted.call(this);
  };
  return true;
}
