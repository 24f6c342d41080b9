//! Checks the version layer's hard-coded offsets against the interpreter's own headers.
//!
//! The C shim compiled with `Py_BUILD_CORE` reports `offsetof`/`sizeof`/constant values from
//! CPython's internal headers; every one must equal the Rust constant of the same name, and
//! every Rust constant must be reported. Any difference keeps the JIT from enabling.

#[cfg(autojit_supported)]
mod shim {
    use std::os::raw::{c_char, c_long, c_longlong};

    #[repr(C)]
    pub struct Entry {
        pub name: *const c_char,
        pub value: c_longlong,
    }

    extern "C" {
        pub fn autojit_layout_table() -> *const Entry;
        pub fn autojit_layout_hexversion() -> c_long;
    }
}

/// The shim's table: (name, value) for every field and constant it knows.
#[cfg(autojit_supported)]
pub fn interpreter_layout() -> Vec<(String, i64)> {
    let mut out = Vec::new();
    unsafe {
        let mut entry = shim::autojit_layout_table();
        while !(*entry).name.is_null() {
            let name = std::ffi::CStr::from_ptr((*entry).name).to_string_lossy().into_owned();
            out.push((name, (*entry).value));
            entry = entry.add(1);
        }
    }
    out
}

#[cfg(not(autojit_supported))]
pub fn interpreter_layout() -> Vec<(String, i64)> {
    Vec::new()
}

/// Every difference between the version layer and the interpreter's headers, as readable
/// lines. Empty means the layer is right for this interpreter.
#[cfg(autojit_supported)]
pub fn mismatches() -> Vec<String> {
    let truth = interpreter_layout();
    let ours = super::CHECKED;
    let mut problems = Vec::new();
    for (name, value) in &truth {
        match ours.iter().find(|(n, _)| n == name) {
            None => problems.push(format!("{name}: not mirrored (headers say {value})")),
            Some((_, v)) if v != value => {
                problems.push(format!("{name}: mirror says {v}, headers say {value}"))
            }
            Some(_) => {}
        }
    }
    for (name, value) in ours {
        if !truth.iter().any(|(n, _)| n == name) {
            problems.push(format!("{name}: mirrored as {value}, unknown to the headers"));
        }
    }
    let header_version = unsafe { shim::autojit_layout_hexversion() };
    let (major, minor) = super::VERSION;
    if (header_version >> 24, (header_version >> 16) & 0xff) != (major as i64 as _, minor as i64 as _) {
        problems.push(format!("headers are version {header_version:#x}, layer is {major}.{minor}"));
    }
    problems
}

#[cfg(not(autojit_supported))]
pub fn mismatches() -> Vec<String> {
    vec!["no version layer for this Python".to_owned()]
}

#[cfg(all(test, autojit_supported))]
mod tests {
    #[test]
    fn version_layer_matches_the_interpreter_headers() {
        assert_eq!(super::mismatches(), Vec::<String>::new());
        assert!(super::interpreter_layout().len() >= 40);
    }
}
