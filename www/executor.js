// The demo's executor: simulated work in steps, abortable, sometimes failing. Shared by the
// page (app.js) and the service worker (sw.js), which run servers of the same queue.

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export async function executor(input, ctx) {
  const steps = Math.max(1, input.steps ?? 5);
  // Decide up front whether (and at which step) this run fails, to show retries.
  const failAt = Math.random() < (input.failProbability ?? 0) ? 1 + Math.floor(Math.random() * steps) : 0;
  for (let i = 1; i <= steps; i++) {
    await sleep((input.durationMs ?? 0) / steps, ctx.signal);
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (i === failAt) throw new Error(`simulated failure at step ${i} (attempt ${ctx.attempt})`);
    await ctx.updateProgress(Math.round((i * 100) / steps), `step ${i}`, { step: i });
  }
  return { label: input.label, attempt: ctx.attempt, doneAt: new Date().toISOString() };
}

