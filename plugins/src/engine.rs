//! The wasmtime side: one [`Engine`] (pooling allocator, fuel, epoch interruption, NaN
//! canonicalisation), compiling a module once into a [`CompiledPlugin`] (with its `InstancePre`),
//! and running a call on a fresh instance with the [`Limits`].
//!
//! Calls are synchronous and short (tens of µs); the async host runs them on its blocking pool
//! (`spawn_blocking`). Nothing here blocks on I/O except reading/writing the module cache.

use crate::cache::ModuleCache;
use crate::error::PluginError;
use crate::limits::{HostConfig, Limits};
use crate::manifest::read_manifest;
use crate::wasi::{self, CallState, Entropy, Exit, OutputOverflow};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wasmtime::{
    Config, Enabled, Engine, ExternType, InstanceAllocationStrategy, InstancePre, Linker, Module,
    OptLevel, PoolingAllocationConfig, Store, Trap, UpdateDeadline,
};
use wrk_plugin_sdk::Manifest;

/// Bytes of each pooled memory slot kept resident between instances (see `PluginHost::new`).
const KEEP_RESIDENT_BYTES: usize = 2 << 20;

/// Hex SHA-256 of a plugin binary: its identity everywhere.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// A module compiled and pre-linked, ready to instantiate. Cheap to share (`Arc` inside).
#[derive(Clone)]
pub struct CompiledPlugin {
    pub sha256: String,
    pub manifest: Manifest,
    pub size_bytes: usize,
    pre: InstancePre<CallState>,
}

impl std::fmt::Debug for CompiledPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledPlugin")
            .field("sha256", &self.sha256)
            .field("manifest", &self.manifest)
            .finish()
    }
}

/// What one run measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CallStats {
    pub fuel_used: u64,
    #[serde(serialize_with = "micros")]
    pub wall_time: Duration,
    /// Largest linear memory size reached, in bytes.
    pub peak_memory_bytes: usize,
}

fn micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_micros() as u64)
}

/// The raw result of a run: stdout bytes, not yet checked.
#[derive(Debug, Clone)]
pub struct RawRun {
    pub stdout: Vec<u8>,
    pub stats: CallStats,
}

/// Owns the engine, the WASI linker, the epoch ticker and the module cache.
pub struct PluginHost {
    engine: Engine,
    linker: Linker<CallState>,
    limits: Limits,
    epoch_tick: Duration,
    cache: Option<ModuleCache>,
    ticker_stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("limits", &self.limits)
            .finish()
    }
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl PluginHost {
    pub fn new(config: HostConfig) -> Result<Self, PluginError> {
        let engine_err = |e: wasmtime::Error| PluginError::Trap(format!("engine setup: {e:#}"));
        let limits = config.limits;
        let mut pool = PoolingAllocationConfig::default();
        let slots = config.max_concurrent_calls.max(1);
        pool.total_core_instances(slots)
            .total_memories(slots)
            .total_tables(slots)
            .max_memories_per_module(1)
            .max_tables_per_module(1)
            .max_memory_size(limits.memory_bytes)
            .max_unused_warm_slots(slots.min(16))
            // Reset the low, always-touched part of a slot with memset instead of madvise, so
            // the next instance does not page-fault its data, stack and first heap pages back
            // in; PAGEMAP_SCAN (Linux ≥ 6.7) limits that to pages actually dirtied.
            .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(64 << 10)
            .pagemap_scan(Enabled::Auto);
        let mut cfg = Config::new();
        cfg.consume_fuel(true)
            .epoch_interruption(true)
            .cranelift_nan_canonicalization(true)
            .cranelift_opt_level(OptLevel::Speed)
            .wasm_backtrace_max_frames(None)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&cfg).map_err(engine_err)?;
        let mut linker = Linker::new(&engine);
        wasi::add_to_linker(&mut linker).map_err(engine_err)?;
        let cache =
            match &config.cache_dir {
                Some(dir) => Some(ModuleCache::open(dir, &engine).map_err(|e| {
                    PluginError::Trap(format!("module cache {}: {e}", dir.display()))
                })?),
                None => None,
            };

        // Epoch ticker: a std thread, so the crate needs no async runtime. It stops when the
        // host is dropped (it holds only an `Engine` clone and the stop flag).
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (stop, ticking, tick) = (ticker_stop.clone(), engine.clone(), config.epoch_tick);
        std::thread::Builder::new()
            .name("wrk-plugin-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    ticking.increment_epoch();
                }
            })
            .map_err(|e| PluginError::Trap(format!("epoch ticker: {e}")))?;

        Ok(Self {
            engine,
            linker,
            limits,
            epoch_tick: config.epoch_tick.max(Duration::from_micros(100)),
            cache,
            ticker_stop,
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Compiles (or loads from the cache), checks imports/exports and the manifest, pre-links.
    /// `Err(Invalid)` lists every reason found.
    pub fn compile(&self, bytes: &[u8]) -> Result<CompiledPlugin, PluginError> {
        let sha256 = sha256_hex(bytes);
        let mut reasons = Vec::new();
        let manifest = read_manifest(bytes).map_err(|r| reasons.extend(r)).ok();
        let module = match self.load_module(&sha256, bytes) {
            Ok(m) => Some(m),
            Err(e) => {
                reasons.push(format!("does not compile: {e}"));
                None
            }
        };
        let mut linker = None;
        if let Some(module) = &module {
            for import in module.imports() {
                let name = format!("{}::{}", import.module(), import.name());
                if import.module() != wasi::MODULE {
                    reasons.push(format!(
                        "import `{name}` is not allowed: only {} functions are",
                        wasi::MODULE
                    ));
                } else if !matches!(import.ty(), ExternType::Func(_)) {
                    reasons.push(format!("import `{name}` is not a function"));
                }
            }
            match module.get_export("_start") {
                Some(ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 0 => {}
                _ => reasons.push("no `_start` export: not a WASI command module".into()),
            }
            if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
                reasons.push("no exported `memory`".into());
            }
            if reasons.is_empty() {
                // Preview-1 functions the sandbox does not offer (files, sockets…) link to traps
                // so std-built modules still load; calling one ends the call with `Trap`.
                let mut l = self.linker.clone();
                if let Err(e) = l.define_unknown_imports_as_traps(module) {
                    reasons.push(format!("linking: {e}"));
                }
                linker = Some(l);
            }
        }
        if !reasons.is_empty() {
            return Err(PluginError::Invalid(reasons));
        }
        let (Some(module), Some(manifest), Some(linker)) = (module, manifest, linker) else {
            return Err(PluginError::Invalid(vec![
                "module could not be prepared".into(),
            ]));
        };
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|e| PluginError::Invalid(vec![format!("linking: {e}")]))?;
        Ok(CompiledPlugin {
            sha256,
            manifest,
            size_bytes: bytes.len(),
            pre,
        })
    }

    fn load_module(&self, sha256: &str, bytes: &[u8]) -> Result<Module, String> {
        match &self.cache {
            Some(cache) => cache.load_or_compile(&self.engine, sha256, bytes),
            None => Module::new(&self.engine, bytes).map_err(|e| format!("{e:#}")),
        }
    }

    /// Runs `plugin` on `input` (raw bytes on stdin) under the host's limits, fixed entropy.
    pub fn run(&self, plugin: &CompiledPlugin, input: &[u8]) -> Result<RawRun, PluginError> {
        self.run_with(plugin, input, Entropy::FIXED)
    }

    pub(crate) fn run_with(
        &self,
        plugin: &CompiledPlugin,
        input: &[u8],
        entropy: Entropy,
    ) -> Result<RawRun, PluginError> {
        let limits = &self.limits;
        if input.len() > limits.input_bytes {
            return Err(PluginError::Invalid(vec![format!(
                "input is {} bytes; the limit is {}",
                input.len(),
                limits.input_bytes
            )]));
        }
        let state = CallState::new(
            input.to_vec(),
            limits.output_bytes,
            limits.memory_bytes,
            entropy,
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| s);
        store
            .set_fuel(limits.fuel)
            .map_err(|e| PluginError::Trap(e.to_string()))?;
        // The first deadline is the CPU budget on the clock; when it passes, the callback charges
        // only what the thread really ran and extends the deadline by what is left, until the
        // budget is spent or the hard wall-time cap is reached (limits.rs says why).
        let tick = self.epoch_tick;
        let ticks = move |d: Duration| (d.as_micros() / tick.as_micros().max(1)) as u64 + 1;
        let (budget, cap) = (limits.cpu_time, limits.wall_time);
        let started = Instant::now();
        let cpu_start = thread_cpu_time();
        store.set_epoch_deadline(ticks(budget.min(cap)));
        store.epoch_deadline_callback(move |_| {
            let spent = thread_cpu_time()
                .zip(cpu_start)
                .map(|(now, then)| now.saturating_sub(then));
            let left_on_clock = cap.saturating_sub(started.elapsed());
            Ok(match spent {
                Some(spent) if spent < budget && !left_on_clock.is_zero() => {
                    UpdateDeadline::Continue(ticks((budget - spent).min(left_on_clock)))
                }
                _ => UpdateDeadline::Interrupt,
            })
        });

        let outcome = plugin.pre.instantiate(&mut store).and_then(|instance| {
            let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
            start.call(&mut store, ())
        });
        let wall_time = started.elapsed();
        let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let state = store.into_data();
        let stats = CallStats {
            fuel_used,
            wall_time,
            peak_memory_bytes: state.peak_memory,
        };

        let exit = match outcome {
            Ok(()) => 0,
            Err(e) => match e.downcast_ref::<Exit>() {
                Some(Exit(code)) => *code,
                None => return Err(classify(&e, &state)),
            },
        };
        if exit != 0 {
            return Err(rejection(exit, &state.stderr));
        }
        Ok(RawRun {
            stdout: state.stdout,
            stats,
        })
    }
}

/// CPU time the calling thread has run, from Linux's `/proc/thread-self/schedstat` (its first
/// field, in nanoseconds). Read only when a call reaches an epoch deadline, never per call.
/// `None` where the platform does not say; the time limit is then a deadline on the clock.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_ascii_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn classify(e: &wasmtime::Error, state: &CallState) -> PluginError {
    if let Some(OutputOverflow(cap)) = e.downcast_ref::<OutputOverflow>() {
        return PluginError::BadOutput(format!("output exceeds the {cap}-byte limit"));
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => return PluginError::OutOfFuel,
        Some(Trap::Interrupt) => return PluginError::Timeout,
        _ => {}
    }
    if state.memory_refused {
        return PluginError::MemoryLimit;
    }
    let text = format!("{e:#}");
    if text.contains("pooling allocator") || text.contains("concurrent") {
        return PluginError::Trap(format!("instance pool exhausted: {text}"));
    }
    PluginError::Trap(text.lines().next().unwrap_or("trap").to_string())
}

fn rejection(exit: i32, stderr: &[u8]) -> PluginError {
    #[derive(serde::Deserialize)]
    struct SdkError {
        code: String,
        message: String,
    }
    match serde_json::from_slice::<SdkError>(stderr) {
        Ok(e) => PluginError::Rejected {
            code: e.code,
            message: e.message,
        },
        Err(_) => PluginError::Rejected {
            code: format!("exit_{exit}"),
            message: String::from_utf8_lossy(stderr).chars().take(500).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_is_charged_for_the_time_it_runs_not_the_time_it_waits() {
        let Some(before) = thread_cpu_time() else {
            panic!("this platform should report a thread's CPU time (/proc/thread-self/schedstat)");
        };
        // The sleep is what is measured here (time off the CPU), not a wait for something.
        std::thread::sleep(Duration::from_millis(200));
        let slept = thread_cpu_time().unwrap() - before;
        assert!(
            slept < Duration::from_millis(100),
            "sleeping cost {slept:?} of CPU"
        );

        let spin_from = thread_cpu_time().unwrap();
        let mut x = 0u64;
        while thread_cpu_time().unwrap() - spin_from < Duration::from_millis(20) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(thread_cpu_time().unwrap() - spin_from >= Duration::from_millis(20));
    }
}
