//! The sandbox's `wasi_snapshot_preview1`: the handful of functions a Rust (or C) WASI command
//! needs, implemented directly on the call's in-memory state.
//!
//! Why not `wasmtime-wasi`: its preview-1 support is built on the component-model WASI stack
//! (tokio, cap-std, resource tables) — many more crates to compile on a 2-core machine and a
//! `WasiCtx` with tables to build per call, for a sandbox that must offer *nothing*: no files, no
//! sockets, no env, no args. Here a call's WASI state is two byte buffers and two integers.
//! Measured (plugins/README.md): bare instantiate + run p50 3.6 µs here vs 5.5 µs with
//! `wasmtime-wasi`'s preview 1, and 86 vs 167 crates in the dependency graph.
//!
//! - stdin (fd 0): the input bytes; stdout (fd 1): captured up to the output cap, and writing
//!   past the cap traps ([`OutputOverflow`]); stderr (fd 2): kept up to 8 KiB for error messages.
//! - args and environment: empty. Preopens: none (`fd_prestat_get` → EBADF), so std sees no
//!   filesystem.
//! - clocks: one fixed instant; `random_get`: a fixed-seed generator. Both come from
//!   [`Entropy`], which the install check varies between its two runs to catch plugins whose
//!   output depends on them.
//! - `proc_exit` ends the call with [`Exit`].
//! - Any other preview-1 import links to a trap (see `engine.rs`), other modules are refused.

use wasmtime::{Caller, Extern, Linker, ResourceLimiter};

pub(crate) const MODULE: &str = "wasi_snapshot_preview1";

const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_FAULT: i32 = 21;
const ERRNO_INVAL: i32 = 28;
const ERRNO_NOTSUP: i32 = 58;
const ERRNO_SPIPE: i32 = 70;
const FILETYPE_CHARACTER_DEVICE: u8 = 2;
const STDERR_CAP: usize = 8 << 10;

/// `proc_exit(code)`: unwinds the call; not a fault.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("plugin exited with status {0}")]
pub(crate) struct Exit(pub i32);

/// Writing past the output cap.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("output exceeds {0} bytes")]
pub(crate) struct OutputOverflow(pub usize);

/// What a plugin can observe besides its input. Production calls use [`Entropy::FIXED`]; the
/// install check's second run uses [`Entropy::PERTURBED`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entropy {
    pub clock_ns: u64,
    pub seed: u64,
    /// Most bytes one `fd_read` returns (a plugin must not depend on read sizes).
    pub read_chunk: usize,
}

impl Entropy {
    /// 2026-01-01T00:00:00Z.
    pub const FIXED: Entropy = Entropy {
        clock_ns: 1_767_225_600_000_000_000,
        seed: 0x5752_4b5f_504c_5547,
        read_chunk: usize::MAX,
    };
    /// One year, a week and 3 s later, another seed, 7-byte reads.
    pub const PERTURBED: Entropy = Entropy {
        clock_ns: 1_767_225_600_000_000_000 + 373 * 86_400 * 1_000_000_000 + 3_000_000_000,
        seed: 0x0dd_ba11_cafe_f00d,
        read_chunk: 7,
    };
}

/// Everything one call owns; dropped with its `Store`.
pub(crate) struct CallState {
    pub stdin: Vec<u8>,
    pub stdin_pos: usize,
    pub stdout: Vec<u8>,
    pub stdout_cap: usize,
    pub stderr: Vec<u8>,
    pub entropy: Entropy,
    rng: u64,
    pub memory_cap: usize,
    /// Set when a memory grow was refused, so a later trap is reported as `MemoryLimit`.
    pub memory_refused: bool,
    pub peak_memory: usize,
}

impl CallState {
    pub fn new(stdin: Vec<u8>, stdout_cap: usize, memory_cap: usize, entropy: Entropy) -> Self {
        Self {
            stdin,
            stdin_pos: 0,
            stdout: Vec::new(),
            stdout_cap,
            stderr: Vec::new(),
            entropy,
            rng: entropy.seed,
            memory_cap,
            memory_refused: false,
            peak_memory: 0,
        }
    }

    /// splitmix64: tiny, fixed-seed, good enough for hash seeds.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl ResourceLimiter for CallState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            self.memory_refused = true;
            return Ok(false);
        }
        self.peak_memory = self.peak_memory.max(desired);
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.memory_refused = true;
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

type Ctx<'a> = Caller<'a, CallState>;

/// The guest's exported memory and our state, borrowed together.
fn memory<'a>(caller: &'a mut Ctx<'_>) -> wasmtime::Result<(&'a mut [u8], &'a mut CallState)> {
    match caller.get_export("memory") {
        Some(Extern::Memory(mem)) => Ok(mem.data_and_store_mut(caller)),
        _ => Err(wasmtime::Error::msg("plugin exports no memory")),
    }
}

fn slice(mem: &[u8], ptr: i32, len: usize) -> Option<&[u8]> {
    let start = ptr as u32 as usize;
    mem.get(start..start.checked_add(len)?)
}

fn slice_mut(mem: &mut [u8], ptr: i32, len: usize) -> Option<&mut [u8]> {
    let start = ptr as u32 as usize;
    mem.get_mut(start..start.checked_add(len)?)
}

fn put_u32(mem: &mut [u8], ptr: i32, v: u32) -> bool {
    slice_mut(mem, ptr, 4)
        .map(|s| s.copy_from_slice(&v.to_le_bytes()))
        .is_some()
}

fn put_u64(mem: &mut [u8], ptr: i32, v: u64) -> bool {
    slice_mut(mem, ptr, 8)
        .map(|s| s.copy_from_slice(&v.to_le_bytes()))
        .is_some()
}

fn get_u32(mem: &[u8], ptr: i32) -> Option<u32> {
    slice(mem, ptr, 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// (buf, len) pairs of an iovec array.
fn iovecs(mem: &[u8], iovs: i32, count: i32) -> Option<Vec<(i32, usize)>> {
    (0..count.max(0))
        .map(|i| {
            let at = iovs.checked_add(i.checked_mul(8)?)?;
            Some((
                get_u32(mem, at)? as i32,
                get_u32(mem, at.checked_add(4)?)? as usize,
            ))
        })
        .collect()
}

fn zero_sizes(mut caller: Ctx<'_>, count_ptr: i32, size_ptr: i32) -> wasmtime::Result<i32> {
    let (mem, _) = memory(&mut caller)?;
    Ok(if put_u32(mem, count_ptr, 0) && put_u32(mem, size_ptr, 0) {
        ERRNO_SUCCESS
    } else {
        ERRNO_FAULT
    })
}

/// Adds the sandbox's WASI functions to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "args_sizes_get", zero_sizes)?;
    linker.func_wrap(MODULE, "environ_sizes_get", zero_sizes)?;
    linker.func_wrap(MODULE, "args_get", |_: Ctx<'_>, _: i32, _: i32| {
        ERRNO_SUCCESS
    })?;
    linker.func_wrap(MODULE, "environ_get", |_: Ctx<'_>, _: i32, _: i32| {
        ERRNO_SUCCESS
    })?;

    linker.func_wrap(
        MODULE,
        "fd_write",
        |mut caller: Ctx<'_>,
         fd: i32,
         iovs: i32,
         count: i32,
         nwritten: i32|
         -> wasmtime::Result<i32> {
            let (mem, state) = memory(&mut caller)?;
            if fd != 1 && fd != 2 {
                return Ok(ERRNO_BADF);
            }
            let Some(vecs) = iovecs(mem, iovs, count) else {
                return Ok(ERRNO_FAULT);
            };
            let mut total = 0usize;
            for (ptr, len) in vecs {
                let Some(bytes) = slice(mem, ptr, len) else {
                    return Ok(ERRNO_FAULT);
                };
                if fd == 1 {
                    if state.stdout.len() + len > state.stdout_cap {
                        return Err(wasmtime::Error::new(OutputOverflow(state.stdout_cap)));
                    }
                    state.stdout.extend_from_slice(bytes);
                } else {
                    let room = STDERR_CAP.saturating_sub(state.stderr.len());
                    state.stderr.extend_from_slice(&bytes[..len.min(room)]);
                }
                total += len;
            }
            Ok(if put_u32(mem, nwritten, total as u32) {
                ERRNO_SUCCESS
            } else {
                ERRNO_FAULT
            })
        },
    )?;

    linker.func_wrap(
        MODULE,
        "fd_read",
        |mut caller: Ctx<'_>,
         fd: i32,
         iovs: i32,
         count: i32,
         nread: i32|
         -> wasmtime::Result<i32> {
            let (mem, state) = memory(&mut caller)?;
            if fd != 0 {
                return Ok(ERRNO_BADF);
            }
            let Some(vecs) = iovecs(mem, iovs, count) else {
                return Ok(ERRNO_FAULT);
            };
            let mut budget = state.entropy.read_chunk;
            let mut total = 0usize;
            for (ptr, len) in vecs {
                let left = &state.stdin[state.stdin_pos..];
                let n = len.min(left.len()).min(budget);
                let Some(dst) = slice_mut(mem, ptr, n) else {
                    return Ok(ERRNO_FAULT);
                };
                dst.copy_from_slice(&left[..n]);
                state.stdin_pos += n;
                budget -= n;
                total += n;
                if n < len {
                    break;
                }
            }
            Ok(if put_u32(mem, nread, total as u32) {
                ERRNO_SUCCESS
            } else {
                ERRNO_FAULT
            })
        },
    )?;

    linker.func_wrap(
        MODULE,
        "proc_exit",
        |_: Ctx<'_>, code: i32| -> wasmtime::Result<()> { Err(wasmtime::Error::new(Exit(code))) },
    )?;

    linker.func_wrap(
        MODULE,
        "random_get",
        |mut caller: Ctx<'_>, buf: i32, len: i32| -> wasmtime::Result<i32> {
            let (mem, state) = memory(&mut caller)?;
            let Some(dst) = slice_mut(mem, buf, len as u32 as usize) else {
                return Ok(ERRNO_FAULT);
            };
            for chunk in dst.chunks_mut(8) {
                let r = state.next_random().to_le_bytes();
                chunk.copy_from_slice(&r[..chunk.len()]);
            }
            Ok(ERRNO_SUCCESS)
        },
    )?;

    linker.func_wrap(
        MODULE,
        "clock_time_get",
        |mut caller: Ctx<'_>, id: i32, _precision: i64, out: i32| -> wasmtime::Result<i32> {
            let (mem, state) = memory(&mut caller)?;
            let now = match id {
                0 | 1 => state.entropy.clock_ns,
                2 | 3 => 0,
                _ => return Ok(ERRNO_INVAL),
            };
            Ok(if put_u64(mem, out, now) {
                ERRNO_SUCCESS
            } else {
                ERRNO_FAULT
            })
        },
    )?;
    linker.func_wrap(
        MODULE,
        "clock_res_get",
        |mut caller: Ctx<'_>, _id: i32, out: i32| -> wasmtime::Result<i32> {
            let (mem, _) = memory(&mut caller)?;
            Ok(if put_u64(mem, out, 1_000) {
                ERRNO_SUCCESS
            } else {
                ERRNO_FAULT
            })
        },
    )?;

    linker.func_wrap(
        MODULE,
        "fd_fdstat_get",
        |mut caller: Ctx<'_>, fd: i32, out: i32| -> wasmtime::Result<i32> {
            let (mem, _) = memory(&mut caller)?;
            if !(0..=2).contains(&fd) {
                return Ok(ERRNO_BADF);
            }
            let Some(dst) = slice_mut(mem, out, 24) else {
                return Ok(ERRNO_FAULT);
            };
            dst.fill(0);
            dst[0] = FILETYPE_CHARACTER_DEVICE;
            let rights: u64 = if fd == 0 { 1 << 1 } else { 1 << 6 }; // fd_read / fd_write
            dst[8..16].copy_from_slice(&rights.to_le_bytes());
            Ok(ERRNO_SUCCESS)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "fd_filestat_get",
        |mut caller: Ctx<'_>, fd: i32, out: i32| -> wasmtime::Result<i32> {
            let (mem, _) = memory(&mut caller)?;
            if !(0..=2).contains(&fd) {
                return Ok(ERRNO_BADF);
            }
            let Some(dst) = slice_mut(mem, out, 64) else {
                return Ok(ERRNO_FAULT);
            };
            dst.fill(0);
            dst[16] = FILETYPE_CHARACTER_DEVICE;
            Ok(ERRNO_SUCCESS)
        },
    )?;
    linker.func_wrap(MODULE, "fd_close", |_: Ctx<'_>, fd: i32| {
        if (0..=2).contains(&fd) {
            ERRNO_SUCCESS
        } else {
            ERRNO_BADF
        }
    })?;
    linker.func_wrap(
        MODULE,
        "fd_seek",
        |_: Ctx<'_>, fd: i32, _off: i64, _whence: i32, _out: i32| {
            if (0..=2).contains(&fd) {
                ERRNO_SPIPE
            } else {
                ERRNO_BADF
            }
        },
    )?;
    linker.func_wrap(MODULE, "fd_sync", |_: Ctx<'_>, fd: i32| {
        if (0..=2).contains(&fd) {
            ERRNO_SUCCESS
        } else {
            ERRNO_BADF
        }
    })?;
    linker.func_wrap(
        MODULE,
        "fd_prestat_get",
        |_: Ctx<'_>, _fd: i32, _out: i32| ERRNO_BADF,
    )?;
    linker.func_wrap(
        MODULE,
        "fd_prestat_dir_name",
        |_: Ctx<'_>, _fd: i32, _p: i32, _l: i32| ERRNO_BADF,
    )?;
    linker.func_wrap(MODULE, "sched_yield", |_: Ctx<'_>| ERRNO_SUCCESS)?;
    linker.func_wrap(
        MODULE,
        "poll_oneoff",
        |_: Ctx<'_>, _in: i32, _out: i32, _n: i32, _ne: i32| ERRNO_NOTSUP,
    )?;
    Ok(())
}
