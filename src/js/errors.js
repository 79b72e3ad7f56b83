// The error classes of the package (src/js/error_classes.rs): the exported classes are
// wasm-bindgen classes, given here the prototype chain `X -> QueueError -> Error`, so
// `err instanceof JobFailedError`, `instanceof QueueError` and `instanceof Error` all hold
// for what the library rejects with. Errors are plain `Error`s (own `message` and `stack`)
// whose prototype is their class's.
// Kept small and dependency-free; wasm-bindgen copies it into pkg/snippets/.

/** Class prototypes by error `name`. */
const protos = new Map();

/** The wasm-bindgen members of a class prototype that an error must not inherit. */
const WASM_MEMBERS = ['free', '__destroy_into_raw'];

/**
 * Sets the prototype chain of the classes: `base` is an instance of the base class,
 * `instances` of each subclass, `names` the error `name` of each (the same order).
 * Each instance is freed: only its prototype is kept.
 */
export function wjqErrorClasses(base, instances, names) {
  const baseProto = strip(base);
  Object.setPrototypeOf(baseProto, Error.prototype);
  Object.setPrototypeOf(baseProto.constructor, Error);
  Object.defineProperty(baseProto, 'name', { value: 'QueueError', writable: true, configurable: true });
  protos.set('QueueError', baseProto);
  instances.forEach((instance, i) => {
    const proto = strip(instance);
    Object.setPrototypeOf(proto, baseProto);
    Object.setPrototypeOf(proto.constructor, baseProto.constructor);
    Object.defineProperty(proto, 'name', { value: names[i], writable: true, configurable: true });
    protos.set(names[i], proto);
  });
}

/** The prototype of `instance`'s class, rid of wasm-bindgen's members, `instance` freed. */
function strip(instance) {
  const proto = Object.getPrototypeOf(instance);
  try {
    instance.free();
  } catch (_) {
    // Already freed: nothing to do.
  }
  for (const m of WASM_MEMBERS) delete proto[m];
  if (typeof Symbol.dispose === 'symbol') delete proto[Symbol.dispose];
  return proto;
}

/** An `Error` named `name` with `message`, an instance of the class of that name if any. */
export function wjqError(name, message) {
  const e = new Error(message);
  const proto = protos.get(name);
  if (proto) Object.setPrototypeOf(e, proto);
  e.name = name;
  return e;
}
