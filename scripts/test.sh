#!/usr/bin/env bash
# The whole test suite, on every supported Python found (3.11 and 3.12 required):
# Rust unit tests, pytest (API, hook, differential tests, CPython's own regression tests),
# the check that an unsupported Python still installs, imports and warns, and the aarch64
# backend under qemu-user.
#
#   scripts/test.sh            # everything
#   AUTOJIT_TEST_FAST=1 scripts/test.sh   # skip CPython's regression suite
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

VERSIONS=(3.11 3.12)
mkdir -p .venvs
failed=()
for version in "${VERSIONS[@]}"; do
    python=$(find_python "$version") || { echo "CPython $version not found (pyenv or python$version on PATH)"; exit 1; }
    venv=".venvs/$version"
    log "CPython $version: $python"
    make_venv "$python" "$venv"

    log "Rust unit tests ($version)"
    libdir=$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')
    PYO3_PYTHON="$python" LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        CARGO_TARGET_DIR="target/test-$version" cargo test --quiet || failed+=("cargo test $version")

    log "pytest ($version)"
    pytest_args=(-q -p no:cacheprovider)
    if [ -n "${AUTOJIT_TEST_FAST:-}" ]; then pytest_args+=(-m "not cpython_suite"); fi
    venv_python="$(pwd)/$venv/bin/python"
    (cd tests && "$venv_python" -m pytest "${pytest_args[@]}") || failed+=("pytest $version")
done

# A Python without a version layer: the package must still install and import, and
# enable() must warn once and do nothing.
for version in 3.13; do
    python=$(find_python "$version") || continue
    log "unsupported CPython $version: install, import, warn"
    make_venv "$python" ".venvs/$version"
    ".venvs/$version/bin/python" scripts/check_unsupported.py || failed+=("unsupported $version")
done

# The aarch64 backend, cross-built and run under qemu-user (x86_64 hosts; set
# AUTOJIT_SKIP_ARM64=1 to leave it out). scripts/test-arm64.sh installs its own toolchain.
if [ "$(uname -m)" = x86_64 ] && [ -z "${AUTOJIT_SKIP_ARM64:-}" ]; then
    log "aarch64 backend under qemu-user"
    .venvs/3.11/bin/python -m pip install --quiet maturin
    PATH="$(pwd)/.venvs/3.11/bin:$PATH" scripts/test-arm64.sh "$(pwd)/target/arm64-env" || failed+=("aarch64")
fi

if [ ${#failed[@]} -ne 0 ]; then
    log "FAILED: ${failed[*]}"
    exit 1
fi
log "all tests passed"
