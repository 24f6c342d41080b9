//! `s += t` (and `s = s + t`) on exact strs stored back into the same local: appended in place
//! when nothing else holds `s`, as CPython's BINARY_OP_INPLACE_ADD_UNICODE does, instead of
//! copying the growing string every time.

use pyo3_ffi::*;

/// Return values of `append_to_local`.
pub const NOT_APPLICABLE: i64 = 0;
pub const APPENDED: i64 = 1;

/// BINARY_OP `+` whose result the next instruction (a STORE_FAST) stores into `*local`.
/// When `lhs` and `rhs` are exact strs and `lhs` is the local's current value: the stack's
/// references are consumed, `*local` holds the concatenation (the STORE_FAST is done), and
/// the result is `APPENDED`; on error -1 with the local cleared, as in CPython. Otherwise
/// `NOT_APPLICABLE`, with nothing touched.
pub unsafe extern "C" fn append_to_local(local: *mut *mut PyObject, lhs: *mut PyObject, rhs: *mut PyObject) -> i64 {
    let str_type = std::ptr::addr_of_mut!(PyUnicode_Type);
    if Py_TYPE(lhs) != str_type || Py_TYPE(rhs) != str_type || *local != lhs {
        return NOT_APPLICABLE;
    }
    // The local still holds `lhs`: dropping the stack's reference cannot free it, and leaves
    // the local as its only holder when nothing else refers to it (so it can grow in place).
    Py_DECREF(lhs);
    PyUnicode_Append(local, rhs);
    Py_DECREF(rhs);
    if (*local).is_null() {
        -1
    } else {
        APPENDED
    }
}
