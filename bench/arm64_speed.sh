#!/usr/bin/env bash
# Emulated speed check of the aarch64 backend: the seed workloads (bench/seed_workloads.py) run
# by the arm64 CPython 3.11 under qemu-user, compiled code against the interpreter under the
# same emulator, printed beside the same ratios measured natively on this x86_64 machine.
#
#   bench/arm64_speed.sh [PREFIX] [--scale S] [--repeats N]
#
# PREFIX as for scripts/test-arm64.sh (default: $AUTOJIT_ARM64_PREFIX, else target/arm64-env;
# scripts/setup-arm64.sh makes it). --scale is a fraction of the article's sizes (default 0.1:
# the interpreter runs about 10x slower under qemu); --repeats (default 5) as in
# seed_workloads.py. qemu translates aarch64 code to x86_64 code block by block, so an emulated
# speedup is only a rough guide to real aarch64 hardware: it shows that the compiled paths
# (tier 1, tier 2) are taken and how much work they remove, not real-hardware times.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/common.sh
SCALE=0.1
REPEATS=5
ARGS=()
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift ;;
    --repeats) REPEATS=$2; shift ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done
P=${ARGS[0]:-${AUTOJIT_ARM64_PREFIX:-$ROOT/target/arm64-env}}
mkdir -p "$P"

log "aarch64 environment ($P)"
scripts/setup-arm64.sh "$P" | sed 's/^/   /'
# shellcheck source=scripts/arm64-env.sh
. scripts/arm64-env.sh "$P"
# shellcheck source=scripts/arm64-python.sh
. scripts/arm64-python.sh
OUT=$ROOT/target/arm64-speed
mkdir -p "$OUT"
(
  export CARGO_TARGET_DIR=$ROOT/target/arm64
  arm64_build_wheel
  arm64_make_venv "$CARGO_TARGET_DIR/venv-arm64"
  log "seed workloads under qemu-aarch64 (scale $SCALE)"
  PYTHONPATH=$P/pynumpy "$PYARM" bench/seed_workloads.py --scale "$SCALE" --repeats "$REPEATS" \
    --no-numba --json "$OUT/aarch64-qemu.json"
)

# The host build must not see the cross-build settings.
unset RUSTC RUSTDOC PYO3_CROSS_LIB_DIR PYO3_CROSS_PYTHON_VERSION AUTOJIT_PYTHON_INCLUDE
python=$(find_python 3.11) || { echo "CPython 3.11 not found"; exit 1; }
venv=.venvs/arm64-speed-host-3.11
log "x86_64 host: CPython 3.11 ($python), autojit and numpy in $venv"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet . numpy
log "seed workloads on the x86_64 host (scale $SCALE)"
"$venv/bin/python" bench/seed_workloads.py --scale "$SCALE" --repeats "$REPEATS" --no-numba --json "$OUT/x86_64.json"

log "speedups side by side"
python3 bench/speed_ratios.py "aarch64 qemu=$OUT/aarch64-qemu.json" "x86_64=$OUT/x86_64.json"
