/**
 * Imported first by the CLI entry, before anything loads Node's `fetch`.
 *
 * `fetch` (undici, which the Anthropic SDK calls) parses HTTP with llhttp
 * compiled to WebAssembly. V8 compiles it once with its baseline compiler and
 * again, optimised, on a background thread, and a process that is done waits
 * for that second compile before it exits: about 90 ms of a `stepwise run` that
 * makes one model call, on 2 cores (strace: the main thread blocked on a futex
 * while a V8 worker mapped code pages). The baseline code is all a command
 * needs; parsing a reply takes microseconds either way. The commands that stay
 * up (servers, workers) keep V8's defaults, where optimised code pays back,
 * and so does `bench`, so its figures compare with earlier rounds'.
 */
import { setFlagsFromString } from 'node:v8';

const longRunning: ReadonlySet<string> = new Set(['bench', 'emulator', 'inspect', 'serve', 'worker']);

if (!longRunning.has(process.argv[2] ?? '')) setFlagsFromString('--liftoff-only');
