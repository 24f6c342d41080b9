//! C stack protection for the frame-evaluation hook.
//!
//! With a PEP 523 hook installed, every Python call nests a C call of the eval loop, so a
//! recursion limit raised far above the default (which plain CPython survives, since it runs
//! Python-to-Python calls without C recursion) would overflow the C stack and crash. The hook
//! checks the remaining C stack instead and raises RecursionError while a safe margin is left.

use std::cell::Cell;

thread_local! {
    /// Lowest stack address this thread may reach before the hook refuses to go deeper
    /// (0 until first measured).
    static LIMIT: Cell<usize> = const { Cell::new(0) };
}

/// Stack kept free below the limit, for the interpreter and C code that runs after the
/// last frame we let through (unwinding, tracebacks, extension code).
fn margin(stack_size: usize) -> usize {
    (stack_size / 8).clamp(64 * 1024, 1024 * 1024)
}

/// True when the current C stack is too deep to evaluate another Python frame safely.
#[inline(always)]
pub fn exhausted() -> bool {
    let marker = 0u8;
    let here = std::ptr::addr_of!(marker) as usize;
    let limit = LIMIT.with(|limit| {
        let value = limit.get();
        if value != 0 {
            value
        } else {
            let measured = measure_limit();
            limit.set(measured);
            measured
        }
    });
    here < limit
}

/// The limit for the current thread, from its stack bounds; 1 (never exhausted) if unknown.
#[cold]
fn measure_limit() -> usize {
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return 1;
        }
        let mut low: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let ok = libc::pthread_attr_getstack(&attr, &mut low, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        if !ok || low.is_null() || size == 0 {
            return 1;
        }
        low as usize + margin(size)
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
