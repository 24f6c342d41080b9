//! C stack protection for the frame-evaluation hook.
//!
//! With a PEP 523 hook installed, every Python call nests a C call of the eval loop, so a
//! recursion limit raised far above the default (which plain CPython survives, since it runs
//! Python-to-Python calls without C recursion) would overflow the C stack and crash. The hook
//! checks the remaining C stack instead and raises RecursionError while a safe margin is left.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// A thread's stack: `[low, high)` and the lowest address the hook lets it reach.
#[derive(Clone, Copy)]
struct Bounds {
    low: usize,
    high: usize,
    limit: usize,
}

thread_local! {
    /// This thread's bounds (limit 0 until measured).
    static BOUNDS: Cell<Bounds> = const { Cell::new(Bounds { low: 0, high: 0, limit: 0 }) };
}

// The bounds of the thread that checked last. Stacks of live threads do not overlap, so an
// address inside `[LAST_LOW, LAST_HIGH)` belongs to that thread: the common check needs no
// thread-local lookup (which costs a call into the dynamic loader in a shared library).
// Only threads holding the GIL check, so the three values are never written concurrently.
static LAST_LOW: AtomicUsize = AtomicUsize::new(0);
static LAST_HIGH: AtomicUsize = AtomicUsize::new(0);
static LAST_LIMIT: AtomicUsize = AtomicUsize::new(0);

/// Stack kept free below the limit, for the interpreter and C code that runs after the
/// last frame we let through (unwinding, tracebacks, extension code).
fn margin(stack_size: usize) -> usize {
    (stack_size / 8).clamp(64 * 1024, 1024 * 1024)
}

/// True when the current C stack is too deep to evaluate another Python frame safely.
/// The caller holds the GIL.
#[inline(always)]
/// The addresses of the bounds `exhausted` checks first (the last measured thread's stack:
/// low, high, limit), for compiled code doing the same check.
pub fn bounds_addresses() -> (usize, usize, usize) {
    (LAST_LOW.as_ptr() as usize, LAST_HIGH.as_ptr() as usize, LAST_LIMIT.as_ptr() as usize)
}

pub fn exhausted() -> bool {
    let marker = 0u8;
    let here = std::ptr::addr_of!(marker) as usize;
    if here >= LAST_LOW.load(Relaxed) && here < LAST_HIGH.load(Relaxed) {
        return here < LAST_LIMIT.load(Relaxed);
    }
    exhausted_slow(here)
}

#[cold]
#[inline(never)]
fn exhausted_slow(here: usize) -> bool {
    let bounds = BOUNDS.with(|cell| {
        let mut bounds = cell.get();
        if bounds.limit == 0 {
            bounds = measure();
            cell.set(bounds);
        }
        bounds
    });
    LAST_LOW.store(bounds.low, Relaxed);
    LAST_HIGH.store(bounds.high, Relaxed);
    LAST_LIMIT.store(bounds.limit, Relaxed);
    here < bounds.limit
}

/// The current thread's stack bounds; a limit of 1 (never exhausted) and an empty range if
/// unknown.
fn measure() -> Bounds {
    let unknown = Bounds { low: 0, high: 0, limit: 1 };
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return unknown;
        }
        let mut low: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let ok = libc::pthread_attr_getstack(&attr, &mut low, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        if !ok || low.is_null() || size == 0 {
            return unknown;
        }
        let low = low as usize;
        Bounds { low, high: low + size, limit: low + margin(size) }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn margin_is_bounded() {
        assert_eq!(super::margin(8 << 20), 1 << 20);
        assert_eq!(super::margin(128 << 10), 64 << 10);
        assert!(!super::exhausted());
    }
}
