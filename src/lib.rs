//! autojit: a just-in-time compiler for CPython, shipped as an ordinary extension module.
//!
//! This file is the Python-facing surface of the Rust core (`autojit._core`); the public API
//! with its documentation lives in `python/autojit/__init__.py`.

pub mod cpython;
pub mod exclusion;
pub mod options;
pub mod stats;

#[cfg(autojit_supported)]
pub mod codestate;
#[cfg(autojit_supported)]
pub mod hook;
#[cfg(autojit_supported)]
pub mod stack_guard;

mod api;

use pyo3::prelude::*;

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    api::register(m)
}
