//! The drop folder, `DATA_DIR/plugins/inbox/`: a `.wasm` file placed there is validated like an
//! upload; valid → installed and activated (the host hears of it through a callback, to persist
//! the binary and the activation) and the file moves to `inbox/installed/`; invalid → the file
//! moves to `inbox/rejected/` with `<name>.error.txt` listing every reason, and the active plugin
//! does not change.
//!
//! Partially written files: names starting with `.` or ending in `.tmp`, `.part`, `.partial`,
//! `.crdownload`, `.swp` or `~` are ignored (write-then-rename is the safe way to drop a file),
//! and any other file is only taken once its size and mtime have not changed for `settle`.
//! `notify` events make pick-up prompt; a periodic rescan catches anything an event missed.

use crate::install::InstallReport;
use crate::registry::{Activation, InstalledPlugin, PendingInstall, Registry};
use chrono::Utc;
use notify::{RecursiveMode, Watcher};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, Clone)]
pub struct InboxConfig {
    pub dir: PathBuf,
    /// How long a file's size and mtime must stay unchanged before it is read.
    pub settle: Duration,
    /// Recorded as the activation's actor.
    pub actor: String,
}

impl InboxConfig {
    /// `DATA_DIR/plugins/inbox`, 500 ms settle, actor `"inbox"`.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("plugins").join("inbox"),
            settle: Duration::from_millis(500),
            actor: "inbox".into(),
        }
    }
}

/// How a validated drop becomes the running plugin. The host's store-first version stores the
/// binary, its row and the activation record before it commits and applies them; [`apply_now`]
/// is the version with nothing to store (tests, tools). `Err` is a reason the file is rejected
/// with, and nothing of it runs.
pub type Commit = dyn Fn(&Registry, PendingInstall, &[u8], &str) -> Result<(Arc<InstalledPlugin>, Activation), String>
    + Send
    + Sync;

/// Commits and activates at once: for a registry nothing is stored for.
pub fn apply_now(
    registry: &Registry,
    pending: PendingInstall,
    _bytes: &[u8],
    actor: &str,
) -> Result<(Arc<InstalledPlugin>, Activation), String> {
    let plugin = registry.commit_install(pending);
    let activation = registry
        .activate(&plugin.sha256, actor, Utc::now())
        .map_err(|e| e.to_string())?;
    Ok((plugin, activation))
}

#[derive(Debug)]
pub enum InboxEvent {
    Installed {
        file: PathBuf,
        moved_to: PathBuf,
        plugin: Arc<InstalledPlugin>,
        activation: Activation,
        /// The binary, for the host to store by SHA-256.
        bytes: Vec<u8>,
        report: Box<InstallReport>,
    },
    Rejected {
        file: PathBuf,
        moved_to: PathBuf,
        reasons: Vec<String>,
    },
}

/// Whether a directory entry is a plugin to pick up (not a temp name, not a folder).
pub fn is_candidate(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let temp = name.starts_with('.')
        || name.ends_with('~')
        || [
            ".tmp",
            ".part",
            ".partial",
            ".crdownload",
            ".swp",
            ".error.txt",
        ]
        .iter()
        .any(|s| name.ends_with(s));
    !temp && path.is_file()
}

/// Validates one settled file and moves it aside; the returned event says what happened.
pub fn process_file(
    registry: &Registry,
    config: &InboxConfig,
    commit: &Commit,
    path: &Path,
) -> std::io::Result<InboxEvent> {
    let bytes = std::fs::read(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    let (reasons, installed) = match registry.prepare_install(&bytes, Utc::now()) {
        Ok((pending, report)) => match commit(registry, pending, &bytes, &config.actor) {
            Ok((plugin, activation)) => (Vec::new(), Some((plugin, activation, report))),
            Err(e) => (vec![e], None),
        },
        Err(report) => (report.reasons.clone(), None),
    };
    let sub = if installed.is_some() {
        "installed"
    } else {
        "rejected"
    };
    let dest_dir = config.dir.join(sub);
    std::fs::create_dir_all(&dest_dir)?;
    let moved_to = dest_dir.join(&name);
    std::fs::rename(path, &moved_to)?;
    match installed {
        Some((plugin, activation, report)) => {
            tracing::info!(file = %path.display(), sha256 = %plugin.sha256, "plugin installed from the inbox and activated");
            Ok(InboxEvent::Installed {
                file: path.to_path_buf(),
                moved_to,
                plugin,
                activation,
                bytes,
                report: Box::new(report),
            })
        }
        None => {
            let mut text = format!("{} was rejected:\n", name.to_string_lossy());
            for r in &reasons {
                text.push_str(&format!("- {r}\n"));
            }
            let mut error_name = name.clone();
            error_name.push(".error.txt");
            std::fs::write(dest_dir.join(error_name), text)?;
            tracing::warn!(file = %path.display(), reasons = reasons.len(), "plugin in the inbox rejected");
            Ok(InboxEvent::Rejected {
                file: path.to_path_buf(),
                moved_to,
                reasons,
            })
        }
    }
}

/// Watches the inbox until dropped.
pub struct InboxWatcher {
    _watcher: notify::RecommendedWatcher,
    stop: Arc<AtomicBool>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for InboxWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InboxWatcher")
    }
}

impl Drop for InboxWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

struct Pending {
    len: u64,
    mtime: Option<SystemTime>,
    since: Instant,
}

impl InboxWatcher {
    /// Creates the inbox if needed, takes files already there, then watches for new ones.
    /// `commit` makes a valid drop the running plugin ([`Commit`]); `on_event` then reports it.
    /// Both run on the watcher's worker thread.
    pub fn start(
        registry: Arc<Registry>,
        config: InboxConfig,
        commit: Box<Commit>,
        on_event: impl Fn(InboxEvent) + Send + 'static,
    ) -> Result<Self, notify::Error> {
        std::fs::create_dir_all(&config.dir).map_err(notify::Error::io)?;
        let (tx, rx) = mpsc::channel::<PathBuf>();
        let mut watcher =
            notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                if let Ok(event) = res {
                    for p in event.paths {
                        let _ = tx.send(p);
                    }
                }
            })?;
        watcher.watch(&config.dir, RecursiveMode::NonRecursive)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_worker = stop.clone();
        let worker = std::thread::Builder::new()
            .name("wrk-plugin-inbox".into())
            .spawn(move || worker_loop(&registry, &config, &*commit, &rx, &stop_worker, &on_event))
            .map_err(notify::Error::io)?;
        Ok(Self {
            _watcher: watcher,
            stop,
            worker: Some(worker),
        })
    }
}

fn worker_loop(
    registry: &Registry,
    config: &InboxConfig,
    commit: &Commit,
    rx: &mpsc::Receiver<PathBuf>,
    stop: &AtomicBool,
    on_event: &dyn Fn(InboxEvent),
) {
    let tick = (config.settle / 4).clamp(Duration::from_millis(5), Duration::from_millis(250));
    let rescan_every = Duration::from_secs(2);
    let mut pending: HashMap<PathBuf, Pending> = HashMap::new();
    let mut last_scan: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        let mut seen = Vec::new();
        if let Ok(p) = rx.recv_timeout(tick) {
            seen.push(p);
            seen.extend(rx.try_iter());
        }
        if last_scan.is_none_or(|t| t.elapsed() >= rescan_every) {
            last_scan = Some(Instant::now());
            if let Ok(entries) = std::fs::read_dir(&config.dir) {
                seen.extend(entries.flatten().map(|e| e.path()));
            }
        }
        for p in seen {
            if p.parent() == Some(config.dir.as_path())
                && is_candidate(&p)
                && !pending.contains_key(&p)
            {
                pending.insert(
                    p,
                    Pending {
                        len: u64::MAX,
                        mtime: None,
                        since: Instant::now(),
                    },
                );
            }
        }
        let mut ready = Vec::new();
        pending.retain(|path, state| {
            let Ok(meta) = std::fs::metadata(path) else {
                return false;
            };
            let (len, mtime) = (meta.len(), meta.modified().ok());
            if len != state.len || mtime != state.mtime {
                *state = Pending {
                    len,
                    mtime,
                    since: Instant::now(),
                };
                true
            } else if state.since.elapsed() >= config.settle {
                ready.push(path.clone());
                false
            } else {
                true
            }
        });
        for path in ready {
            match process_file(registry, config, commit, &path) {
                Ok(event) => on_event(event),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "could not process an inbox file")
                }
            }
        }
    }
}
