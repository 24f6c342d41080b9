# autojit built for aarch64 and installed for the sysroot's python3.11, run under qemu-user.
# Source it after scripts/arm64-env.sh, with CARGO_TARGET_DIR set:
#
#   . scripts/arm64-python.sh     # then: arm64_build_wheel; arm64_make_venv DIR
#
# arm64_build_wheel        maturin builds the aarch64 wheel; sets WHEEL.
# arm64_make_venv DIR      a virtual environment for the sysroot's python3.11 at DIR with
#                          $WHEEL installed; sets PYARM=DIR/bin/python3.11.
#
# qemu-user's binfmt handler is not registered here, so an aarch64 program cannot be started
# directly. DIR/bin/python3.11 is therefore a host shell script that starts the sysroot's
# interpreter under qemu with that script as its argv[0] (qemu's -0): Python takes
# sys.executable from argv[0], so tests that start `sys.executable` (regrtest's workers,
# script_helper, subprocess tests) start it under qemu too, and DIR/pyvenv.cfg makes DIR a
# virtual environment whose site-packages (autojit.pth included) every such process reads,
# -I (isolated) ones included.

arm64_build_wheel() {
  local wheels=$CARGO_TARGET_DIR/wheels-arm64 maturin
  rm -rf "$wheels"
  # maturin itself runs on the host; the interpreter it builds for is the sysroot's 3.11.
  if command -v maturin >/dev/null; then maturin=(maturin); else maturin=(python3 -m maturin); fi
  "${maturin[@]}" build --release --target aarch64-unknown-linux-gnu -i python3.11 --out "$wheels" 2>&1 \
    | grep -E 'Built wheel|error|warning: unused' || true
  WHEEL=$(ls "$wheels"/autojit-*aarch64*.whl 2>/dev/null | head -1)
  [ -n "$WHEEL" ] || { echo "FAILED: no aarch64 wheel built"; return 1; }
  echo "   $WHEEL"
}

arm64_make_venv() {
  local dir=$1 sys=$AUTOJIT_ARM64_PREFIX/pysys
  rm -rf "$dir"
  mkdir -p "$dir/bin" "$dir/lib/python3.11/site-packages"
  printf 'home = %s\ninclude-system-site-packages = false\nversion = 3.11\n' "$sys/usr/bin" > "$dir/pyvenv.cfg"
  printf '#!/bin/sh\nexec qemu-aarch64-static -L %s -0 %s %s "$@"\n' \
    "$sys" "$dir/bin/python3.11" "$sys/usr/bin/python3.11" > "$dir/bin/python3.11"
  chmod +x "$dir/bin/python3.11"
  ln -s python3.11 "$dir/bin/python"
  python3 -m pip install -q --target "$dir/lib/python3.11/site-packages" --platform manylinux_2_34_aarch64 \
    --python-version 3.11 --implementation cp --only-binary=:all: --no-deps "$WHEEL" 2>&1 \
    | grep -v "Running pip as the 'root'" || true
  PYARM=$dir/bin/python3.11
  "$PYARM" -c 'import platform, sys, autojit
print("   autojit on", platform.machine(), "supported:", autojit.supported(), "executable:", sys.executable)'
}
