//! Build script: pick the CPython version layer and compile the layout shim.
//!
//! The shim (src/cpython/layout_shim.c) is compiled against the target interpreter's own
//! internal headers, so the offsets our Rust mirrors use can be checked against the truth.
//! Versions without a version layer build without the shim and without the JIT: the package
//! still imports and `enable()` warns.

use std::env;
use std::process::Command;

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
    for cfg in ["autojit_py311", "autojit_py312", "autojit_supported"] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    println!("cargo::rerun-if-changed=src/cpython/layout_shim.c");
    println!("cargo::rerun-if-changed=include/autojit_layout.h");
    println!("cargo::rerun-if-env-changed=AUTOJIT_PYTHON_INCLUDE");

    let config = pyo3_build_config::get();
    let version = config.version();
    let (major, minor) = (version.major, version.minor);
    let layer = match (major, minor) {
        (3, 11) => Some("autojit_py311"),
        (3, 12) => Some("autojit_py312"),
        _ => None,
    };
    let Some(layer) = layer else {
        println!("cargo::warning=autojit: Python {major}.{minor} has no version layer; building without the JIT");
        return;
    };
    println!("cargo::rustc-cfg={layer}");
    println!("cargo::rustc-cfg=autojit_supported");

    let include = python_include_dir(config.executable());
    cc::Build::new()
        .file("src/cpython/layout_shim.c")
        .include("include")
        .include(&include)
        .include(format!("{include}/internal"))
        .warnings(false)
        .compile("autojit_layout_shim");
}

/// The interpreter's header directory: `AUTOJIT_PYTHON_INCLUDE` (for cross builds), else asked
/// of the interpreter pyo3 builds for.
fn python_include_dir(executable: Option<&str>) -> String {
    if let Ok(dir) = env::var("AUTOJIT_PYTHON_INCLUDE") {
        return dir;
    }
    let python = executable
        .map(str::to_owned)
        .or_else(|| env::var("PYO3_PYTHON").ok())
        .unwrap_or_else(|| "python3".to_owned());
    let out = Command::new(&python)
        .args(["-c", "import sysconfig; print(sysconfig.get_paths()['include'])"])
        .output()
        .unwrap_or_else(|e| panic!("autojit: cannot run {python} to find its headers: {e}"));
    assert!(out.status.success(), "autojit: {python} could not report its include directory");
    String::from_utf8(out.stdout).expect("utf-8 path").trim().to_owned()
}
