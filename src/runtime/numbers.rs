//! Fast paths for BINARY_OP and COMPARE_OP on exact ints of one digit and exact floats: the
//! arithmetic CPython's own int and float implementations do for such operands, without
//! the generic number protocol. Anything else (subclasses, big ints, zero divisors, other
//! types) goes through the protocol as before.
//!
//! Exactness: one-digit ints are below 2**30 in magnitude, so sums, differences and
//! products fit an i64 exactly, and every such int converts to a double exactly, which is
//! how CPython itself mixes them with floats (`float_add` and friends, `float_richcompare`,
//! `long_true_divide` for operands below 2**53). Results are built by the same
//! constructors (`PyLong_FromLongLong` shares the small-int cache; `PyFloat_FromDouble`).

use crate::cpython;
use pyo3_ffi::*;
use std::os::raw::c_int;

/// A number operand the fast paths understand.
#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

#[inline(always)]
unsafe fn classify(obj: *mut PyObject) -> Option<Num> {
    let tp = Py_TYPE(obj);
    if tp == std::ptr::addr_of_mut!(PyLong_Type) {
        cpython::compact_int_value(obj).map(Num::Int)
    } else if tp == std::ptr::addr_of_mut!(PyFloat_Type) {
        Some(Num::Float(PyFloat_AS_DOUBLE(obj)))
    } else {
        None
    }
}

impl Num {
    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

// BINARY_OP arguments (NB_*); the in-place forms are these plus 13, and behave the same on
// ints and floats (neither type has in-place slots).
const NB_ADD: u64 = 0;
const NB_AND: u64 = 1;
const NB_FLOOR_DIVIDE: u64 = 2;
const NB_MULTIPLY: u64 = 5;
const NB_REMAINDER: u64 = 6;
const NB_OR: u64 = 7;
const NB_SUBTRACT: u64 = 10;
const NB_TRUE_DIVIDE: u64 = 11;
const NB_XOR: u64 = 12;
const NB_INPLACE_OFFSET: u64 = 13;

/// BINARY_OP on two values of the frame's stack, which the caller releases right after: the
/// fast path when it applies, else the number protocol. A new reference or null with an
/// exception set.
///
/// Like CPython 3.12's float specializations, a float result reuses an operand float that
/// only the stack holds (it dies right after anyway) instead of allocating a new one.
pub unsafe extern "C" fn binary_op_on_stack(lhs: *mut PyObject, rhs: *mut PyObject, oparg: u64) -> *mut PyObject {
    if let (Some(a), Some(b)) = (classify(lhs), classify(rhs)) {
        let op = if oparg >= NB_INPLACE_OFFSET { oparg - NB_INPLACE_OFFSET } else { oparg };
        let result = match (a, b) {
            (Num::Int(a), Num::Int(b)) => int_op(op, a, b),
            _ => match float_value(op, a.as_f64(), b.as_f64()) {
                Some(value) => float_result(value, lhs, rhs),
                None => std::ptr::null_mut(),
            },
        };
        if !result.is_null() {
            return result;
        }
    }
    super::binary_op(lhs, rhs, oparg)
}

/// A float object holding `value`: a dying operand float if there is one, else a new one.
#[inline(always)]
unsafe fn float_result(value: f64, lhs: *mut PyObject, rhs: *mut PyObject) -> *mut PyObject {
    for operand in [lhs, rhs] {
        if Py_TYPE(operand) == std::ptr::addr_of_mut!(PyFloat_Type) && Py_REFCNT(operand) == 1 {
            (*(operand as *mut PyFloatObject)).ob_fval = value;
            Py_INCREF(operand);
            return operand;
        }
    }
    PyFloat_FromDouble(value)
}

/// One-digit int operands: null (no exception) where the fast path does not apply.
#[inline(always)]
unsafe fn int_op(op: u64, a: i64, b: i64) -> *mut PyObject {
    let value = match op {
        NB_ADD => a + b,
        NB_SUBTRACT => a - b,
        NB_MULTIPLY => a * b,
        NB_AND => a & b,
        NB_OR => a | b,
        NB_XOR => a ^ b,
        NB_FLOOR_DIVIDE if b != 0 => floor_div(a, b),
        NB_REMAINDER if b != 0 => py_mod(a, b),
        NB_TRUE_DIVIDE if b != 0 => return PyFloat_FromDouble(a as f64 / b as f64),
        _ => return std::ptr::null_mut(),
    };
    PyLong_FromLongLong(value)
}

/// Python's `a // b`: the quotient rounded toward negative infinity (`b != 0`).
fn floor_div(a: i64, b: i64) -> i64 {
    let q = a / b;
    if a % b != 0 && (a < 0) != (b < 0) {
        q - 1
    } else {
        q
    }
}

/// Python's `a % b`: the remainder with the divisor's sign (`b != 0`).
fn py_mod(a: i64, b: i64) -> i64 {
    let r = a % b;
    if r != 0 && (r < 0) != (b < 0) {
        r + b
    } else {
        r
    }
}

/// Float operands (at least one a float, any int among them one digit): the result, or
/// None where the fast path does not apply.
#[inline(always)]
fn float_value(op: u64, a: f64, b: f64) -> Option<f64> {
    Some(match op {
        NB_ADD => a + b,
        NB_SUBTRACT => a - b,
        NB_MULTIPLY => a * b,
        NB_TRUE_DIVIDE if b != 0.0 => a / b,
        _ => return None,
    })
}

/// CPython's preallocated small ints (-5 to 256, `_PY_NSMALLNEGINTS` and `_PY_NSMALLPOSINTS`),
/// which `PyLong_FromLongLong` returns for values in that range: the address of -5 and the
/// log2 of the distance between consecutive ones, if they lie in one array at a power-of-two
/// stride (checked for every one of them); None otherwise.
pub fn small_int_table() -> Option<(u64, u8)> {
    static TABLE: std::sync::OnceLock<Option<(u64, u8)>> = std::sync::OnceLock::new();
    *TABLE.get_or_init(|| unsafe {
        let address = |v: i64| {
            let obj = PyLong_FromLongLong(v);
            Py_DECREF(obj); // the table keeps it alive
            obj as u64
        };
        let base = address(SMALL_INT_MIN);
        let stride = address(SMALL_INT_MIN + 1).wrapping_sub(base);
        if !stride.is_power_of_two() {
            return None;
        }
        let all = (SMALL_INT_MIN..=SMALL_INT_MAX).all(|v| address(v) == base + (v - SMALL_INT_MIN) as u64 * stride);
        all.then_some((base, stride.trailing_zeros() as u8))
    })
}

/// The range of CPython's small ints.
pub const SMALL_INT_MIN: i64 = -5;
pub const SMALL_INT_MAX: i64 = 256;

/// Result of `fast_compare` when the operands are not for the fast path.
pub const NOT_FAST: i64 = 2;

/// COMPARE_OP's truth for one-digit ints and floats: 0 or 1, or `NOT_FAST`. Borrows the
/// operands; never raises (such comparisons call no Python code).
pub unsafe extern "C" fn fast_compare(lhs: *mut PyObject, rhs: *mut PyObject, op: u64) -> i64 {
    let (Some(a), Some(b)) = (classify(lhs), classify(rhs)) else {
        return NOT_FAST;
    };
    let truth = match (a, b) {
        (Num::Int(a), Num::Int(b)) => compare(op, a, b),
        _ => compare(op, a.as_f64(), b.as_f64()),
    };
    truth as i64
}

#[inline(always)]
fn compare<T: PartialOrd>(op: u64, a: T, b: T) -> bool {
    // Py_LT, Py_LE, Py_EQ, Py_NE, Py_GT, Py_GE.
    match op {
        0 => a < b,
        1 => a <= b,
        2 => a == b,
        3 => a != b,
        4 => a > b,
        _ => a >= b,
    }
}

/// COMPARE_OP producing an object: True/False from the fast path, else the rich comparison.
pub unsafe extern "C" fn rich_compare(lhs: *mut PyObject, rhs: *mut PyObject, op: u64) -> *mut PyObject {
    match fast_compare(lhs, rhs, op) {
        0 => Py_NewRef(Py_False()),
        1 => Py_NewRef(Py_True()),
        _ => PyObject_RichCompare(lhs, rhs, op as c_int),
    }
}

#[cfg(test)]
mod tests {
    use super::{floor_div, py_mod};

    /// Python's floor division and remainder on every sign combination (values from Python).
    #[test]
    fn floor_division_and_remainder_follow_python() {
        let cases = [(7, 2, 3, 1), (-7, 2, -4, 1), (7, -2, -4, -1), (-7, -2, 3, -1), (6, 3, 2, 0), (-6, 3, -2, 0), (6, -3, -2, 0), (0, -5, 0, 0), (1, 1 << 29, 0, 1), (-1, 1 << 29, -1, (1 << 29) - 1)];
        for (a, b, q, r) in cases {
            assert_eq!(floor_div(a, b), q, "{a} // {b}");
            assert_eq!(py_mod(a, b), r, "{a} % {b}");
        }
    }
}
