"""The hook under threads: all threads are counted, counts stay exact, toggling is safe."""

import threading

import autojit


def test_enabling_applies_to_all_threads_and_counts_exactly(jit):
    def work(x):
        return x + 1

    def run():
        for i in range(2_000):
            work(i)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert autojit.explain(work, format="dict")["calls"] == 16_000


def test_threads_started_before_enable_are_counted():
    ready, go, done = threading.Event(), threading.Event(), threading.Event()

    def work():
        return 1

    def run():
        ready.set()
        go.wait()
        for _ in range(100):
            work()
        done.set()

    t = threading.Thread(target=run)
    t.start()
    ready.wait()
    autojit.enable()
    try:
        go.set()
        done.wait()
        t.join()
    finally:
        autojit.disable()
    assert autojit.explain(work, format="dict")["calls"] == 100


def test_enable_and_disable_while_frames_run():
    stop = threading.Event()
    errors = []

    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    def run():
        try:
            while not stop.is_set():
                assert fib(15) == 610
        except BaseException as error:  # report, do not lose
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for _ in range(300):
            autojit.enable()
            assert fib(10) == 55
            autojit.disable()
    finally:
        stop.set()
        for t in threads:
            t.join()
        autojit.disable()
    assert not errors
    assert autojit.explain(fib, format="dict")["calls"] > 0
