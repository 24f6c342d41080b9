"""Tier 1's benchmark: general Python workloads, plain CPython against autojit, in one run.

    python bench/general.py [--repeats N] [--only NAME]

Each workload runs with autojit disabled and enabled (threshold 0: every function compiled
on its first call), alternately, in one process; the figure is the ratio of medians
(autojit / plain; below 1.0 means autojit is faster), with a geometric mean at the end.
Before timing, each workload's result with the JIT must equal its result without it
(same value, same types), or the benchmark stops.
"""

import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import autojit  # noqa: E402
from _timing import median_times, print_table  # noqa: E402

# --- recursive calls ---------------------------------------------------------------------


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def w_fib():
    return fib(22)


# --- method calls ------------------------------------------------------------------------


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm2(self):
        return self.x * self.x + self.y * self.y

    def moved(self, dx):
        return Point(self.x + dx, self.y)


def w_methods():
    p = Point(3, 4)
    total = 0
    for i in range(60_000):
        total += p.norm2()
        if i % 1000 == 0:
            p = p.moved(1)
    return total


# --- loops -------------------------------------------------------------------------------


def w_int_while():
    i, total = 0, 0
    while i < 300_000:
        total += i & 7
        i += 1
    return total


def w_float_loop():
    x = 0.0
    y = 1.0
    for i in range(200_000):
        x += i * 0.5
        y = y * 0.999 + 0.001
    return x, y


# --- lists, dicts, strings ---------------------------------------------------------------


def w_list_build():
    out = []
    for i in range(100_000):
        out.append(i * 2)
    evens = [v for v in out if v % 4 == 0]
    return len(out), sum(evens), out[-1]


WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu " * 3).split()


def w_dict_count():
    counts = {}
    for _ in range(2_000):
        for w in WORDS:
            counts[w] = counts.get(w, 0) + 1
    return sorted(counts.items())


def w_string_build():
    parts = []
    for i in range(40_000):
        parts.append(f"{i}:{i % 7}")
    s = ",".join(parts)
    t = ""
    for i in range(5_000):
        t += str(i)[-1]
    return len(s), s[:40], t[-20:]


# --- nbody (lists of floats) -------------------------------------------------------------

PI = 3.14159265358979323
SOLAR_MASS = 4 * PI * PI
DAYS_PER_YEAR = 365.24


def make_bodies():
    return [
        [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], SOLAR_MASS],
        [[4.84143144246472090e00, -1.16032004402742839e00, -1.03622044471123109e-01],
         [1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
          -6.90460016972063023e-05 * DAYS_PER_YEAR], 9.54791938424326609e-04 * SOLAR_MASS],
        [[8.34336671824457987e00, 4.12479856412430479e00, -4.03523417114321381e-01],
         [-2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
          2.30417297573763929e-05 * DAYS_PER_YEAR], 2.85885980666130812e-04 * SOLAR_MASS],
        [[1.28943695621391310e01, -1.51111514016986312e01, -2.23307578892655734e-01],
         [2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
          -2.96589568540237556e-05 * DAYS_PER_YEAR], 4.36624404335156298e-05 * SOLAR_MASS],
        [[1.53796971148509165e01, -2.59193146099879641e01, 1.79258772950371181e-01],
         [2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
          -9.51592254519715870e-05 * DAYS_PER_YEAR], 5.15138902046611451e-05 * SOLAR_MASS],
    ]


def advance(bodies, pairs, dt, n):
    for _ in range(n):
        for ([x1, y1, z1], v1, m1, [x2, y2, z2], v2, m2) in pairs:
            dx = x1 - x2
            dy = y1 - y2
            dz = z1 - z2
            mag = dt * ((dx * dx + dy * dy + dz * dz) ** (-1.5))
            b1m = m1 * mag
            b2m = m2 * mag
            v1[0] -= dx * b2m
            v1[1] -= dy * b2m
            v1[2] -= dz * b2m
            v2[0] += dx * b1m
            v2[1] += dy * b1m
            v2[2] += dz * b1m
        for (r, [vx, vy, vz], m) in bodies:
            r[0] += dt * vx
            r[1] += dt * vy
            r[2] += dt * vz


def energy(bodies, pairs):
    e = 0.0
    for ((x1, y1, z1), v1, m1, (x2, y2, z2), v2, m2) in pairs:
        dx = x1 - x2
        dy = y1 - y2
        dz = z1 - z2
        e -= (m1 * m2) / ((dx * dx + dy * dy + dz * dz) ** 0.5)
    for (r, [vx, vy, vz], m) in bodies:
        e += m * (vx * vx + vy * vy + vz * vz) / 2.0
    return e


def w_nbody():
    bodies = make_bodies()
    pairs = [bodies[i] + bodies[j] for i in range(len(bodies)) for j in range(i + 1, len(bodies))]
    before = energy(bodies, pairs)
    advance(bodies, pairs, 0.01, 3_000)
    return before, energy(bodies, pairs)


# --- richards-style object program ---------------------------------------------------------
# A compact task scheduler in the spirit of Richards: tasks of several kinds pass packets
# through queues, with priorities, state flags, method dispatch and attribute traffic.


class Packet:
    __slots__ = ("link", "ident", "kind", "datum", "data")

    def __init__(self, link, ident, kind):
        self.link = link
        self.ident = ident
        self.kind = kind
        self.datum = 0
        self.data = [0] * 4

    def append_to(self, lst):
        self.link = None
        if lst is None:
            return self
        p = lst
        while p.link is not None:
            p = p.link
        p.link = self
        return lst


class Task:
    def __init__(self, scheduler, ident, priority, queue):
        self.scheduler = scheduler
        self.ident = ident
        self.priority = priority
        self.queue = queue
        self.waiting = queue is not None
        self.held = False
        self.count = 0
        scheduler.tasks[ident] = self

    def runnable(self):
        return not self.held and (self.queue is not None or not self.waiting)

    def take(self):
        p = self.queue
        self.queue = p.link
        self.waiting = self.queue is not None and False
        return p

    def receive(self, packet):
        self.queue = packet.append_to(self.queue)


class Worker(Task):
    def run(self, packet):
        if packet is None:
            self.waiting = True
            return None
        self.count += 1
        dest = 3 if self.count % 2 else 4
        packet.ident = dest
        packet.datum = 0
        for i in range(4):
            packet.data[i] = (self.count + i) % 26
        return self.scheduler.send(packet)


class Handler(Task):
    def run(self, packet):
        if packet is not None:
            self.count += sum(packet.data)
            packet.ident = 1
            return self.scheduler.send(packet)
        self.waiting = True
        return None


class Idle(Task):
    def __init__(self, scheduler, ident, priority, queue, rounds):
        super().__init__(scheduler, ident, priority, queue)
        self.rounds = rounds
        self.seed = 1

    def run(self, packet):
        self.rounds -= 1
        if self.rounds == 0:
            return False
        self.seed = (self.seed * 1103515245 + 12345) & 0x7FFFFFFF
        target = self.scheduler.tasks[3 if self.seed & 1 else 4]
        target.held = not target.held and self.seed % 5 == 0
        return True


class Scheduler:
    def __init__(self):
        self.tasks = {}
        self.sent = 0

    def send(self, packet):
        self.sent += 1
        self.tasks[packet.ident].receive(packet)
        return True

    def schedule(self):
        order = sorted(self.tasks.values(), key=lambda t: -t.priority)
        steps = 0
        while True:
            progressed = False
            for task in order:
                if not task.runnable():
                    continue
                packet = task.take() if task.queue is not None else None
                result = task.run(packet)
                steps += 1
                if result is False:
                    return steps
                progressed = True
            if not progressed:
                for task in order:
                    task.held = False


def w_richards():
    s = Scheduler()
    queue = None
    for i in range(6):
        queue = Packet(None, 1, i % 2).append_to(queue)
    Worker(s, 1, 2000, queue)
    Handler(s, 3, 3000, None)
    Handler(s, 4, 4000, None)
    Idle(s, 0, 0, None, 6_000)
    steps = s.schedule()
    return steps, s.sent, [(t.ident, t.count) for t in sorted(s.tasks.values(), key=lambda t: t.ident)]


WORKLOADS = {
    "recursive calls (fib 22)": w_fib,
    "method calls": w_methods,
    "int while loop": w_int_while,
    "float loop": w_float_loop,
    "list building": w_list_build,
    "dict counting": w_dict_count,
    "string building": w_string_build,
    "nbody (lists of floats)": w_nbody,
    "richards-style objects": w_richards,
}


def same(a, b):
    """Equal values with equal types, recursively (floats bit for bit)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b) or (a != a and b != b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def run_jit(fn):
    autojit.enable(threshold=0)
    try:
        return fn()
    finally:
        autojit.disable()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--only", help="run the workloads whose name contains this")
    args = parser.parse_args()
    if not autojit.supported():
        print("autojit does not support this Python; nothing to measure")
        return 0
    workloads = {k: v for k, v in WORKLOADS.items() if not args.only or args.only in k}
    for name, fn in workloads.items():
        plain, jitted = fn(), run_jit(fn)
        if not same(plain, jitted):
            print(f"{name}: results differ with the JIT:\n  plain {plain!r}\n  jit   {jitted!r}")
            return 1
    autojit.reset_stats()
    rows, ratios = [], []
    for name, fn in workloads.items():
        times = median_times(
            {
                "plain": (autojit.disable, fn),
                "autojit": (lambda: autojit.enable(threshold=0), fn),
            },
            repeats=args.repeats,
        )
        autojit.disable()
        ratio = times["autojit"] / times["plain"]
        ratios.append(ratio)
        rows.append((name, f"{times['plain'] * 1e3:.2f}", f"{times['autojit'] * 1e3:.2f}", f"{ratio:.2f}x"))
    geomean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    rows.append(("geometric mean", "", "", f"{geomean:.2f}x"))
    version = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    print_table(
        f"General workloads on CPython {version} (median of {args.repeats}; ratio = autojit / plain; "
        "results checked identical)",
        ("workload", "plain ms", "autojit ms", "ratio"),
        rows,
    )
    stats = autojit.stats()
    fallbacks = sorted(stats.get("fallbacks_by_opcode", {}).items(), key=lambda kv: -kv[1])
    print("instructions compiled as fallbacks:", ", ".join(f"{k} {v}" for k, v in fallbacks) or "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
