//! The `wrk` command line. `wrk` alone is `wrk serve`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use wrk_tenants::{Storage, StorageConfig};

use crate::app;
use crate::config::{Config, Settings};
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::{server, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "wrk",
    version,
    about = "WRK Copilot: request, price, build, deploy and monitor automations",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Configuration file [default: ./wrk.toml when present]
    #[arg(long, global = true, env = "WRK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default)
    Serve(Settings),
    /// Inspect the effective configuration
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Workspace (tenant) databases
    Tenants {
        #[command(subcommand)]
        action: TenantsAction,
    },
    /// Ops (WRK staff) accounts
    Ops {
        #[command(subcommand)]
        action: OpsAction,
    },
    /// Signing keys
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Write a consistent copy of every database, the signing keys, installed plugins and
    /// uploaded documents into DIR, while the server runs
    Backup {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        settings: Settings,
    },
    /// Copy a backup into an empty data directory (with the server stopped)
    Restore {
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        #[command(flatten)]
        settings: Settings,
    },
    /// The secrets manager's keys
    Secrets {
        #[command(subcommand)]
        action: SecretsAction,
    },
    /// Plugins: check, try and install WASI plugins
    Plugin {
        #[command(subcommand)]
        action: PluginAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginAction {
    /// Run the install validation on FILE (exit status 1 when it fails)
    Check {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Run FILE once on the JSON input IN.json; prints the checked output, fuel, time and memory
    Run {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[arg(long, value_name = "IN.json")]
        input: PathBuf,
    },
    /// Install FILE into the data directory's registry, with the server stopped (the server
    /// reads the registry at start). While the server runs, drop the file into
    /// DATA_DIR/plugins/inbox/ instead: it is validated, installed and activated live.
    Install {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Also make it the active plugin of its kind
        #[arg(long)]
        activate: bool,
        #[command(flatten)]
        settings: Box<Settings>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the effective configuration as TOML (secrets left out)
    Show(Settings),
}

#[derive(Debug, Subcommand)]
pub enum OpsAction {
    /// Create an ops user; prints a generated password when none is given
    CreateUser {
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// ops or ops_admin
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// At least 12 characters [default: a generated one, printed once]
        #[arg(long, value_name = "PASSWORD")]
        password: Option<String>,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Add a new JWT signing key (DATA_DIR/keys/jwt/<kid>.key): it signs from now on; older keys
    /// still verify the tokens they signed
    RotateJwt(Settings),
}

#[derive(Debug, Subcommand)]
pub enum SecretsAction {
    /// Make a new master key (DATA_DIR/secrets/master.key) and re-wrap every workspace's data
    /// key with it; the secrets themselves are not touched. Safe while the server runs, and to
    /// run again if interrupted
    RotateMaster(Settings),
}

#[derive(Debug, Subcommand)]
pub enum TenantsAction {
    /// List every workspace
    List(Settings),
    /// Apply pending migrations to every workspace database ahead of time
    Migrate(Settings),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn env_vars() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

fn load(settings: &Settings, file: Option<&Path>) -> anyhow::Result<Config> {
    Config::load(settings, file, &env_vars())
}

fn open_storage(config: &Config) -> anyhow::Result<Storage> {
    let mut sc = StorageConfig::new(&config.data_dir);
    sc.max_open_tenants = std::num::NonZeroUsize::new(config.max_open_tenants)
        .context("max_open_tenants must be at least 1")?;
    Storage::open(sc).with_context(|| {
        format!(
            "cannot open the data directory {}",
            config.data_dir.display()
        )
    })
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let file = cli.config.as_deref();
    match cli.command {
        None => serve(load(&cli.serve, file)?),
        Some(Command::Serve(s)) => serve(load(&s, file)?),
        Some(Command::Config {
            action: ConfigAction::Show(s),
        }) => {
            let config = load(&s, file)?;
            print!("{}", toml::to_string_pretty(&config)?);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Tenants { action }) => match action {
            TenantsAction::List(s) => {
                let storage = open_storage(&load(&s, file)?)?;
                for t in storage.control().list_tenants()? {
                    println!(
                        "{}\t{}\t{}\t{}",
                        t.id,
                        t.subdomain,
                        t.created_at.to_rfc3339(),
                        t.name
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            TenantsAction::Migrate(s) => {
                let storage = open_storage(&load(&s, file)?)?;
                let mut failed = 0;
                for report in storage.migrate_all()? {
                    match report.outcome {
                        Ok(n) => println!(
                            "{}\t{}\tok ({n} applied)",
                            report.tenant.id, report.tenant.subdomain
                        ),
                        Err(e) => {
                            failed += 1;
                            println!(
                                "{}\t{}\tFAILED: {e}",
                                report.tenant.id, report.tenant.subdomain
                            );
                        }
                    }
                }
                Ok(if failed == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            }
        },
        Some(Command::Ops {
            action:
                OpsAction::CreateUser {
                    email,
                    role,
                    password,
                    settings,
                },
        }) => {
            let role = wrk_core::roles::OpsRole::parse(&role)
                .map_err(|e| anyhow::anyhow!("{e}: use ops or ops_admin"))?;
            let storage = open_storage(&load(&settings, file)?)?;
            let (user, generated) =
                crate::services::identity::create_ops_user(&storage, &email, role, password)?;
            println!(
                "created ops user {} ({}) with role {}",
                user.email, user.id, user.role
            );
            if let Some(password) = generated {
                println!("password: {password}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Keys {
            action: KeysAction::RotateJwt(settings),
        }) => {
            let config = load(&settings, file)?;
            let kid = crate::auth::keys::create_key(&config.data_dir)?;
            println!("new JWT signing key {kid}; running servers pick it up within a minute");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Backup { out, settings }) => {
            let config = load(&settings, file)?;
            let storage = open_storage(&config)?;
            let copied = crate::services::backup::backup(&storage, &config.data_dir, &out)?;
            println!(
                "backed up {} database files and {} other files (keys, plugins, documents) to {}",
                copied.databases,
                copied.files,
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Plugin { action }) => plugin_command(action, file),
        Some(Command::Secrets {
            action: SecretsAction::RotateMaster(settings),
        }) => {
            let config = load(&settings, file)?;
            let rotated = crate::secrets::rotate_master(&config.data_dir)?;
            println!(
                "new secrets master key in place; workspace data keys re-wrapped: {}; secrets rewritten: 0",
                rotated.data_keys
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Restore { from, settings }) => {
            let config = load(&settings, file)?;
            let copied = crate::services::backup::restore(&from, &config.data_dir)?;
            println!(
                "restored {} database files and {} other files into {}",
                copied.databases,
                copied.files,
                config.data_dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn serve(config: Config) -> anyhow::Result<ExitCode> {
    telemetry::init(&config.log, config.log_format)?;
    for name in Config::unknown_env(&env_vars()) {
        tracing::warn!(variable = %name, "unknown WRK_ environment variable (a typo?); ignored");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("wrk-worker")
        .build()?;
    runtime.block_on(serve_async(config))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve_async(mut config: Config) -> anyhow::Result<()> {
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(server::tls_acceptor(cert, key)?),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr()?;
    config.resolve_base_port(local.port());
    let storage = {
        let config = config.clone();
        crate::blocking::run(move || open_storage(&config)).await?
    };
    let auth = crate::auth::AuthState::load(&config)?;
    let config = Arc::new(config);
    let storage = Arc::new(storage);
    let payments = crate::services::payments::from_config(&config)
        .context("cannot set up the payment provider")?;
    let jobs = crate::jobs::Jobs::start(config.clone(), storage.clone(), app::job_registry())?;
    {
        let storage = storage.clone();
        crate::blocking::run(move || {
            crate::services::quotes::schedule_expiry(&storage)?;
            crate::services::billing::periods::schedule(&storage)?;
            // Events stored just before a crash, whose fold was never scheduled.
            crate::services::usage::schedule_sweep(&storage)?;
            Ok::<_, anyhow::Error>(())
        })
        .await?;
    }
    let secrets: Arc<dyn crate::secrets::SecretStore> = Arc::new(
        crate::secrets::FileSecretStore::open(&config.data_dir)
            .context("cannot open the secrets store")?,
    );
    let oidc = Arc::new(crate::oidc::Oidc::new(&config)?);
    let metrics = Arc::new(Metrics::new());
    let plugins = {
        let config = config.clone();
        let storage = storage.clone();
        let metrics = metrics.clone();
        crate::blocking::run(move || {
            crate::services::plugins::Plugins::start(&config, storage, metrics)
        })
        .await?
    };
    // Committed live events reach the event streams through the process's bus.
    crate::events::install();
    let state = AppState {
        config,
        storage,
        plugins: Arc::new(plugins),
        auth: Arc::new(auth),
        jobs: Arc::new(jobs),
        oidc,
        metrics,
        ready: Arc::new(AtomicBool::new(false)),
        docs: Arc::new(app::docs()),
        payments,
        secrets,
    };
    state.jobs.set_plugins(state.plugins.clone());
    let config = state.config.clone();
    write_listen_addr(&config.data_dir, local)?;
    tracing::info!(
        address = %local,
        url = %format!("{}://{}", config.scheme(), config.base_domain),
        data_dir = %config.data_dir.display(),
        tls = config.tls_enabled(),
        "listening"
    );

    // Close tenant databases nobody used for ten minutes; the LRU bound handles bursts.
    let sweeper = {
        let storage = state.storage.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let storage = storage.clone();
                let closed = crate::blocking::run(move || {
                    Ok::<_, tokio::task::JoinError>(storage.close_idle(Duration::from_secs(600)))
                })
                .await
                .unwrap_or(0);
                if closed > 0 {
                    tracing::debug!(closed, "closed idle tenant databases");
                }
            }
        })
    };

    let app = app::build(state.clone());
    state.plugins.watch_inbox(&config.data_dir)?;
    state.ready.store(true, Ordering::Release);
    server::serve(
        listener,
        app,
        tls,
        server::shutdown_signal(),
        Duration::from_secs(config.shutdown_timeout),
        server::Limits::from_config(&config),
    )
    .await;
    sweeper.abort();
    state.plugins.stop_inbox();
    // Let in-flight jobs finish (a few seconds); the rest are retried after their lease.
    state.jobs.shutdown(Duration::from_secs(5)).await;
    tracing::info!("stopped");
    Ok(())
}

/// Writes the bound address to `DATA_DIR/listen.addr` (via a rename, so a reader never sees a
/// half-written file) for scripts and tests that asked for port 0.
fn write_listen_addr(data_dir: &Path, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    let tmp = data_dir.join("listen.addr.tmp");
    std::fs::write(&tmp, format!("{addr}\n"))?;
    std::fs::rename(&tmp, data_dir.join("listen.addr"))?;
    Ok(())
}

/// `wrk plugin check|run|install`: glue over `wrk_plugins::cli` and [`crate::services::plugins`].
fn plugin_command(action: PluginAction, file: Option<&Path>) -> anyhow::Result<ExitCode> {
    use wrk_plugins::cli::{CliError, check_file, run_file};
    match action {
        PluginAction::Check { file: wasm } => {
            match check_file(&wasm, wrk_plugins::HostConfig::default()) {
                Ok(report) => {
                    print!("{}", report.render());
                    Ok(ExitCode::SUCCESS)
                }
                Err(CliError::Invalid(report)) => {
                    print!("{}", report.render());
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => Err(e.into()),
            }
        }
        PluginAction::Run { file: wasm, input } => {
            let report = run_file(&wasm, &input, wrk_plugins::HostConfig::default())?;
            println!("{}", serde_json::to_string_pretty(&report.output)?);
            eprintln!(
                "plugin {} {} ({})",
                report.manifest.name, report.manifest.version, report.manifest.kind
            );
            eprintln!("fuel used: {}", report.stats.fuel_used);
            eprintln!("time: {} µs", report.stats.wall_time.as_micros());
            eprintln!("peak memory: {} KiB", report.stats.peak_memory_bytes / 1024);
            Ok(ExitCode::SUCCESS)
        }
        PluginAction::Install {
            file: wasm,
            activate,
            settings,
        } => {
            let config = load(&settings, file)?;
            let bytes =
                std::fs::read(&wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
            let storage = open_storage(&config)?;
            let (plugin, record, activation) = crate::services::plugins::install_offline(
                &config.data_dir,
                &storage,
                &bytes,
                activate,
            )?;
            println!(
                "installed {} {} ({}) id {} sha256 {}",
                plugin.manifest.name,
                plugin.manifest.version,
                plugin.manifest.kind,
                record.id,
                plugin.sha256
            );
            if activation.is_some() {
                println!("activated: it runs from the next server start");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
