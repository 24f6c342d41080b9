# Environment for cross-building autojit for aarch64 and running it under qemu-user.
# Source it: `. scripts/arm64-env.sh PREFIX` (PREFIX as given to scripts/setup-arm64.sh).
P=${1:?usage: . scripts/arm64-env.sh PREFIX}
P=$(cd "$P" && pwd)
export AUTOJIT_ARM64_PREFIX=$P
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64-static -L $P/pysys"
# Tests embed Python: link against the sysroot's libpython.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-L native=$P/pysys/usr/lib/aarch64-linux-gnu -C link-arg=-Wl,-rpath-link,$P/pysys/lib/aarch64-linux-gnu:$P/pysys/usr/lib/aarch64-linux-gnu"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
# Debian's rustc (the only one here with an aarch64 std), for build scripts too.
export RUSTC=$P/rustc-arm64 RUSTDOC=$P/rustdoc-arm64
export PYO3_CROSS_LIB_DIR=$P/pysys/usr/lib/python3.11
export PYO3_CROSS_PYTHON_VERSION=3.11
# build.rs compiles the layout shim against these headers (and their internal/).
export AUTOJIT_PYTHON_INCLUDE=$P/pysys/usr/include/python3.11
