//! The instruction set, by name, for every supported version.
//!
//! Opcode numbers differ between versions, so the table from number to `Op` is built at import
//! time from the running interpreter's own `opcode` module (its `opmap` and its inline-cache
//! sizes), the interpreter being the specification. An opcode this table does not name decodes
//! as `Op::Unknown` and compiles as a fallback into the interpreter.

use once_cell::sync::OnceCell;
use pyo3::prelude::*;
use pyo3::types::PyDict;

macro_rules! ops {
    ($($name:ident),* $(,)?) => {
        /// Every instruction of CPython 3.11 and 3.12 (a version uses a subset).
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub enum Op { Unknown, $($name),* }

        impl Op {
            fn from_name(name: &str) -> Op {
                match name { $(stringify!($name) => Op::$name,)* _ => Op::Unknown }
            }
            pub fn name(self) -> &'static str {
                match self { Op::Unknown => "UNKNOWN", $(Op::$name => stringify!($name),)* }
            }
        }
    };
}

ops! {
    CACHE, POP_TOP, PUSH_NULL, INTERPRETER_EXIT, END_FOR, END_SEND, NOP, UNARY_POSITIVE,
    UNARY_NEGATIVE, UNARY_NOT, UNARY_INVERT, RESERVED, BINARY_SUBSCR, BINARY_SLICE, STORE_SLICE,
    GET_LEN, MATCH_MAPPING, MATCH_SEQUENCE, MATCH_KEYS, PUSH_EXC_INFO, CHECK_EXC_MATCH,
    CHECK_EG_MATCH, WITH_EXCEPT_START, GET_AITER, GET_ANEXT, BEFORE_ASYNC_WITH, BEFORE_WITH,
    END_ASYNC_FOR, CLEANUP_THROW, STORE_SUBSCR, DELETE_SUBSCR, GET_ITER, GET_YIELD_FROM_ITER,
    PRINT_EXPR, LOAD_BUILD_CLASS, LOAD_ASSERTION_ERROR, RETURN_GENERATOR, LIST_TO_TUPLE,
    RETURN_VALUE, IMPORT_STAR, SETUP_ANNOTATIONS, YIELD_VALUE, ASYNC_GEN_WRAP, PREP_RERAISE_STAR,
    LOAD_LOCALS, POP_EXCEPT, STORE_NAME, DELETE_NAME, UNPACK_SEQUENCE, FOR_ITER, UNPACK_EX,
    STORE_ATTR, DELETE_ATTR, STORE_GLOBAL, DELETE_GLOBAL, SWAP, LOAD_CONST, LOAD_NAME,
    BUILD_TUPLE, BUILD_LIST, BUILD_SET, BUILD_MAP, LOAD_ATTR, COMPARE_OP, IMPORT_NAME,
    IMPORT_FROM, JUMP_FORWARD, JUMP_IF_FALSE_OR_POP, JUMP_IF_TRUE_OR_POP,
    POP_JUMP_FORWARD_IF_FALSE, POP_JUMP_FORWARD_IF_TRUE, POP_JUMP_IF_FALSE, POP_JUMP_IF_TRUE,
    LOAD_GLOBAL, IS_OP, CONTAINS_OP, RERAISE, COPY, RETURN_CONST, BINARY_OP, SEND, LOAD_FAST,
    STORE_FAST, DELETE_FAST, LOAD_FAST_CHECK, POP_JUMP_FORWARD_IF_NOT_NONE,
    POP_JUMP_FORWARD_IF_NONE, POP_JUMP_IF_NOT_NONE, POP_JUMP_IF_NONE, RAISE_VARARGS,
    GET_AWAITABLE, MAKE_FUNCTION, BUILD_SLICE, JUMP_BACKWARD_NO_INTERRUPT, MAKE_CELL,
    LOAD_CLOSURE, LOAD_DEREF, STORE_DEREF, DELETE_DEREF, JUMP_BACKWARD, LOAD_SUPER_ATTR,
    CALL_FUNCTION_EX, LOAD_FAST_AND_CLEAR, EXTENDED_ARG, LIST_APPEND, SET_ADD, MAP_ADD,
    LOAD_CLASSDEREF, COPY_FREE_VARS, RESUME, MATCH_CLASS, FORMAT_VALUE, BUILD_CONST_KEY_MAP,
    BUILD_STRING, LOAD_METHOD, LIST_EXTEND, SET_UPDATE, DICT_MERGE, DICT_UPDATE, PRECALL, CALL,
    KW_NAMES, POP_JUMP_BACKWARD_IF_NOT_NONE, POP_JUMP_BACKWARD_IF_NONE,
    POP_JUMP_BACKWARD_IF_FALSE, POP_JUMP_BACKWARD_IF_TRUE, CALL_INTRINSIC_1, CALL_INTRINSIC_2,
    LOAD_FROM_DICT_OR_GLOBALS, LOAD_FROM_DICT_OR_DEREF, INSTRUMENTED_RETURN_VALUE,
    INSTRUMENTED_RETURN_CONST,
}

/// The running interpreter's opcode table.
pub struct OpcodeTable {
    /// Opcode number to `Op`.
    pub ops: [Op; 256],
    /// Opcode number to the number of inline CACHE code units that follow it.
    pub caches: [u8; 256],
    /// `Op` back to the opcode number (for stack effects); 0 when the version lacks it.
    numbers: std::collections::HashMap<Op, u8>,
}

impl OpcodeTable {
    pub fn number(&self, op: Op) -> Option<u8> {
        self.numbers.get(&op).copied()
    }
}

static TABLE: OnceCell<OpcodeTable> = OnceCell::new();

/// Build the table from the interpreter's `opcode` module. Called once at import.
pub fn init(py: Python<'_>) -> PyResult<()> {
    if TABLE.get().is_some() {
        return Ok(());
    }
    let opcode = py.import("opcode")?;
    let opmap = opcode.getattr("opmap")?.cast_into::<PyDict>()?;
    let caches: Vec<u8> = opcode.getattr("_inline_cache_entries")?.extract()?;
    let mut table = OpcodeTable {
        ops: [Op::Unknown; 256],
        caches: [0; 256],
        numbers: Default::default(),
    };
    for (name, number) in opmap.iter() {
        let name: String = name.extract()?;
        let number: usize = number.extract()?;
        if number < 256 {
            let op = Op::from_name(&name);
            table.ops[number] = op;
            if op != Op::Unknown {
                table.numbers.insert(op, number as u8);
            }
        }
    }
    for (number, count) in caches.iter().enumerate().take(256) {
        table.caches[number] = *count;
    }
    let _ = TABLE.set(table);
    Ok(())
}

/// The table; `init` must have run.
pub fn table() -> &'static OpcodeTable {
    TABLE.get().expect("opcode table initialised at import")
}
