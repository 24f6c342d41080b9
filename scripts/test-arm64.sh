#!/usr/bin/env bash
# Test the aarch64 backend on an x86_64 machine, under qemu-user.
#
#   scripts/test-arm64.sh [PREFIX] [--no-python]
#
# PREFIX (default: $AUTOJIT_ARM64_PREFIX, else target/arm64-env) holds the cross toolchain and the
# arm64 CPython 3.11 sysroot; scripts/setup-arm64.sh makes it (idempotent, run here first).
#  1. the Rust unit tests cross-compiled for aarch64, run under qemu: once with qemu's default
#     CPU, once with QEMU_CPU=cortex-a53 (ARMv8.0: anything newer traps);
#  2. unless --no-python: the extension built for aarch64 with maturin, installed for the
#     sysroot's python3.11, and part of the pytest suite (tests/test_api.py,
#     tests/test_differential.py, and tests/test_tier2.py with numpy) run by that interpreter
#     under qemu.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=1
ARGS=()
for a in "$@"; do
  case $a in
    --no-python) PY=0 ;;
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

echo "== cargo test --target $T (qemu default CPU)"
env -u QEMU_CPU cargo test --target $T 2>&1 | grep -E '^test |test result|panicked|error' || true
env -u QEMU_CPU cargo test -q --target $T >/dev/null 2>&1 || { echo "FAILED: cargo test (default CPU)"; exit 1; }

echo "== cargo test --target $T (QEMU_CPU=cortex-a53)"
QEMU_CPU=cortex-a53 cargo test -q --target $T 2>&1 | grep -E 'test result|panicked|FAILED' || true
QEMU_CPU=cortex-a53 cargo test -q --target $T >/dev/null 2>&1 || { echo "FAILED: cargo test (cortex-a53)"; exit 1; }

[ $PY = 1 ] || exit 0

echo "== maturin build --target $T"
WHEELS=$CARGO_TARGET_DIR/wheels-arm64
rm -rf "$WHEELS"
# maturin itself runs on the host; the interpreter it builds for is the sysroot's 3.11.
if command -v maturin >/dev/null; then MATURIN=(maturin); else MATURIN=(python3 -m maturin); fi
"${MATURIN[@]}" build --release --target $T -i python3.11 --out "$WHEELS" 2>&1 | grep -E 'Built wheel|error|warning: unused' || true
WHEEL=$(ls "$WHEELS"/autojit-*aarch64*.whl 2>/dev/null | head -1)
[ -n "$WHEEL" ] || { echo "FAILED: no aarch64 wheel built"; exit 1; }
echo "   $WHEEL"

SITE=$CARGO_TARGET_DIR/site-arm64
rm -rf "$SITE"
python3 -m pip install -q --target "$SITE" --platform manylinux_2_34_aarch64 --python-version 3.11 \
  --implementation cp --only-binary=:all: --no-deps "$WHEEL" 2>&1 | grep -v "Running pip as the 'root'" || true

# PYTHONPATH entries are not site directories: process the wheel's autojit.pth (the AUTOJIT=1
# start-up hook) through a sitecustomize there.
printf 'import os, site\nsite.addsitedir(os.path.dirname(os.path.abspath(__file__)))\n' > "$SITE/sitecustomize.py"

echo "== pytest under qemu (python3.11 aarch64): tests/test_api.py tests/test_differential.py"
PYARM=(qemu-aarch64-static -L "$P/pysys" "$P/pysys/usr/bin/python3.11")
cd "$ROOT/tests"
# Tests that start a fresh interpreter (conftest.run_python) use AUTOJIT_TEST_PYTHON: qemu-user's
# binfmt handler is not registered here, so sys.executable cannot be run directly.
WRAP=$CARGO_TARGET_DIR/python3.11-arm64
printf '#!/bin/sh\nexec qemu-aarch64-static -L %s %s "$@"\n' "$P/pysys" "$P/pysys/usr/bin/python3.11" > "$WRAP"
chmod +x "$WRAP"
PYTHONPATH=$SITE:$P/pysite PYTHONDONTWRITEBYTECODE=1 "${PYARM[@]}" -c \
  'import platform, autojit; print("   autojit on", platform.machine(), "supported:", autojit.supported())'
AUTOJIT_TEST_PYTHON=$WRAP PYTHONPATH=$SITE:$P/pysite PYTHONDONTWRITEBYTECODE=1 timeout "${AUTOJIT_ARM64_PYTEST_TIMEOUT:-3000}" \
  "${PYARM[@]}" -m pytest -q -p no:cacheprovider -x test_api.py test_differential.py

if [ -d "$P/pynumpy/numpy" ]; then
  echo "== pytest under qemu: tests/test_tier2.py (numpy $(ls -d "$P"/pynumpy/numpy-*.dist-info | sed 's/.*numpy-//; s/.dist-info//'))"
  AUTOJIT_TEST_PYTHON=$WRAP PYTHONPATH=$SITE:$P/pysite:$P/pynumpy PYTHONDONTWRITEBYTECODE=1 timeout "${AUTOJIT_ARM64_PYTEST_TIMEOUT:-3000}" \
    "${PYARM[@]}" -m pytest -q -p no:cacheprovider -x test_tier2.py
fi
