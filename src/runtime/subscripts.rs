//! BINARY_SUBSCR and STORE_SUBSCR with fast paths for exact lists and tuples indexed by a
//! one-digit int, and exact dicts: what `list_subscript`, `tuple_subscript`,
//! `dict_subscript`, `list_ass_subscript` and `dict_ass_sub` do for them, without the
//! mapping protocol. Out-of-range indexes and everything else take the protocol, which
//! raises the usual errors.

use crate::cpython;
use pyo3_ffi::*;

extern "C" {
    fn _PyErr_SetKeyError(key: *mut PyObject);
}

/// The position `key` names in a sequence of `len` items, if `key` is a one-digit exact int
/// in range (negative indexes count from the end).
#[inline(always)]
unsafe fn sequence_index(key: *mut PyObject, len: isize) -> Option<isize> {
    if Py_TYPE(key) != std::ptr::addr_of_mut!(PyLong_Type) {
        return None;
    }
    let mut i = cpython::compact_int_value(key)? as isize;
    if i < 0 {
        i += len;
    }
    (0..len).contains(&i).then_some(i)
}

/// BINARY_SUBSCR: a new reference, or null with an exception set. Borrows its operands.
pub unsafe extern "C" fn get_item(container: *mut PyObject, key: *mut PyObject) -> *mut PyObject {
    let tp = Py_TYPE(container);
    if tp == std::ptr::addr_of_mut!(PyList_Type) {
        if let Some(i) = sequence_index(key, PyList_GET_SIZE(container)) {
            return Py_NewRef(PyList_GET_ITEM(container, i));
        }
    } else if tp == std::ptr::addr_of_mut!(PyTuple_Type) {
        if let Some(i) = sequence_index(key, PyTuple_GET_SIZE(container)) {
            return Py_NewRef(PyTuple_GET_ITEM(container, i));
        }
    } else if tp == std::ptr::addr_of_mut!(PyDict_Type) {
        // An exact dict has no __missing__: a missing key is a KeyError, raised as
        // dict_subscript raises it (the key hashed and compared once).
        let value = PyDict_GetItemWithError(container, key);
        if !value.is_null() {
            return Py_NewRef(value);
        }
        if PyErr_Occurred().is_null() {
            _PyErr_SetKeyError(key);
        }
        return std::ptr::null_mut();
    }
    PyObject_GetItem(container, key)
}

/// STORE_SUBSCR (`container[key] = value`): 0, or -1 with an exception set. Borrows its
/// operands.
pub unsafe extern "C" fn set_item(container: *mut PyObject, key: *mut PyObject, value: *mut PyObject) -> i64 {
    let tp = Py_TYPE(container);
    if tp == std::ptr::addr_of_mut!(PyList_Type) {
        if let Some(i) = sequence_index(key, PyList_GET_SIZE(container)) {
            // The new item is in place before the old one is released (its destructor may
            // look at the list).
            let items = (*(container as *mut PyListObject)).ob_item;
            let old = *items.offset(i);
            *items.offset(i) = Py_NewRef(value);
            Py_DECREF(old);
            return 0;
        }
    } else if tp == std::ptr::addr_of_mut!(PyDict_Type) {
        return PyDict_SetItem(container, key, value) as i64;
    }
    PyObject_SetItem(container, key, value) as i64
}
