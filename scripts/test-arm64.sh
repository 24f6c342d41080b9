#!/usr/bin/env bash
# Test the aarch64 backend on an x86_64 machine, under qemu-user.
#
#   scripts/test-arm64.sh [PREFIX] [--no-python] [--no-cpython-suite]
#
# PREFIX (default: $AUTOJIT_ARM64_PREFIX, else target/arm64-env) holds the cross toolchain and the
# arm64 CPython 3.11 sysroot; scripts/setup-arm64.sh makes it (idempotent, run here first).
#  1. the Rust unit tests cross-compiled for aarch64, run under qemu: once with qemu's default
#     CPU, once with QEMU_CPU=cortex-a53 (ARMv8.0: anything newer traps);
#  2. unless --no-python: the extension built for aarch64 with maturin and installed for the
#     sysroot's python3.11 (scripts/arm64-python.sh), and part of the pytest suite run by that
#     interpreter under qemu: tests/test_api.py, tests/test_differential.py and, with numpy,
#     tier 2's tests (test_tier2.py, test_tier2_math.py, test_tier2_pow.py,
#     test_tier2_hypothesis.py);
#  3. unless --no-cpython-suite: CPython's regression tests named in
#     tests/cpython_suite/arm64.txt (a subset of tier1.txt), without and with the JIT, compared
#     by scripts/run_cpython_tests.py.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=1
REGRTEST=1
ARGS=()
for a in "$@"; do
  case $a in
    --no-python) PY=0 ;;
    --no-cpython-suite) REGRTEST=0 ;;
    *) ARGS+=("$a") ;;
  esac
done
P=${ARGS[0]:-${AUTOJIT_ARM64_PREFIX:-$ROOT/target/arm64-env}}
mkdir -p "$P"

echo "== setup ($P)"
scripts/setup-arm64.sh "$P" | sed 's/^/   /'
# shellcheck source=scripts/arm64-env.sh
. scripts/arm64-env.sh "$P"
export CARGO_TARGET_DIR=$ROOT/target/arm64
T=aarch64-unknown-linux-gnu

# Each run once, its whole output kept: on failure it is printed in full (a failure that does
# not reproduce must still be readable in CI's log).
cargo_test_under_qemu() {
  local name=$1 log=$CARGO_TARGET_DIR/cargo-test-$1.log status=0
  shift
  mkdir -p "$CARGO_TARGET_DIR"
  echo "== cargo test --target $T ($name)"
  env "$@" cargo test --target $T >"$log" 2>&1 || status=$?
  grep -E '^test .*(ok|FAILED|ignored)$|test result|panicked' "$log" || true
  if [ $status != 0 ]; then
    echo "--- cargo test ($name) exited with $status; its output:"
    tail -n 200 "$log"
    echo "FAILED: cargo test ($name)"
    exit 1
  fi
}
cargo_test_under_qemu default-cpu -u QEMU_CPU
cargo_test_under_qemu cortex-a53 QEMU_CPU=cortex-a53

[ $PY = 1 ] || exit 0

# shellcheck source=scripts/arm64-python.sh
. scripts/arm64-python.sh
echo "== maturin build --target $T"
arm64_build_wheel
arm64_make_venv "$CARGO_TARGET_DIR/venv-arm64"
# pytest and hypothesis (and numpy for tier 2) from the prefix, for pytest only: the regression
# tests run without them, as on x86_64.
TESTPATH=$P/pysite
NUMPY=
if [ -d "$P/pynumpy/numpy" ]; then
  TESTPATH=$TESTPATH:$P/pynumpy
  NUMPY=$(ls -d "$P"/pynumpy/numpy-*.dist-info | sed 's/.*numpy-//; s/.dist-info//')
fi
cd "$ROOT/tests"
pytest_arm64() {
  echo "== pytest under qemu (python3.11 aarch64${NUMPY:+, numpy $NUMPY}): $*"
  local start=$SECONDS
  PYTHONPATH=$TESTPATH PYTHONDONTWRITEBYTECODE=1 timeout "${AUTOJIT_ARM64_PYTEST_TIMEOUT:-3000}" \
    "$PYARM" -m pytest -q -p no:cacheprovider -x "$@"
  echo "   ($((SECONDS - start)) s)"
}
pytest_arm64 test_api.py test_differential.py
if [ -n "$NUMPY" ]; then
  # Tier 2's own tests and its differential suite (random loops, math functions, powers).
  pytest_arm64 test_tier2.py test_tier2_math.py test_tier2_pow.py
  pytest_arm64 test_tier2_hypothesis.py
fi

[ $REGRTEST = 1 ] || exit 0
# CPython's regression tests, plain and with every function compiled on its first call; a
# subset of tier1.txt that fits CI time under qemu.
echo "== CPython regression tests under qemu (tests/cpython_suite/arm64.txt), without and with the JIT"
start=$SECONDS
python3 "$ROOT/scripts/run_cpython_tests.py" --python "$PYARM" --list "$ROOT/tests/cpython_suite/arm64.txt" \
  -j "${AUTOJIT_ARM64_REGRTEST_JOBS:-2}"
echo "   ($((SECONDS - start)) s)"
