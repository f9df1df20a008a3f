import { InternalError, UsageError } from '../errors.js';

/**
 * Which errors from a backend call the runner may confine to the examples of that call (record them as
 * failed examples and go on), and which must stop the run.
 *
 * Per example: what the runtime reports while running one input — onnxruntime's inference errors (a shape
 * it cannot handle, a kernel failure) and running out of memory on one long prompt (onnxruntime's
 * `bad_alloc` / CUDA allocation failures, V8's "Array buffer allocation failed"). Retrying the batch one
 * example at a time then shows which example it was, and the others still get their predictions.
 *
 * Stop: programming errors (TypeError, ReferenceError, SyntaxError, a RangeError that is not an allocation
 * failure), flan-eval's own InternalError and anything thrown that is not an Error are bugs; turning them
 * into "failed examples" would publish a score computed around a bug. A UsageError is the user's to fix
 * and stops the run too. The CLI reports bugs with exit code 3 (docs/protocol.md §5).
 */
export function isPerExampleFailure(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e instanceof UsageError || e instanceof InternalError) return false;
  if (e instanceof RangeError) return OUT_OF_MEMORY.test(e.message);
  if (e instanceof TypeError || e instanceof ReferenceError || e instanceof SyntaxError || e instanceof EvalError || e instanceof URIError) return false;
  return true;
}

const OUT_OF_MEMORY = /allocation failed|out of memory|bad_alloc|failed to allocate/i;
