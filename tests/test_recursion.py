"""Recursion with the hook on behaves as in CPython: the same depth works, RecursionError
comes at the same depth, and a raised limit never crashes the process."""

import sys

import pytest

import autojit
from conftest import run_python


def _max_depth():
    depth = 0

    def down():
        nonlocal depth
        depth += 1
        down()

    try:
        down()
    except RecursionError:
        pass
    return depth


def test_recursion_error_at_the_same_depth_as_cpython():
    plain = _max_depth()
    autojit.enable()
    try:
        hooked = _max_depth()
    finally:
        autojit.disable()
    assert hooked == plain
    assert plain > 900


def test_default_limit_depth_works():
    def rec(n):
        return 0 if n == 0 else 1 + rec(n - 1)

    limit = sys.getrecursionlimit()
    autojit.enable()
    try:
        assert rec(limit - 50) == limit - 50
        with pytest.raises(RecursionError):
            rec(limit + 10)
    finally:
        autojit.disable()


@pytest.mark.parametrize("threaded", [False, True])
def test_raised_limit_raises_instead_of_crashing(threaded):
    out = run_python(
        f"""
        import sys, threading, autojit
        autojit.enable()
        sys.setrecursionlimit(1_000_000)
        def rec(n):
            return 0 if n == 0 else 1 + rec(n - 1)
        def main():
            assert rec(5_000) == 5_000
            try:
                rec(600_000)
            except RecursionError as error:
                print("RecursionError:", error)
        if {threaded}:
            t = threading.Thread(target=main); t.start(); t.join()
        else:
            main()
        print("alive", autojit.stats()["stack_guard_trips"])
        """,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "RecursionError: maximum recursion depth exceeded" in out.stdout
    assert "alive 1" in out.stdout


def test_recursion_error_traceback_is_usable():
    def rec(n):
        return rec(n + 1)

    autojit.enable()
    try:
        with pytest.raises(RecursionError) as info:
            rec(0)
    finally:
        autojit.disable()
    assert len(info.traceback) > 100
