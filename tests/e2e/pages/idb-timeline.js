// In-page instrumentation of IndexedDB for the timeline tools (tests/e2e/tools/
// submit-timeline.mjs, batch-timeline.mjs): while `timeline.cur` holds an object, the next
// readwrite `transaction()` records on it when it returned (`tx`) and when it completed
// (`complete`), and each `put()` the start of the first (`put`), the end of the last
// (`putEnd`) and the time spent inside them (`inPut`), all `performance.now()` ms.

/** Patches `IDBDatabase.prototype.transaction` and `IDBObjectStore.prototype.put` once. */
export function instrument() {
  if (globalThis.wjqIdbTimeline) return globalThis.wjqIdbTimeline;
  const timeline = { cur: null };
  const open = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (...args) {
    const tx = open.apply(this, args);
    const c = timeline.cur;
    if (c && args[1] === 'readwrite') {
      c.tx = performance.now();
      tx.addEventListener('complete', () => { c.complete = performance.now(); });
    }
    return tx;
  };
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (...args) {
    const start = performance.now();
    const r = put.apply(this, args);
    const end = performance.now();
    const c = timeline.cur;
    if (c) {
      if (c.put === undefined) c.put = start;
      c.putEnd = end;
      c.inPut = (c.inPut ?? 0) + end - start;
    }
    return r;
  };
  globalThis.wjqIdbTimeline = timeline;
  return timeline;
}
