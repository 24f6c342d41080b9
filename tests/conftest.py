import os
import subprocess
import sys
import textwrap

import pytest

import autojit


def pytest_configure(config):
    config.addinivalue_line("markers", "cpython_suite: runs part of CPython's own regression suite (slow)")


@pytest.fixture
def jit():
    """The JIT enabled for one test, with clean counters; disabled afterwards."""
    autojit.reset_stats()
    autojit.enable()
    try:
        yield autojit
    finally:
        autojit.disable()


# The command that starts this interpreter afresh: AUTOJIT_TEST_PYTHON when sys.executable
# cannot be run directly (an aarch64 interpreter under qemu-user, scripts/test-arm64.sh).
PYTHON = os.environ.get("AUTOJIT_TEST_PYTHON") or sys.executable


def run_python(code, *args, env=None, cwd=None, timeout=120):
    """Run `code` in a fresh interpreter (this one), returning the CompletedProcess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOJIT")}
    full_env.update(env or {})
    return subprocess.run(
        [PYTHON, *args, "-c", textwrap.dedent(code)] if code is not None else [PYTHON, *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_scenario(source, jit, result="out"):
    """Exec a scenario script (a module body) with autojit off or on (every function compiled
    on its first call) and return the namespace's `result` variable."""
    namespace = {"__name__": "scenario"}
    if jit:
        autojit.enable(threshold=0)
    try:
        exec(textwrap.dedent(source), namespace)
    finally:
        if jit:
            autojit.disable()
    return namespace[result]
