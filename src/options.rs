//! Every knob of autojit in one place: its name, its environment variable, its default and
//! one line of help. `enable(**options)` and the `AUTOJIT_<NAME>` variables both go through
//! here; explicit keywords win over the environment, which wins over the defaults.

use parking_lot::Mutex;
use pyo3::exceptions::{PyRuntimeWarning, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::ffi::CString;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What kind of value an option takes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// A non-negative integer.
    Count,
    /// A boolean (`1/0`, `true/false`, `yes/no`, `on/off` in the environment).
    Flag,
    /// Module prefixes (a comma-separated list in the environment).
    Modules,
}

pub struct OptionSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub default: &'static str,
    pub help: &'static str,
    /// Further environment variable names accepted besides `AUTOJIT_<NAME>`.
    pub env_aliases: &'static [&'static str],
}

/// The options table. README's option list is generated from the same entries
/// (`autojit.options_help()`).
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "threshold",
        kind: Kind::Count,
        default: "100",
        help: "calls of a function before it is compiled (0: compile every eligible function on its first call)",
        env_aliases: &[],
    },
    OptionSpec {
        name: "loop_threshold",
        kind: Kind::Count,
        default: "200",
        help: "back-edges of a loop (rounded up to a power of two) after which tier 2 compiles it for the types seen and switches to it mid-loop; functions with a loop compile to tier 1 on their first call",
        env_aliases: &[],
    },
    OptionSpec {
        name: "exclude",
        kind: Kind::Modules,
        default: "",
        help: "module prefixes never compiled (a prefix covers its submodules)",
        env_aliases: &[],
    },
    OptionSpec {
        name: "code_limit",
        kind: Kind::Count,
        default: "67108864",
        help: "bytes of executable memory for compiled code (0: no limit); past it new code stays interpreted",
        env_aliases: &[],
    },
    OptionSpec {
        name: "stats_at_exit",
        kind: Kind::Flag,
        default: "0",
        help: "print a report of what was counted and compiled when the program exits",
        env_aliases: &["AUTOJIT_STATS"],
    },
    OptionSpec {
        name: "perf_map",
        kind: Kind::Flag,
        default: "0",
        help: "append every compiled unit to perf-<pid>.map in the temp directory, so `perf report` names JIT code",
        env_aliases: &[],
    },
    OptionSpec {
        name: "verify",
        kind: Kind::Flag,
        default: "0",
        help: "check the first verify_calls calls of each compiled function against an interpreter run on deep copies of the arguments; a difference warns (autojit.VerifyWarning) and sends the function back to the interpreter for good",
        env_aliases: &[],
    },
    OptionSpec {
        name: "verify_calls",
        kind: Kind::Count,
        default: "3",
        help: "calls checked per compiled function in verify mode (and again per tier-2 loop variant compiled)",
        env_aliases: &[],
    },
];

/// The effective options.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub threshold: u64,
    pub loop_threshold: u64,
    pub exclude: Vec<String>,
    pub code_limit: u64,
    pub stats_at_exit: bool,
    pub perf_map: bool,
    pub verify: bool,
    pub verify_calls: u64,
}

impl Default for Options {
    fn default() -> Self {
        let mut options = Options {
            threshold: 0,
            loop_threshold: 0,
            exclude: Vec::new(),
            code_limit: 0,
            stats_at_exit: false,
            perf_map: false,
            verify: false,
            verify_calls: 0,
        };
        for spec in OPTIONS {
            let value = parse_text(spec.kind, spec.default).expect("defaults parse");
            options.set(spec.name, value);
        }
        options
    }
}

/// A parsed option value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Count(u64),
    Flag(bool),
    Modules(Vec<String>),
}

impl Options {
    fn set(&mut self, name: &str, value: Value) {
        match (name, value) {
            ("threshold", Value::Count(n)) => self.threshold = n,
            ("loop_threshold", Value::Count(n)) => self.loop_threshold = n,
            ("exclude", Value::Modules(m)) => self.exclude = m,
            ("code_limit", Value::Count(n)) => self.code_limit = n,
            ("stats_at_exit", Value::Flag(b)) => self.stats_at_exit = b,
            ("perf_map", Value::Flag(b)) => self.perf_map = b,
            ("verify", Value::Flag(b)) => self.verify = b,
            ("verify_calls", Value::Count(n)) => self.verify_calls = n,
            (name, value) => unreachable!("option {name} given {value:?}"),
        }
    }

    /// The options as a Python dict (what `autojit.options()` returns).
    pub fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("threshold", self.threshold)?;
        dict.set_item("loop_threshold", self.loop_threshold)?;
        dict.set_item("exclude", self.exclude.clone())?;
        dict.set_item("code_limit", self.code_limit)?;
        dict.set_item("stats_at_exit", self.stats_at_exit)?;
        dict.set_item("perf_map", self.perf_map)?;
        dict.set_item("verify", self.verify)?;
        dict.set_item("verify_calls", self.verify_calls)?;
        Ok(dict)
    }
}

/// Parse an environment-variable text for an option of `kind`.
pub fn parse_text(kind: Kind, text: &str) -> Result<Value, String> {
    let text = text.trim();
    match kind {
        Kind::Count => text
            .parse::<u64>()
            .map(Value::Count)
            .map_err(|_| "expected a non-negative integer".to_owned()),
        Kind::Flag => match text.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Value::Flag(true)),
            "" | "0" | "false" | "no" | "off" => Ok(Value::Flag(false)),
            _ => Err("expected 1/0, true/false, yes/no or on/off".to_owned()),
        },
        Kind::Modules => Ok(Value::Modules(split_modules(text))),
    }
}

fn split_modules(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn env_names(spec: &OptionSpec) -> Vec<String> {
    let mut names = vec![format!("AUTOJIT_{}", spec.name.to_ascii_uppercase())];
    names.extend(spec.env_aliases.iter().map(|s| s.to_string()));
    names
}

/// Options from the defaults and the environment. A malformed variable gives one warning
/// and leaves the default in place; it never stops the program.
pub fn from_environment(py: Python<'_>) -> PyResult<Options> {
    let mut options = Options::default();
    for spec in OPTIONS {
        for var in env_names(spec) {
            let Ok(text) = std::env::var(&var) else { continue };
            match parse_text(spec.kind, &text) {
                Ok(value) => options.set(spec.name, value),
                Err(why) => {
                    let message = format!(
                        "autojit: ignoring {var}={text:?}: {why}; using the default {}",
                        spec.default
                    );
                    warn(py, &message)?;
                }
            }
        }
    }
    Ok(options)
}

/// Apply `enable()` keywords on top of `options`. Unknown names raise TypeError, bad values
/// ValueError (or TypeError for a value of the wrong type).
pub fn apply_keywords(options: &mut Options, keywords: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    let Some(keywords) = keywords else { return Ok(()) };
    for (key, value) in keywords.iter() {
        let name: String = key.extract()?;
        let Some(spec) = OPTIONS.iter().find(|s| s.name == name) else {
            return Err(PyTypeError::new_err(format!(
                "enable() got an unexpected keyword argument '{name}'"
            )));
        };
        let parsed = match spec.kind {
            Kind::Count => {
                if value.is_instance_of::<pyo3::types::PyBool>() {
                    return Err(PyTypeError::new_err(format!("{name} must be an int, not bool")));
                }
                let n: i128 = value.extract().map_err(|_| {
                    PyTypeError::new_err(format!(
                        "{name} must be an int, not {}",
                        value.get_type().name().map(|n| n.to_string()).unwrap_or_default()
                    ))
                })?;
                if n < 0 || n > u64::MAX as i128 {
                    return Err(PyValueError::new_err(format!(
                        "{name} must be a non-negative integer, got {n}"
                    )));
                }
                Value::Count(n as u64)
            }
            Kind::Flag => Value::Flag(value.is_truthy()?),
            Kind::Modules => {
                if let Ok(s) = value.cast::<PyString>() {
                    Value::Modules(split_modules(&s.to_str()?))
                } else {
                    let mut modules = Vec::new();
                    for item in value.try_iter()? {
                        let item = item?;
                        let s: String = item.extract().map_err(|_| {
                            PyTypeError::new_err(format!("{name} must contain module names (str)"))
                        })?;
                        validate_module_prefix(&s)?;
                        modules.push(s);
                    }
                    Value::Modules(modules)
                }
            }
        };
        options.set(spec.name, parsed);
    }
    Ok(())
}

/// A module prefix is a dotted name: `pkg` or `pkg.sub`.
pub fn validate_module_prefix(prefix: &str) -> PyResult<()> {
    let ok = !prefix.is_empty()
        && prefix.split('.').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        });
    if ok {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!("not a module name: {prefix:?}")))
    }
}

fn warn(py: Python<'_>, message: &str) -> PyResult<()> {
    let message = CString::new(message.replace('\0', "?")).expect("no NUL");
    PyErr::warn(py, &py.get_type::<PyRuntimeWarning>(), &message, 1)
}

/// The options in force, and hot-path copies of the numbers the hook reads on every call.
pub static CURRENT: Mutex<Option<Options>> = Mutex::new(None);
pub static THRESHOLD: AtomicU64 = AtomicU64::new(100);
pub static LOOP_THRESHOLD: AtomicU64 = AtomicU64::new(200);

/// Make `options` the ones in force.
pub fn install(options: Options) {
    THRESHOLD.store(options.threshold, Relaxed);
    LOOP_THRESHOLD.store(options.loop_threshold, Relaxed);
    crate::codemem::CODE_LIMIT.store(options.code_limit, Relaxed);
    crate::exclusion::set(options.exclude.clone());
    #[cfg(autojit_supported)]
    {
        crate::verify::VERIFY.store(options.verify, Relaxed);
        crate::tier1::calls::invalidate_call_caches();
        crate::verify::VERIFY_CALLS.store(options.verify_calls, Relaxed);
        crate::observe::want_perf_map(options.perf_map);
    }
    *CURRENT.lock() = Some(options);
}

/// The options in force (the defaults and environment if `enable()` was never called).
pub fn current(py: Python<'_>) -> PyResult<Options> {
    if let Some(options) = CURRENT.lock().clone() {
        return Ok(options);
    }
    from_environment(py)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_match_the_table() {
        let options = Options::default();
        assert_eq!(options.threshold, 100);
        assert_eq!(options.loop_threshold, 200);
        assert!(options.exclude.is_empty());
        assert!(!options.stats_at_exit);
        assert!(!options.perf_map && !options.verify);
        assert_eq!(options.verify_calls, 3);
    }

    #[test]
    fn environment_texts() {
        assert_eq!(parse_text(Kind::Count, " 7 "), Ok(Value::Count(7)));
        assert!(parse_text(Kind::Count, "abc").is_err());
        assert!(parse_text(Kind::Count, "-1").is_err());
        assert_eq!(parse_text(Kind::Flag, "Yes"), Ok(Value::Flag(true)));
        assert_eq!(parse_text(Kind::Flag, "off"), Ok(Value::Flag(false)));
        assert!(parse_text(Kind::Flag, "maybe").is_err());
        assert_eq!(
            parse_text(Kind::Modules, "pandas, myapp.slow_io,,"),
            Ok(Value::Modules(vec!["pandas".into(), "myapp.slow_io".into()]))
        );
    }
}
