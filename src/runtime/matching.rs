//! Helpers for structural pattern matching: MATCH_MAPPING, MATCH_SEQUENCE, MATCH_KEYS,
//! MATCH_CLASS. `match_keys` and `match_class` are the interpreter's static functions of the
//! same names (Python/ceval.c), call for call and message for message.

use pyo3_ffi::*;
use std::os::raw::c_char;
use std::sync::atomic::{AtomicPtr, Ordering};

extern "C" {
    fn _PyObject_GetMethod(obj: *mut PyObject, name: *mut PyObject, method: *mut *mut PyObject) -> std::os::raw::c_int;
}

static STR_GET: AtomicPtr<PyObject> = AtomicPtr::new(std::ptr::null_mut());

unsafe fn str_get() -> *mut PyObject {
    let mut s = STR_GET.load(Ordering::Relaxed);
    if s.is_null() {
        s = PyUnicode_InternFromString(c"get".as_ptr() as *const c_char);
        STR_GET.store(s, Ordering::Relaxed);
    }
    s
}

const TPFLAGS_MATCH_SELF: std::os::raw::c_ulong = 1 << 22;

/// MATCH_MAPPING (flag = Py_TPFLAGS_MAPPING) and MATCH_SEQUENCE (Py_TPFLAGS_SEQUENCE): a new
/// reference to True or False. Never fails.
pub unsafe extern "C" fn match_type_flag(subject: *mut PyObject, flag: u64) -> *mut PyObject {
    let flags = (*Py_TYPE(subject)).tp_flags as u64;
    Py_NewRef(if flags & flag != 0 { Py_True() } else { Py_False() })
}

/// MATCH_KEYS: a tuple of the values for `keys` (a tuple), None if one is missing, or null.
pub unsafe extern "C" fn match_keys(map: *mut PyObject, keys: *mut PyObject) -> *mut PyObject {
    let nkeys = PyTuple_GET_SIZE(keys);
    if nkeys == 0 {
        return PyTuple_New(0);
    }
    let mut seen: *mut PyObject = std::ptr::null_mut();
    let mut dummy: *mut PyObject = std::ptr::null_mut();
    let mut values: *mut PyObject = std::ptr::null_mut();
    let mut get: *mut PyObject = std::ptr::null_mut();
    let meth_found = _PyObject_GetMethod(map, str_get(), &mut get);
    let ok = 'body: {
        if get.is_null() {
            break 'body false;
        }
        seen = PySet_New(std::ptr::null_mut());
        if seen.is_null() {
            break 'body false;
        }
        dummy = PyObject_CallNoArgs(std::ptr::addr_of_mut!(PyBaseObject_Type) as *mut PyObject);
        if dummy.is_null() {
            break 'body false;
        }
        values = PyTuple_New(nkeys);
        if values.is_null() {
            break 'body false;
        }
        for i in 0..nkeys {
            let key = PyTuple_GET_ITEM(keys, i);
            if PySet_Contains(seen, key) != 0 || PySet_Add(seen, key) != 0 {
                if PyErr_Occurred().is_null() {
                    PyErr_Format(PyExc_ValueError, c"mapping pattern checks duplicate key (%R)".as_ptr(), key);
                }
                break 'body false;
            }
            let args = [map, key, dummy];
            let value = if meth_found != 0 {
                PyObject_Vectorcall(get, args.as_ptr(), 3, std::ptr::null_mut())
            } else {
                PyObject_Vectorcall(get, args.as_ptr().add(1), 2, std::ptr::null_mut())
            };
            if value.is_null() {
                break 'body false;
            }
            if value == dummy {
                // The key is not in the map.
                Py_DECREF(value);
                Py_DECREF(values);
                values = Py_NewRef(Py_None());
                break 'body true;
            }
            PyTuple_SET_ITEM(values, i, value);
        }
        true
    };
    if ok {
        Py_DECREF(get);
        Py_DECREF(seen);
        Py_DECREF(dummy);
        return values;
    }
    Py_XDECREF(get);
    Py_XDECREF(seen);
    Py_XDECREF(dummy);
    Py_XDECREF(values);
    std::ptr::null_mut()
}

/// The interpreter's `match_class_attr`: null with no exception set means "no match".
unsafe fn match_class_attr(subject: *mut PyObject, tp: *mut PyObject, name: *mut PyObject, seen: *mut PyObject) -> *mut PyObject {
    if PySet_Contains(seen, name) != 0 || PySet_Add(seen, name) != 0 {
        if PyErr_Occurred().is_null() {
            PyErr_Format(
                PyExc_TypeError,
                c"%s() got multiple sub-patterns for attribute %R".as_ptr(),
                (*(tp as *mut PyTypeObject)).tp_name,
                name,
            );
        }
        return std::ptr::null_mut();
    }
    let attr = PyObject_GetAttr(subject, name);
    if attr.is_null() && PyErr_ExceptionMatches(PyExc_AttributeError) != 0 {
        PyErr_Clear();
    }
    attr
}

/// The interpreter's `match_class`: a tuple of the extracted attributes on a match; null
/// otherwise, with an exception set on an error and none for "no match".
unsafe fn match_class_impl(subject: *mut PyObject, tp: *mut PyObject, nargs: Py_ssize_t, kwargs: *mut PyObject) -> *mut PyObject {
    if PyType_Check(tp) == 0 {
        #[cfg(autojit_py311)]
        let e = c"called match pattern must be a type";
        #[cfg(autojit_py312)]
        let e = c"called match pattern must be a class";
        PyErr_Format(PyExc_TypeError, e.as_ptr());
        return std::ptr::null_mut();
    }
    if PyObject_IsInstance(subject, tp) <= 0 {
        return std::ptr::null_mut();
    }
    let seen = PySet_New(std::ptr::null_mut());
    if seen.is_null() {
        return std::ptr::null_mut();
    }
    let mut attrs = PyList_New(0);
    if attrs.is_null() {
        Py_DECREF(seen);
        return std::ptr::null_mut();
    }
    let type_name = (*(tp as *mut PyTypeObject)).tp_name;
    let mut match_args: *mut PyObject = std::ptr::null_mut();
    let ok = 'body: {
        if nargs != 0 {
            let mut match_self = false;
            match_args = PyObject_GetAttrString(tp, c"__match_args__".as_ptr());
            if !match_args.is_null() {
                if PyTuple_CheckExact(match_args) == 0 {
                    PyErr_Format(
                        PyExc_TypeError,
                        c"%s.__match_args__ must be a tuple (got %s)".as_ptr(),
                        type_name,
                        (*Py_TYPE(match_args)).tp_name,
                    );
                    break 'body false;
                }
            } else if PyErr_ExceptionMatches(PyExc_AttributeError) != 0 {
                PyErr_Clear();
                match_args = PyTuple_New(0);
                match_self = PyType_HasFeature(tp as *mut PyTypeObject, TPFLAGS_MATCH_SELF) != 0;
            } else {
                break 'body false;
            }
            let allowed = if match_self { 1 } else { PyTuple_GET_SIZE(match_args) };
            if allowed < nargs {
                let plural = if allowed == 1 { c"" } else { c"s" };
                PyErr_Format(
                    PyExc_TypeError,
                    c"%s() accepts %d positional sub-pattern%s (%d given)".as_ptr(),
                    type_name,
                    allowed as std::os::raw::c_int,
                    plural.as_ptr(),
                    nargs as std::os::raw::c_int,
                );
                break 'body false;
            }
            if match_self {
                if PyList_Append(attrs, subject) < 0 {
                    break 'body false;
                }
            } else {
                for i in 0..nargs {
                    let name = PyTuple_GET_ITEM(match_args, i);
                    if PyUnicode_CheckExact(name) == 0 {
                        PyErr_Format(
                            PyExc_TypeError,
                            c"__match_args__ elements must be strings (got %s)".as_ptr(),
                            (*Py_TYPE(name)).tp_name,
                        );
                        break 'body false;
                    }
                    let attr = match_class_attr(subject, tp, name, seen);
                    if attr.is_null() {
                        break 'body false;
                    }
                    if PyList_Append(attrs, attr) < 0 {
                        Py_DECREF(attr);
                        break 'body false;
                    }
                    Py_DECREF(attr);
                }
            }
            Py_DECREF(match_args);
            match_args = std::ptr::null_mut();
        }
        for i in 0..PyTuple_GET_SIZE(kwargs) {
            let name = PyTuple_GET_ITEM(kwargs, i);
            let attr = match_class_attr(subject, tp, name, seen);
            if attr.is_null() {
                break 'body false;
            }
            if PyList_Append(attrs, attr) < 0 {
                Py_DECREF(attr);
                break 'body false;
            }
            Py_DECREF(attr);
        }
        true
    };
    if ok {
        let tuple = PyList_AsTuple(attrs);
        Py_DECREF(attrs);
        attrs = tuple;
        Py_DECREF(seen);
        return attrs;
    }
    Py_XDECREF(match_args);
    Py_DECREF(seen);
    Py_DECREF(attrs);
    std::ptr::null_mut()
}

/// MATCH_CLASS: `slots` = [subject, type, names], all consumed. Returns the attribute tuple
/// on a match, None on no match, null on an error.
pub unsafe extern "C" fn match_class(slots: *mut *mut PyObject, nargs: u64) -> *mut PyObject {
    let (subject, tp, names) = (*slots, *slots.add(1), *slots.add(2));
    let attrs = match_class_impl(subject, tp, nargs as Py_ssize_t, names);
    // 3.11 releases names and type first and the subject last; 3.12 releases the inputs in
    // order. Either way the result is decided before any release.
    #[cfg(autojit_py311)]
    {
        Py_DECREF(names);
        Py_DECREF(tp);
        if attrs.is_null() && !PyErr_Occurred().is_null() {
            Py_DECREF(subject);
            return std::ptr::null_mut();
        }
        Py_DECREF(subject);
    }
    #[cfg(autojit_py312)]
    {
        Py_DECREF(subject);
        Py_DECREF(tp);
        Py_DECREF(names);
        if attrs.is_null() && !PyErr_Occurred().is_null() {
            return std::ptr::null_mut();
        }
    }
    if attrs.is_null() {
        return Py_NewRef(Py_None());
    }
    attrs
}
