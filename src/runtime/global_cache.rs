//! LOAD_GLOBAL's per-site cache.
//!
//! Every change to a dict gives it a new `ma_version_tag`, drawn from an interpreter-wide
//! counter, so a (globals version, builtins version) pair names one state of both dicts: while
//! both tags are what they were when a name was looked up, the lookup's answer stands, and the
//! dict still holds the value (the cache borrows it).

use super::load_global;
use crate::cpython::{self, InterpreterFrame};
use pyo3_ffi::*;

/// One LOAD_GLOBAL site's cache (empty while `value` is null). Tier-1 code checks it inline
/// (the same rule as `load_global_cached`, at the offsets below) and calls
/// `load_global_cached` on a miss.
#[repr(C)]
pub struct GlobalCache {
    globals_version: u64,
    builtins_version: u64,
    value: *mut PyObject,
}

/// Offsets of `GlobalCache`'s fields, for the inline check.
pub const CACHE_GLOBALS_VERSION: i32 = std::mem::offset_of!(GlobalCache, globals_version) as i32;
pub const CACHE_BUILTINS_VERSION: i32 = std::mem::offset_of!(GlobalCache, builtins_version) as i32;
pub const CACHE_VALUE: i32 = std::mem::offset_of!(GlobalCache, value) as i32;

impl GlobalCache {
    pub fn new() -> Box<GlobalCache> {
        Box::new(GlobalCache { globals_version: 0, builtins_version: 0, value: std::ptr::null_mut() })
    }
}

#[inline(always)]
unsafe fn version(dict: *mut PyObject) -> u64 {
    *cpython::field::<u64>(dict.cast(), cpython::DICT_MA_VERSION_TAG)
}

/// LOAD_GLOBAL through the site's cache: a new reference, or null with NameError (or the
/// lookup's error) set.
pub unsafe extern "C" fn load_global_cached(
    frame: *mut InterpreterFrame,
    name: *mut PyObject,
    cache: *mut GlobalCache,
) -> *mut PyObject {
    let globals = *cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_F_GLOBALS);
    let builtins = *cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_F_BUILTINS);
    if PyDict_CheckExact(globals) == 0 || PyDict_CheckExact(builtins) == 0 {
        return load_global(frame, name);
    }
    let cache = &mut *cache;
    let (globals_version, builtins_version) = (version(globals), version(builtins));
    if !cache.value.is_null() && cache.globals_version == globals_version && cache.builtins_version == builtins_version {
        return Py_NewRef(cache.value);
    }
    // The versions from before the lookup: if the lookup itself changed a dict (a key's
    // __eq__ can run code), the next lookup misses.
    let value = load_global(frame, name);
    if !value.is_null() {
        *cache = GlobalCache { globals_version, builtins_version, value };
    }
    value
}
