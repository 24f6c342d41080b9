//! Which C library's `pow` this process calls, as far as tier 2's pow shortcuts need to know.
//!
//! CPython's float `**` and numpy's scalar power call the C library's pow, and tier 2 must
//! return the very same double. Its shortcuts for `x ** 2`, `x ** 3`, `x ** 0.5` and small
//! int powers (`exact_square` and its siblings in tier2/compile.rs) compute a candidate and
//! prove that pow returns it, from pow's documented error bound. That bound is glibc's since
//! 2.28, whose pow (sysdeps/ieee754/dbl-64/e_pow.c, from ARM's optimized-routines) states it;
//! with any other C library (or an older glibc) every shortcut is off and pow is always
//! called. musl's pow is the same code nowadays, but musl's version cannot be asked at run
//! time, so musl builds keep the shortcuts off too.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::OnceLock;

/// Whether this process's pow is one whose error bound tier 2 relies on: glibc >= 2.28.
/// Asked once (at module import) and remembered.
pub fn pow_bound_known() -> bool {
    static KNOWN: OnceLock<bool> = OnceLock::new();
    *KNOWN.get_or_init(|| glibc_version().as_deref().is_some_and(glibc_pow_is_bounded))
}

/// Off: tier 2 always calls pow (for measurements and tests of the plain path).
static SHORTCUTS: AtomicBool = AtomicBool::new(true);

/// Switch the pow shortcuts off (or back on, where the C library allows them).
pub fn set_pow_shortcuts(on: bool) {
    SHORTCUTS.store(on, Relaxed);
}

/// Whether code compiled now may use the pow shortcuts.
pub fn pow_shortcuts() -> bool {
    SHORTCUTS.load(Relaxed) && pow_bound_known()
}

/// glibc's version string ("2.36"), or None with another C library.
fn glibc_version() -> Option<String> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: gnu_get_libc_version returns a static NUL-terminated string.
        let version = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
        version.to_str().ok().map(str::to_owned)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

/// Whether glibc `version` ("major.minor[.patch]") has the bounded pow: 2.28 or later.
fn glibc_pow_is_bounded(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>());
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor) >= (2, 28),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_versions() {
        for (v, bounded) in [
            ("2.28", true),
            ("2.36", true),
            ("2.40.1", true),
            ("3.0", true),
            ("2.27", false),
            ("2.17", false),
            ("1.99", false),
            ("2", false),
            ("", false),
            ("2.x", false),
        ] {
            assert_eq!(glibc_pow_is_bounded(v), bounded, "{v}");
        }
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn this_glibc_is_asked() {
        let version = glibc_version().expect("glibc answers");
        assert_eq!(pow_bound_known(), glibc_pow_is_bounded(&version));
    }
}
