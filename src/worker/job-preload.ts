/**
 * Loaded with `--import` before anything else in each process the worker forks (see main.ts): in a
 * job process it lowers the CPU priority for warm-up (./priority.ts); elsewhere it does nothing.
 */
import { lowerForWarmUp } from './priority.js';

if (/job_proc_lazy_main\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) lowerForWarmUp();
