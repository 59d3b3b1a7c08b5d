/**
 * Loaded with `--import` before anything else in each process the worker forks (see main.ts): every
 * line the process writes is redacted from its first one (the framework's included), and in a job
 * process the CPU priority is lowered for warm-up (./priority.ts).
 */
import { guardProcessOutput } from '../logging/guard.js';
import { lowerForWarmUp } from './priority.js';

guardProcessOutput();

if (/job_proc_lazy_main\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) lowerForWarmUp();
