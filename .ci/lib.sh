# Shared helpers for the .ci scripts (sourced, not run).
# shellcheck shell=bash

# Repository root, whatever the caller's working directory.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

# Tools installed by `cargo install` and rustup live here.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# The fixed browser paths of the Debian packages.
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"

# binaryen's wasm-opt from npm (.ci/tools, installed by .ci/setup), and what build_pkg runs it
# with: -Oz and the WebAssembly features rustc and wasm-bindgen emit (externref table,
# bulk memory, sign extension, saturating float-to-int, mutable globals, multi-value).
WASM_OPT="$ROOT/.ci/tools/node_modules/.bin/wasm-opt"
WASM_OPT_FLAGS=(-O1 --enable-reference-types --enable-bulk-memory --enable-sign-ext
  --enable-nontrapping-float-to-int --enable-mutable-globals --enable-multivalue)

# `optimize_wasm FILE`: wasm-opt FILE in place with WASM_OPT_FLAGS.
optimize_wasm() {
  [ -x "$WASM_OPT" ] || die "$WASM_OPT missing: run .ci/setup (it installs .ci/tools)"
  "$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "$1" -o "$1.opt" && mv "$1.opt" "$1"
}

# The release build of pkg/ as the npm package: wasm-pack, wasm-opt on its .wasm, then
# .ci/finish-pkg.mjs (exports map, Node entry, licenses, README).
build_pkg() {
  wasm-pack build --release --target web --out-dir pkg &&
    optimize_wasm "$ROOT/pkg/wasm_job_queue_bg.wasm" &&
    node "$ROOT/.ci/finish-pkg.mjs" "$ROOT/pkg"
}

log()  { printf '==> %s\n' "$*"; }
die()  { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Stage runner: `stage NAME cmd args...` runs the command, records a one-line
# summary with its duration, and stops the script at the first failure.
STAGE_SUMMARY=()
stage() {
  local name="$1"; shift
  local start=$SECONDS rc=0
  printf '\n==> [%s] %s\n' "$name" "$*"
  "$@" || rc=$?
  local took=$((SECONDS - start))
  if [ "$rc" -ne 0 ]; then
    STAGE_SUMMARY+=("$(printf 'FAIL  %-16s %4ss  (exit %s)' "$name" "$took" "$rc")")
    print_summary
    printf '\nFAILED: stage "%s" (exit %s after %ss): %s\n' "$name" "$rc" "$took" "$*" >&2
    exit "$rc"
  fi
  STAGE_SUMMARY+=("$(printf 'ok    %-16s %4ss' "$name" "$took")")
  printf '==> [%s] ok (%ss)\n' "$name" "$took"
}

# A stage that did not apply (printed in the summary, not run).
skip_stage() {
  STAGE_SUMMARY+=("$(printf 'skip  %-16s        (%s)' "$1" "$2")")
  printf '\n==> [%s] skipped: %s\n' "$1" "$2"
}

print_summary() {
  printf '\n==> summary (%s)\n' "$(basename "$0")"
  printf '    %s\n' "${STAGE_SUMMARY[@]}"
}
