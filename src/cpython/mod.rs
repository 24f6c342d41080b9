//! Everything that depends on CPython's internal layout, behind one version-neutral face.
//!
//! Each supported version has its own file (`v311.rs`, `v312.rs`) with the offsets and
//! constants of the structs we touch; `layout.rs` checks every one of them against the
//! interpreter's own headers (through the C shim) before the JIT may run.

pub mod ffi;
pub mod layout;

#[cfg(autojit_py311)]
mod v311;
#[cfg(autojit_py311)]
pub use v311::*;

#[cfg(autojit_py312)]
mod v312;
#[cfg(autojit_py312)]
pub use v312::*;

#[cfg(autojit_supported)]
pub use access::*;

/// Typed reads of internal struct fields at the offsets of the version layer.
#[cfg(autojit_supported)]
mod access {
    use super::*;
    use pyo3_ffi::{PyObject, PyThreadState};

    /// CPython's `_PyInterpreterFrame`, opaque: fields are read at the version's offsets.
    #[repr(C)]
    pub struct InterpreterFrame {
        _opaque: [u8; 0],
    }

    /// A pointer to the field at `offset` bytes into `base`.
    #[inline(always)]
    pub unsafe fn field<T>(base: *const u8, offset: usize) -> *mut T {
        base.add(offset) as *mut T
    }

    #[inline(always)]
    pub unsafe fn frame_code(frame: *const InterpreterFrame) -> *mut PyObject {
        *field::<*mut PyObject>(frame.cast(), FRAME_F_CODE)
    }

    #[inline(always)]
    pub unsafe fn frame_owner(frame: *const InterpreterFrame) -> u8 {
        *field::<u8>(frame.cast(), FRAME_OWNER)
    }

    #[inline(always)]
    pub unsafe fn frame_globals(frame: *const InterpreterFrame) -> *mut PyObject {
        *field::<*mut PyObject>(frame.cast(), FRAME_F_GLOBALS)
    }

    #[inline(always)]
    pub unsafe fn code_flags(code: *const PyObject) -> i32 {
        *field::<i32>(code.cast(), CODE_CO_FLAGS)
    }

    #[inline(always)]
    pub unsafe fn tstate_interp(tstate: *const PyThreadState) -> *const u8 {
        *field::<*const u8>(tstate.cast(), TSTATE_INTERP)
    }

    /// A code object's unspecialised bytecode (`co_code`); None (no exception left set) if
    /// it cannot be read.
    pub unsafe fn code_bytes(code: *mut PyObject) -> Option<Vec<u8>> {
        let co_code = super::ffi::PyCode_GetCode(code);
        if co_code.is_null() {
            pyo3_ffi::PyErr_Clear();
            return None;
        }
        let data = pyo3_ffi::PyBytes_AsString(co_code) as *const u8;
        let bytes = std::slice::from_raw_parts(data, pyo3_ffi::PyBytes_Size(co_code) as usize).to_vec();
        pyo3_ffi::Py_DECREF(co_code);
        Some(bytes)
    }

    #[inline(always)]
    pub unsafe fn tstate_cframe(tstate: *const PyThreadState) -> *const u8 {
        *field::<*const u8>(tstate.cast(), TSTATE_CFRAME)
    }
}
