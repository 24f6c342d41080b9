#!/usr/bin/env bash
# Set up an aarch64 cross-build + qemu-user test environment on Debian 12 x86_64 (root).
# Usage: scripts/setup-arm64.sh PREFIX   (everything except apt-installed tools goes under PREFIX)
#
# Installs qemu-user-static and the aarch64 cross gcc/libc with apt; extracts (does not install)
# Debian's rustc-web with its x86_64 and aarch64 standard libraries (the rustup toolchain has no
# aarch64 std, and Debian's std only works with Debian's rustc of the same version), and an arm64
# CPython 3.11 sysroot with its headers and regression tests (PREFIX/pysys) plus pytest and
# hypothesis (PREFIX/pysite) and numpy (PREFIX/pynumpy) for it.
# Idempotent: each step is skipped when its result is already there.
set -euo pipefail
P=${1:?usage: setup-arm64.sh PREFIX}
mkdir -p "$P"; P=$(cd "$P" && pwd)
mkdir -p "$P"/debs-rust "$P"/debs-py
export DEBIAN_FRONTEND=noninteractive

need_apt=0
for tool in qemu-aarch64-static aarch64-linux-gnu-gcc; do command -v $tool >/dev/null || need_apt=1; done
[ -e /usr/aarch64-linux-gnu/include/stdio.h ] || need_apt=1
dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; need_apt=1; }
if [ $need_apt = 1 ] || [ ! -e "$P/.apt-updated" ]; then
  apt-get update -qq
  touch "$P/.apt-updated"
fi
if [ $need_apt = 1 ]; then
  apt-get install -y -qq --no-install-recommends qemu-user-static gcc-aarch64-linux-gnu libc6-dev-arm64-cross >/dev/null
fi

# --- Debian's rustc-web (host x86_64) + matching std for x86_64 and aarch64, extracted
if [ ! -x "$P/rust/usr/bin/rustc" ] || [ ! -d "$P/rust/usr/lib/rustlib/aarch64-unknown-linux-gnu" ]; then
  V=$(apt-cache policy rustc-web | awk '/Candidate:/{print $2}')
  STDPKG=$(apt-cache depends "libstd-rust-web-dev=$V" | awk '/Depends: libstd-rust-web-[0-9]/{print $2; exit}')
  LLVM=$(apt-cache depends "$STDPKG=$V" | awk '/Depends: libllvm[0-9]/{print $2; exit}')
  ( cd "$P/debs-rust" && apt-get download -qq "rustc-web=$V" "$STDPKG=$V" "libstd-rust-web-dev=$V" \
      "libstd-rust-web-dev:arm64=$V" "$LLVM" )
  for d in "$P"/debs-rust/*.deb; do dpkg -x "$d" "$P/rust"; done
fi
for t in rustc rustdoc; do
  printf '#!/bin/sh\nR=%s/rust/usr\nLD_LIBRARY_PATH=$R/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec $R/bin/%s "$@"\n' "$P" "$t" > "$P/$t-arm64"
  chmod +x "$P/$t-arm64"
done

# --- Debian's arm64 CPython 3.11 sysroot (for qemu-aarch64-static -L $P/pysys), with headers
if [ ! -x "$P/pysys/usr/bin/python3.11" ] || [ ! -e "$P/pysys/usr/include/python3.11/internal/pycore_frame.h" ] \
   || [ ! -e "$P/pysys/usr/lib/aarch64-linux-gnu/libstdc++.so.6" ]; then
  PYPKGS=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
            --no-replaces --no-enhances --no-pre-depends python3.11:arm64 2>/dev/null \
          | grep -E '^[a-z0-9.+-]+:arm64$' | grep -v -E '^(dpkg|tar|install-info):' | sort -u)
  ( cd "$P/debs-py" && apt-get download -qq $PYPKGS libpython3.11:arm64 libpython3.11-dev:arm64 \
      libstdc++6:arm64 libgcc-s1:arm64 )   # libstdc++: numpy's wheel needs it
  for d in "$P"/debs-py/*.deb; do dpkg -x "$d" "$P/pysys"; done
fi
ln -sf libpython3.11.so.1.0 "$P/pysys/usr/lib/aarch64-linux-gnu/libpython3.11.so"
# Debian keeps pyconfig.h under the multiarch include directory; make the plain one complete.
if [ -e "$P/pysys/usr/include/aarch64-linux-gnu/python3.11/pyconfig.h" ] && [ ! -e "$P/pysys/usr/include/python3.11/pyconfig.h.arm64" ]; then
  cp "$P/pysys/usr/include/aarch64-linux-gnu/python3.11/pyconfig.h" "$P/pysys/usr/include/python3.11/pyconfig.h.arm64"
  cp "$P/pysys/usr/include/python3.11/pyconfig.h.arm64" "$P/pysys/usr/include/python3.11/pyconfig.h"
fi

# --- CPython's regression tests (the `test` package; Debian ships all but test.support and
# test.libregrtest in libpython3.11-testsuite, architecture-independent), same version as the sysroot
if [ ! -e "$P/pysys/usr/lib/python3.11/test/test_grammar.py" ]; then
  PYV=$(dpkg-deb -f "$(ls "$P"/debs-py/libpython3.11-stdlib_*_arm64.deb | head -1)" Version)
  ( cd "$P/debs-py" && apt-get download -qq "libpython3.11-testsuite=$PYV" )
  dpkg -x "$(ls "$P"/debs-py/libpython3.11-testsuite_*_all.deb | head -1)" "$P/pysys"
fi

# --- pytest and hypothesis (pure Python) for the sysroot's interpreter
if [ ! -d "$P/pysite/_pytest" ] || [ ! -d "$P/pysite/hypothesis" ]; then
  python3 -m pip install -q --upgrade --target "$P/pysite" --platform manylinux_2_34_aarch64 --python-version 3.11 \
    --implementation cp --only-binary=:all: pytest hypothesis
fi

# --- numpy for the sysroot's interpreter (tier 2's tests), separate so it can be left out
if [ ! -d "$P/pynumpy/numpy" ]; then
  python3 -m pip install -q --target "$P/pynumpy" --platform manylinux_2_28_aarch64 --platform manylinux_2_17_aarch64 \
    --python-version 3.11 --implementation cp --only-binary=:all: numpy || echo "numpy for aarch64 not installed"
fi

echo "rustc: $("$P/rustc-arm64" -V)"
qemu-aarch64-static -L "$P/pysys" "$P/pysys/usr/bin/python3.11" -c 'import platform,sys; print("python", sys.version.split()[0], platform.machine())'
