#!/usr/bin/env bash
# Builds the compiled core with AddressSanitizer and UndefinedBehaviorSanitizer into a fresh
# virtual environment and runs the whole test suite against it; any finding is fatal.
#   bash scripts/sanitize.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
# shellcheck disable=SC1091
. "$work/venv/bin/activate"
python -m pip install -q --upgrade pip
# built from a copy of the sources without any build output, so nothing uninstrumented is reused
mkdir "$work/src"
tar -cf - --exclude=./build --exclude=./.git --exclude='*.so' --exclude='*.egg-info' \
  --exclude=./framekit/_core.c . | tar -xf - -C "$work/src"
FRAMEKIT_SANITIZE=1 pip install -q --no-cache-dir "$work/src[test]"
# The interpreter is not instrumented: preload the runtimes. CPython keeps memory until exit,
# so leak reports are off; everything else aborts the run.
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export FRAMEKIT_REQUIRE_EXTENSION=1
# checked from outside the tree: there `python -c` would import the sources, not this build
core=$(cd "$work" && python -c 'import framekit._core as c; print(c.__file__)')
symbols=$(nm -D "$core")  # not piped into grep -q: with pipefail, nm's SIGPIPE would fail it
grep -q __asan_report <<<"$symbols" || { echo "$core is not instrumented" >&2; exit 1; }
grep -q __ubsan_handle <<<"$symbols" || { echo "$core has no UBSan checks" >&2; exit 1; }
# ASan quarantines freed memory and slows every access: the RSS-based leak tests and the
# timing-based linear-time test measure something else under it (both run in the normal suite).
# It also reserves terabytes of shadow address space, so a test under RLIMIT_AS cannot run.
pytest -q -p no:cacheprovider \
  --deselect tests/test_leaks.py \
  --deselect "tests/test_delimiter.py::test_linear_time_on_a_long_line_in_small_pieces" \
  --deselect "tests/test_protocols.py::test_json_long_text_in_small_pieces_is_linear" \
  --deselect "tests/test_protocols.py::test_resp_large_aggregate_in_small_pieces_is_linear" \
  --deselect "tests/test_batches.py::test_index_works_where_the_system_will_not_reserve_much" \
  "$@"
echo "sanitizers: clean"
