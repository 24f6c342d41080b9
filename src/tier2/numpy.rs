//! numpy, read directly: the ndarray struct and the float64 scalar, checked against numpy
//! itself before tier 2 touches either. numpy stays optional: nothing here runs until numpy
//! is imported, and a layout that does not match turns array support off.

use once_cell::sync::OnceCell;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// `PyArrayObject_fields` (numpy's public ndarraytypes.h).
pub const ARRAY_DATA: i32 = 16;
pub const ARRAY_ND: i32 = 24;
pub const ARRAY_DIMS: i32 = 32;
pub const ARRAY_STRIDES: i32 = 40;
pub const ARRAY_DESCR: i32 = 56;
pub const ARRAY_FLAGS: i32 = 64;
/// `PyArray_Descr`: byteorder and type_num (the same in numpy 1.x and 2.x).
pub const DESCR_BYTEORDER: usize = 26;
pub const DESCR_TYPE_NUM: usize = 28;
pub const NPY_DOUBLE: i32 = 12;
pub const NPY_ARRAY_ALIGNED: i32 = 0x100;
pub const NPY_ARRAY_WRITEABLE: i32 = 0x400;
/// `PyDoubleScalarObject.obval`.
pub const SCALAR_VALUE: usize = 16;

pub struct Numpy {
    pub ndarray: usize,
    pub float64: usize,
    pub bool_true: usize,
    pub bool_false: usize,
    geterr: Py<PyAny>,
    default_errstate: Py<PyAny>,
}

static NUMPY: OnceCell<Option<Numpy>> = OnceCell::new();

/// numpy's types, once numpy has been imported and its layout checked; None otherwise.
pub fn get(py: Python<'_>) -> Option<&'static Numpy> {
    if let Some(found) = NUMPY.get() {
        return found.as_ref();
    }
    // Not imported yet: do not import it ourselves, and look again next time.
    let modules = py.import("sys").ok()?.getattr("modules").ok()?;
    if !modules.contains("numpy").unwrap_or(false) {
        return None;
    }
    let checked = check(py).ok().flatten();
    let _ = NUMPY.set(checked);
    NUMPY.get().and_then(|n| n.as_ref())
}

/// Build the table and check every offset against numpy's own view of a real array.
fn check(py: Python<'_>) -> PyResult<Option<Numpy>> {
    let np = py.import("numpy")?;
    let array = np.call_method1("arange", (6.0,))?.call_method1("reshape", ((2, 3),))?;
    let addr = array.as_ptr() as usize;
    unsafe {
        let read = |off: i32| *((addr as isize + off as isize) as *const usize);
        let data: usize = array.getattr("ctypes")?.getattr("data")?.extract()?;
        let shape: (usize, usize) = array.getattr("shape")?.extract()?;
        let strides: (usize, usize) = array.getattr("strides")?.extract()?;
        let dims = read(ARRAY_DIMS) as *const usize;
        let strides_ptr = read(ARRAY_STRIDES) as *const usize;
        let nd = *((addr + ARRAY_ND as usize) as *const i32);
        let descr = read(ARRAY_DESCR);
        let type_num = *((descr + DESCR_TYPE_NUM) as *const i32);
        let ok = read(ARRAY_DATA) == data
            && nd == 2
            && (*dims, *dims.add(1)) == shape
            && (*strides_ptr, *strides_ptr.add(1)) == strides
            && type_num == NPY_DOUBLE;
        let scalar = np.getattr("float64")?.call1((1.5,))?;
        let scalar_ok = *((scalar.as_ptr() as usize + SCALAR_VALUE) as *const f64) == 1.5;
        if !ok || !scalar_ok {
            return Ok(None);
        }
    }
    let default_errstate = PyDict::new(py);
    for (k, v) in [("divide", "warn"), ("over", "warn"), ("under", "ignore"), ("invalid", "warn")] {
        default_errstate.set_item(k, v)?;
    }
    Ok(Some(Numpy {
        ndarray: np.getattr("ndarray")?.as_ptr() as usize,
        float64: np.getattr("float64")?.as_ptr() as usize,
        bool_true: np.getattr("True_")?.as_ptr() as usize,
        bool_false: np.getattr("False_")?.as_ptr() as usize,
        geterr: np.getattr("geterr")?.unbind(),
        default_errstate: default_errstate.into_any().unbind(),
    }))
}

impl Numpy {
    /// numpy's floating-point error handling is the default (warn, warn, ignore, warn), the
    /// only setting under which tier 2's exits reproduce numpy's warnings exactly.
    pub fn errstate_is_default(&self, py: Python<'_>) -> PyResult<bool> {
        self.geterr.call0(py).and_then(|state| state.bind(py).eq(self.default_errstate.bind(py)))
    }
}
