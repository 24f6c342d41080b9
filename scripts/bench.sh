#!/usr/bin/env bash
# The main job: set up (a virtual environment per supported Python, autojit built and
# installed, numpy and, where it installs, numba) and run the seed-workload benchmark,
# printing speedups, then the hook-overhead benchmark.
#
#   scripts/bench.sh                # both supported Pythons
#   AUTOJIT_BENCH_VERSIONS=3.12 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

read -r -a versions <<< "${AUTOJIT_BENCH_VERSIONS:-3.11 3.12}"
mkdir -p .venvs
for version in "${versions[@]}"; do
    python=$(find_python "$version") || { echo "CPython $version not found"; exit 1; }
    venv=".venvs/bench-$version"
    log "setting up CPython $version ($python)"
    "$python" -m venv --clear "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet . numpy
    "$venv/bin/python" -m pip install --quiet numba || echo "(numba did not install: compared without it)"
    log "seed workloads, CPython $version"
    "$venv/bin/python" bench/seed_workloads.py "$@"
    log "hook overhead, CPython $version"
    "$venv/bin/python" bench/hook_overhead.py
done
