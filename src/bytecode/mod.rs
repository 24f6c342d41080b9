//! Bytecode: decoding a code object's instructions into a version-neutral list, and the
//! static facts templates need (jump targets, stack depth at each instruction, reachability).

pub mod opcodes;

pub use opcodes::Op;

use pyo3_ffi::PyCompile_OpcodeStackEffectWithJump;

/// One instruction, with its EXTENDED_ARG prefixes folded in.
#[derive(Clone, Debug)]
pub struct Instr {
    /// Code-unit index of the first EXTENDED_ARG prefix (or of the instruction itself): where
    /// the interpreter must resume to execute this instruction.
    pub start: usize,
    /// Code-unit index of the instruction's own opcode: where `prev_instr` points while it runs.
    pub index: usize,
    pub op: Op,
    pub opcode: u8,
    pub arg: u32,
    /// Code-unit index of the next instruction (after inline caches).
    pub next: usize,
}

/// Where control goes after an instruction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Flow {
    /// Falls through only.
    Next,
    /// May jump to `target` (code units) or fall through.
    Branch(usize),
    /// Always jumps to `target`.
    Jump(usize),
    /// Leaves the function (return, raise).
    Stop,
}

pub struct Bytecode {
    pub instrs: Vec<Instr>,
    /// Code-unit index of an instruction start to its position in `instrs`.
    position_of_start: Vec<Option<usize>>,
}

impl Bytecode {
    /// Decode the unspecialised bytecode (`co_code`, two bytes per code unit).
    pub fn decode(code: &[u8]) -> Bytecode {
        let table = opcodes::table();
        let units = code.len() / 2;
        let mut instrs = Vec::new();
        let mut position_of_start = vec![None; units + 1];
        let mut i = 0;
        while i < units {
            let start = i;
            let mut arg: u32 = 0;
            let mut opcode = code[2 * i];
            arg |= code[2 * i + 1] as u32;
            while table.ops[opcode as usize] == Op::EXTENDED_ARG && i + 1 < units {
                i += 1;
                opcode = code[2 * i];
                arg = (arg << 8) | code[2 * i + 1] as u32;
            }
            let op = table.ops[opcode as usize];
            let next = i + 1 + table.caches[opcode as usize] as usize;
            position_of_start[start] = Some(instrs.len());
            instrs.push(Instr { start, index: i, op, opcode, arg, next });
            i = next;
        }
        Bytecode { instrs, position_of_start }
    }

    /// The position in `instrs` of the instruction starting at code unit `start`.
    pub fn position(&self, start: usize) -> Option<usize> {
        self.position_of_start.get(start).copied().flatten()
    }
}

impl Instr {
    /// The instruction's control flow.
    pub fn flow(&self) -> Flow {
        use Op::*;
        let forward = self.next + self.arg as usize;
        let backward = self.next.wrapping_sub(self.arg as usize);
        match self.op {
            JUMP_FORWARD => Flow::Jump(forward),
            JUMP_BACKWARD | JUMP_BACKWARD_NO_INTERRUPT => Flow::Jump(backward),
            POP_JUMP_IF_FALSE | POP_JUMP_IF_TRUE | POP_JUMP_IF_NONE | POP_JUMP_IF_NOT_NONE
            | POP_JUMP_FORWARD_IF_FALSE | POP_JUMP_FORWARD_IF_TRUE | POP_JUMP_FORWARD_IF_NONE
            | POP_JUMP_FORWARD_IF_NOT_NONE | JUMP_IF_FALSE_OR_POP | JUMP_IF_TRUE_OR_POP | SEND => {
                Flow::Branch(forward)
            }
            POP_JUMP_BACKWARD_IF_FALSE | POP_JUMP_BACKWARD_IF_TRUE | POP_JUMP_BACKWARD_IF_NONE
            | POP_JUMP_BACKWARD_IF_NOT_NONE => Flow::Branch(backward),
            FOR_ITER => Flow::Branch(self.for_iter_exit()),
            RETURN_VALUE | RETURN_CONST | RAISE_VARARGS | RERAISE => Flow::Stop,
            _ => Flow::Next,
        }
    }

    /// Where an exhausted FOR_ITER continues: on 3.12 past the END_FOR its jump names (the
    /// interpreter skips it, having already popped the iterator); on 3.11 the jump target.
    pub fn for_iter_exit(&self) -> usize {
        let target = self.next + self.arg as usize;
        if opcodes::table().number(Op::END_FOR).is_some() {
            target + 1
        } else {
            target
        }
    }

    /// Stack effect when falling through (`jump == false`) or taking the jump.
    pub fn stack_effect(&self, jump: bool) -> Option<i32> {
        if self.op == Op::FOR_ITER && jump {
            // The exhausted iterator is popped (see `for_iter_exit`).
            return Some(-1);
        }
        // 3.11's compiler books a call's arguments against PRECALL, but at run time they stay
        // on the stack until CALL: use the run-time depths, which exits must reproduce.
        if opcodes::table().number(Op::PRECALL).is_some() {
            match self.op {
                Op::PRECALL => return Some(0),
                Op::CALL => return Some(-(self.arg as i32) - 1),
                _ => {}
            }
        }
        let effect = unsafe {
            PyCompile_OpcodeStackEffectWithJump(self.opcode as i32, self.arg as i32, jump as i32)
        };
        // CPython reports an invalid opcode as a huge number (PY_INVALID_STACK_EFFECT).
        (effect.abs() < 1000).then_some(effect)
    }
}

/// Stack depth (above the locals) on entry to each instruction reachable from the start by
/// normal control flow; None for unreachable instructions (exception handlers included: they
/// only run in the interpreter). Err if the stack effects are inconsistent.
pub fn stack_depths(bytecode: &Bytecode) -> Result<Vec<Option<u32>>, String> {
    let n = bytecode.instrs.len();
    let mut depth: Vec<Option<u32>> = vec![None; n];
    let mut work = Vec::new();
    if n > 0 {
        depth[0] = Some(0);
        work.push(0usize);
    }
    let visit = |pos: usize, d: i64, depth: &mut Vec<Option<u32>>, work: &mut Vec<usize>| -> Result<(), String> {
        if d < 0 {
            return Err(format!("negative stack depth at instruction {pos}"));
        }
        match depth[pos] {
            None => {
                depth[pos] = Some(d as u32);
                work.push(pos);
                Ok(())
            }
            Some(old) if old as i64 == d => Ok(()),
            Some(old) => Err(format!("stack depth {old} and {d} meet at instruction {pos}")),
        }
    };
    while let Some(pos) = work.pop() {
        let instr = &bytecode.instrs[pos];
        let d = depth[pos].unwrap() as i64;
        let flow = instr.flow();
        let target_pos = |target: usize| {
            bytecode.position(target).ok_or_else(|| format!("jump to {target}, not an instruction start"))
        };
        match flow {
            Flow::Next | Flow::Branch(_) => {
                let effect = instr.stack_effect(false).ok_or(format!("no stack effect for {:?}", instr.op))?;
                if pos + 1 < n {
                    visit(pos + 1, d + effect as i64, &mut depth, &mut work)?;
                }
            }
            _ => {}
        }
        match flow {
            Flow::Branch(target) | Flow::Jump(target) => {
                let effect = instr.stack_effect(true).ok_or(format!("no stack effect for {:?}", instr.op))?;
                visit(target_pos(target)?, d + effect as i64, &mut depth, &mut work)?;
            }
            _ => {}
        }
    }
    Ok(depth)
}
