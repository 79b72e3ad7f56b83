// The JS half of JobQueueServer (src/js/server.rs): `start()` and `stop()` resolve to the very
// object they were called on (`Promise<this>`), which only JS knows (`this` of the call; a
// value returned from Rust would be a new wrapper). Dependency-free; wasm-bindgen copies it
// into pkg/snippets/.

/**
 * Makes `start` and `stop` of `proto` (JobQueueServer.prototype) resolve to `this` once the
 * Rust method's promise fulfils (a rejection passes through). Idempotent.
 */
export function wjqResolveToThis(proto) {
  if (proto.wjqResolvesToThis) return;
  for (const name of ['start', 'stop']) {
    const method = proto[name];
    proto[name] = function (...args) {
      return method.apply(this, args).then(() => this);
    };
  }
  Object.defineProperty(proto, 'wjqResolvesToThis', { value: true });
}
