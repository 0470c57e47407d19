//! Configuration: defaults, then `wrk.toml` (working directory, or `--config FILE`), then `WRK_*`
//! environment variables, then command-line flags — each layer overriding the one before.
//!
//! Flags and environment variables are read by clap (every flag has its `WRK_*` twin, shown by
//! `wrk serve --help` with its default); the file is read here and fills what neither gave.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use clap::builder::BoolishValueParser;
use serde::{Deserialize, Serialize};
pub use wrk_core::host::host_only;

/// Every setting as a flag (with its `WRK_*` environment twin). All optional here: a value that
/// is absent falls back to the config file, then to the default shown in the help.
#[derive(Debug, Clone, Default, Args)]
pub struct Settings {
    /// Listen address; `:0` picks a free port (written to DATA_DIR/listen.addr) [default: 127.0.0.1:8080]
    #[arg(long, env = "WRK_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// The apex host as browsers see it, port included when not 80/443; a port of 0 means the bound port [default: localhost:8080]
    #[arg(long, env = "WRK_BASE_DOMAIN", value_name = "HOST")]
    pub base_domain: Option<String>,
    /// Everything persistent lives here [default: ./data]
    #[arg(long, env = "WRK_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Local signups must verify their email [default: true]
    #[arg(long, env = "WRK_EMAIL_VERIFICATION", value_name = "BOOL", value_parser = BoolishValueParser::new())]
    pub email_verification: Option<bool>,
    /// SMTP server for outgoing mail, e.g. smtp://127.0.0.1:2525 or smtps://… [default: unset: outbox only, links logged]
    #[arg(long, env = "WRK_SMTP_URL", value_name = "URL")]
    pub smtp_url: Option<String>,
    /// Sender of outgoing mail [default: WRK Copilot <no-reply@BASE_DOMAIN>]
    #[arg(long, env = "WRK_EMAIL_FROM", value_name = "MAILBOX")]
    pub email_from: Option<String>,
    /// Payment provider: manual or stripe [default: manual]
    #[arg(long, env = "WRK_PAYMENT_PROVIDER", value_name = "NAME")]
    pub payment_provider: Option<PaymentProvider>,
    /// Stripe secret key (with --payment-provider stripe) [default: unset]
    #[arg(
        long,
        env = "WRK_STRIPE_SECRET_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub stripe_secret_key: Option<String>,
    /// Stripe API base URL [default: https://api.stripe.com]
    #[arg(long, env = "WRK_STRIPE_API_BASE", value_name = "URL")]
    pub stripe_api_base: Option<String>,
    /// Where pause/resume/deploy events are sent [default: unset]
    #[arg(long, env = "WRK_PLATFORM_URL", value_name = "URL")]
    pub platform_url: Option<String>,
    /// Secret that signs events sent to the platform [default: unset]
    #[arg(
        long,
        env = "WRK_PLATFORM_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub platform_secret: Option<String>,
    /// OpenAI-compatible chat-completions URL for document ingestion [default: unset: the ingestion plugin]
    #[arg(long, env = "WRK_INGESTION_URL", value_name = "URL")]
    pub ingestion_url: Option<String>,
    /// API key sent as a bearer token to the ingestion URL [default: unset]
    #[arg(
        long,
        env = "WRK_INGESTION_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub ingestion_api_key: Option<String>,
    /// Model name sent to the ingestion URL [default: gpt-4o-mini]
    #[arg(long, env = "WRK_INGESTION_MODEL", value_name = "NAME")]
    pub ingestion_model: Option<String>,
    /// PEM certificate chain; with --tls-key, serve HTTPS [default: unset: plain HTTP]
    #[arg(long, env = "WRK_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert [default: unset]
    #[arg(long, env = "WRK_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Requests per minute per client IP on /api/auth/* and /api/ops/auth/* [default: 60]
    #[arg(long, env = "WRK_AUTH_RATE_LIMIT", value_name = "N")]
    pub auth_rate_limit: Option<u32>,
    /// Tracing filter, e.g. info or wrk_host=debug [default: info]
    #[arg(long, env = "WRK_LOG", value_name = "FILTER")]
    pub log: Option<String>,
    /// Log format: text or json [default: text]
    #[arg(long, env = "WRK_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Most tenant databases kept open at once (least recently used are closed) [default: 1000]
    #[arg(long, env = "WRK_MAX_OPEN_TENANTS", value_name = "N")]
    pub max_open_tenants: Option<usize>,
    /// Comma-separated proxy IPs whose X-Forwarded-Host/-For are trusted [default: none]
    #[arg(
        long,
        env = "WRK_TRUSTED_PROXIES",
        value_name = "IPS",
        value_delimiter = ','
    )]
    pub trusted_proxies: Option<Vec<IpAddr>>,
    /// Seconds to let in-flight requests finish on SIGTERM/SIGINT [default: 30]
    #[arg(long, env = "WRK_SHUTDOWN_TIMEOUT", value_name = "SECS")]
    pub shutdown_timeout: Option<u64>,
    /// Seconds a background worker holds a job before another may take it over (a crashed worker's job is retried after this) [default: 300]
    #[arg(long, env = "WRK_JOB_LEASE", value_name = "SECS")]
    pub job_lease: Option<u64>,
    /// Seconds a client may take to send a request's headers before the connection is closed [default: 30]
    #[arg(long, env = "WRK_HEADER_TIMEOUT", value_name = "SECS")]
    pub header_timeout: Option<u64>,
    /// Seconds a client may take to send a request's whole body after its headers, plus one per 16 KiB received; a slower body gets 408 and the connection is closed [default: 30]
    #[arg(long, env = "WRK_BODY_TIMEOUT", value_name = "SECS")]
    pub body_timeout: Option<u64>,
    /// Most connections open at once from one client IP; more are closed at once (0 = no cap; trusted proxies are not capped) [default: 256]
    #[arg(long, env = "WRK_MAX_CONNECTIONS_PER_IP", value_name = "N")]
    pub max_connections_per_ip: Option<usize>,
    /// Seconds between two batched email digests of new messages to a person who is offline (at least 1) [default: 900]
    #[arg(long, env = "WRK_DIGEST_INTERVAL", value_name = "SECS")]
    pub digest_interval: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PaymentProvider {
    #[default]
    Manual,
    Stripe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// One OpenID Connect provider, from `WRK_OIDC_<NAME>_ISSUER`, `_CLIENT_ID`, `_CLIENT_SECRET` or
/// a `[oidc.<name>]` table in the file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProvider {
    pub issuer: String,
    pub client_id: String,
    #[serde(default, skip_serializing)]
    pub client_secret: Option<String>,
}

/// The `wrk.toml` file: the same settings as the flags, snake_case, plus `[oidc.<name>]` tables.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    base_domain: Option<String>,
    data_dir: Option<PathBuf>,
    email_verification: Option<bool>,
    smtp_url: Option<String>,
    email_from: Option<String>,
    payment_provider: Option<PaymentProvider>,
    stripe_secret_key: Option<String>,
    stripe_api_base: Option<String>,
    platform_url: Option<String>,
    platform_secret: Option<String>,
    ingestion_url: Option<String>,
    ingestion_api_key: Option<String>,
    ingestion_model: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    auth_rate_limit: Option<u32>,
    log: Option<String>,
    log_format: Option<LogFormat>,
    max_open_tenants: Option<usize>,
    trusted_proxies: Option<Vec<IpAddr>>,
    shutdown_timeout: Option<u64>,
    job_lease: Option<u64>,
    header_timeout: Option<u64>,
    body_timeout: Option<u64>,
    max_connections_per_ip: Option<usize>,
    digest_interval: Option<u64>,
    #[serde(default)]
    oidc: BTreeMap<String, OidcProvider>,
}

/// The effective configuration. Secrets are skipped when it is printed.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub listen: SocketAddr,
    pub base_domain: String,
    pub data_dir: PathBuf,
    pub email_verification: bool,
    pub smtp_url: Option<String>,
    pub email_from: String,
    pub payment_provider: PaymentProvider,
    #[serde(skip_serializing)]
    pub stripe_secret_key: Option<String>,
    pub stripe_api_base: String,
    pub platform_url: Option<String>,
    #[serde(skip_serializing)]
    pub platform_secret: Option<String>,
    pub ingestion_url: Option<String>,
    #[serde(skip_serializing)]
    pub ingestion_api_key: Option<String>,
    pub ingestion_model: String,
    pub oidc: BTreeMap<String, OidcProvider>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub auth_rate_limit: u32,
    pub log: String,
    pub log_format: LogFormat,
    pub max_open_tenants: usize,
    pub trusted_proxies: Vec<IpAddr>,
    pub shutdown_timeout: u64,
    pub job_lease: u64,
    /// Seconds to receive a request's headers (at least 1).
    pub header_timeout: u64,
    /// Seconds to receive a request's body after its headers (at least 1).
    pub body_timeout: u64,
    /// Open connections per client IP; 0 = no cap.
    pub max_connections_per_ip: usize,
    /// Seconds between two message digests emailed to one offline person (at least 1).
    pub digest_interval: u64,
}

/// Environment variables this binary reads, to warn about typos in others.
const KNOWN_ENV: &[&str] = &[
    "WRK_LISTEN",
    "WRK_BASE_DOMAIN",
    "WRK_DATA_DIR",
    "WRK_EMAIL_VERIFICATION",
    "WRK_SMTP_URL",
    "WRK_EMAIL_FROM",
    "WRK_PAYMENT_PROVIDER",
    "WRK_STRIPE_SECRET_KEY",
    "WRK_STRIPE_API_BASE",
    "WRK_PLATFORM_URL",
    "WRK_PLATFORM_SECRET",
    "WRK_INGESTION_URL",
    "WRK_INGESTION_API_KEY",
    "WRK_INGESTION_MODEL",
    "WRK_TLS_CERT",
    "WRK_TLS_KEY",
    "WRK_AUTH_RATE_LIMIT",
    "WRK_LOG",
    "WRK_LOG_FORMAT",
    "WRK_MAX_OPEN_TENANTS",
    "WRK_TRUSTED_PROXIES",
    "WRK_SHUTDOWN_TIMEOUT",
    "WRK_JOB_LEASE",
    "WRK_HEADER_TIMEOUT",
    "WRK_BODY_TIMEOUT",
    "WRK_MAX_CONNECTIONS_PER_IP",
    "WRK_DIGEST_INTERVAL",
    "WRK_CONFIG",
];

impl Config {
    /// Layers defaults ← file ← env/flags (`settings`, already merged by clap) ← OIDC env vars.
    /// `config_file` is the `--config` path; without it `./wrk.toml` is read when present.
    pub fn load(
        settings: &Settings,
        config_file: Option<&Path>,
        env: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let file = match config_file {
            Some(path) => read_file(path)?,
            None if Path::new("wrk.toml").is_file() => read_file(Path::new("wrk.toml"))?,
            None => FileConfig::default(),
        };
        let s = settings.clone();
        let listen_raw = s
            .listen
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = parse_listen(&listen_raw)?;
        let base_domain = s
            .base_domain
            .or(file.base_domain)
            .unwrap_or_else(|| "localhost:8080".into())
            .to_ascii_lowercase();
        if base_domain.is_empty() || base_domain.contains('/') {
            bail!("WRK_BASE_DOMAIN must be a host name with an optional port, got {base_domain:?}");
        }
        let mut oidc = file.oidc;
        for (name, provider) in oidc_from_env(env)? {
            oidc.insert(name, provider);
        }
        let tls_cert = s.tls_cert.or(file.tls_cert);
        let tls_key = s.tls_key.or(file.tls_key);
        if tls_cert.is_some() != tls_key.is_some() {
            bail!("WRK_TLS_CERT and WRK_TLS_KEY must be set together");
        }
        let email_from = s
            .email_from
            .or(file.email_from)
            .unwrap_or_else(|| format!("WRK Copilot <no-reply@{}>", host_only(&base_domain)));
        Ok(Self {
            listen,
            data_dir: s
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("./data")),
            email_verification: s
                .email_verification
                .or(file.email_verification)
                .unwrap_or(true),
            smtp_url: s.smtp_url.or(file.smtp_url),
            email_from,
            payment_provider: s
                .payment_provider
                .or(file.payment_provider)
                .unwrap_or_default(),
            stripe_secret_key: s.stripe_secret_key.or(file.stripe_secret_key),
            stripe_api_base: s
                .stripe_api_base
                .or(file.stripe_api_base)
                .unwrap_or_else(|| "https://api.stripe.com".into()),
            platform_url: s.platform_url.or(file.platform_url),
            platform_secret: s.platform_secret.or(file.platform_secret),
            ingestion_url: s.ingestion_url.or(file.ingestion_url),
            ingestion_api_key: s.ingestion_api_key.or(file.ingestion_api_key),
            ingestion_model: s
                .ingestion_model
                .or(file.ingestion_model)
                .unwrap_or_else(|| "gpt-4o-mini".into()),
            oidc,
            tls_cert,
            tls_key,
            auth_rate_limit: s.auth_rate_limit.or(file.auth_rate_limit).unwrap_or(60),
            log: s.log.or(file.log).unwrap_or_else(|| "info".into()),
            log_format: s.log_format.or(file.log_format).unwrap_or_default(),
            max_open_tenants: s
                .max_open_tenants
                .or(file.max_open_tenants)
                .unwrap_or(1000)
                .max(1),
            trusted_proxies: s
                .trusted_proxies
                .or(file.trusted_proxies)
                .unwrap_or_default(),
            shutdown_timeout: s.shutdown_timeout.or(file.shutdown_timeout).unwrap_or(30),
            job_lease: s.job_lease.or(file.job_lease).unwrap_or(300).max(1),
            header_timeout: s
                .header_timeout
                .or(file.header_timeout)
                .unwrap_or(30)
                .max(1),
            body_timeout: s.body_timeout.or(file.body_timeout).unwrap_or(30).max(1),
            max_connections_per_ip: s
                .max_connections_per_ip
                .or(file.max_connections_per_ip)
                .unwrap_or(256),
            digest_interval: s
                .digest_interval
                .or(file.digest_interval)
                .unwrap_or(900)
                .max(1),
            base_domain,
        })
    }

    /// A base domain ending in `:0` stands for "the port actually bound" (handy with
    /// `WRK_LISTEN=127.0.0.1:0`): links the server builds then carry the real port.
    pub fn resolve_base_port(&mut self, bound_port: u16) {
        if let Some(host) = self.base_domain.strip_suffix(":0") {
            self.base_domain = format!("{host}:{bound_port}");
        }
    }

    /// The base domain without its port: what host matching compares against.
    pub fn base_host(&self) -> &str {
        host_only(&self.base_domain)
    }

    pub fn tls_enabled(&self) -> bool {
        self.tls_cert.is_some()
    }

    /// `http` or `https`, for links the server builds.
    pub fn scheme(&self) -> &'static str {
        if self.tls_enabled() { "https" } else { "http" }
    }

    /// `WRK_*` variables in `env` that this binary does not know: likely typos.
    pub fn unknown_env(env: &[(String, String)]) -> Vec<String> {
        env.iter()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with("WRK_"))
            .filter(|k| !KNOWN_ENV.contains(&k.as_str()) && !is_oidc_var(k))
            .cloned()
            .collect()
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
}

fn parse_listen(raw: &str) -> anyhow::Result<SocketAddr> {
    // `:0` and `:8080` mean "every interface? no — loopback": binding to all interfaces must be
    // asked for explicitly (0.0.0.0:PORT), never by omission.
    let full = if raw.starts_with(':') {
        format!("127.0.0.1{raw}")
    } else {
        raw.to_owned()
    };
    full.parse()
        .with_context(|| format!("WRK_LISTEN must be an address like 127.0.0.1:8080, got {raw:?}"))
}

fn is_oidc_var(key: &str) -> bool {
    key.strip_prefix("WRK_OIDC_").is_some_and(|rest| {
        ["_ISSUER", "_CLIENT_ID", "_CLIENT_SECRET"]
            .iter()
            .any(|suffix| rest.len() > suffix.len() && rest.ends_with(suffix))
    })
}

/// Collects `WRK_OIDC_<NAME>_{ISSUER,CLIENT_ID,CLIENT_SECRET}` into providers named `<name>`
/// (lowercased). A provider missing its issuer or client id is a configuration error.
fn oidc_from_env(env: &[(String, String)]) -> anyhow::Result<BTreeMap<String, OidcProvider>> {
    /// issuer, client id, client secret as they are found.
    type Partial = (Option<String>, Option<String>, Option<String>);
    let mut partial: BTreeMap<String, Partial> = BTreeMap::new();
    for (key, value) in env {
        let Some(rest) = key.strip_prefix("WRK_OIDC_") else {
            continue;
        };
        let (name, field) = if let Some(n) = rest.strip_suffix("_CLIENT_SECRET") {
            (n, 2)
        } else if let Some(n) = rest.strip_suffix("_CLIENT_ID") {
            (n, 1)
        } else if let Some(n) = rest.strip_suffix("_ISSUER") {
            (n, 0)
        } else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        let entry = partial.entry(name.to_ascii_lowercase()).or_default();
        let slot = match field {
            0 => &mut entry.0,
            1 => &mut entry.1,
            _ => &mut entry.2,
        };
        *slot = Some(value.clone());
    }
    partial
        .into_iter()
        .map(|(name, (issuer, client_id, client_secret))| {
            let upper = name.to_ascii_uppercase();
            let issuer = issuer.with_context(|| format!("WRK_OIDC_{upper}_ISSUER is missing"))?;
            let client_id =
                client_id.with_context(|| format!("WRK_OIDC_{upper}_CLIENT_ID is missing"))?;
            Ok((
                name,
                OidcProvider {
                    issuer,
                    client_id,
                    client_secret,
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_match_the_documented_table() {
        let c = Config::load(&Settings::default(), None, &[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.base_domain, "localhost:8080");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert!(c.email_verification);
        assert_eq!(c.email_from, "WRK Copilot <no-reply@localhost>");
        assert_eq!(c.payment_provider, PaymentProvider::Manual);
        assert_eq!(c.auth_rate_limit, 60);
        assert_eq!(c.log, "info");
        assert_eq!(c.max_open_tenants, 1000);
        assert_eq!(c.header_timeout, 30);
        assert_eq!(c.body_timeout, 30);
        assert_eq!(c.max_connections_per_ip, 256);
    }

    #[test]
    fn a_file_value_is_overridden_by_a_setting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wrk.toml");
        std::fs::write(
            &path,
            "base_domain = \"file.test\"\nauth_rate_limit = 5\n[oidc.corp]\nissuer = \"https://idp\"\nclient_id = \"x\"\n",
        )
        .unwrap();
        let settings = Settings {
            base_domain: Some("flag.test".into()),
            ..Settings::default()
        };
        let c = Config::load(&settings, Some(&path), &[]).unwrap();
        assert_eq!(c.base_domain, "flag.test");
        assert_eq!(c.auth_rate_limit, 5);
        assert_eq!(c.oidc["corp"].issuer, "https://idp");
    }

    #[test]
    fn unknown_keys_in_the_file_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wrk.toml");
        std::fs::write(&path, "base_domian = \"typo\"\n").unwrap();
        let err = Config::load(&Settings::default(), Some(&path), &[]).unwrap_err();
        assert!(format!("{err:#}").contains("base_domian"), "{err:#}");
    }

    #[test]
    fn oidc_providers_come_from_env_and_must_be_complete() {
        let e = env(&[
            ("WRK_OIDC_CORP_ISSUER", "http://127.0.0.1:9000"),
            ("WRK_OIDC_CORP_CLIENT_ID", "wrk"),
            ("WRK_OIDC_CORP_CLIENT_SECRET", "s3cret"),
        ]);
        let c = Config::load(&Settings::default(), None, &e).unwrap();
        assert_eq!(c.oidc["corp"].client_secret.as_deref(), Some("s3cret"));
        let broken = env(&[("WRK_OIDC_X_ISSUER", "http://idp")]);
        assert!(Config::load(&Settings::default(), None, &broken).is_err());
    }

    #[test]
    fn typos_in_env_names_are_reported() {
        let e = env(&[
            ("WRK_LISTEN", "x"),
            ("WRK_LSTEN", "x"),
            ("WRK_OIDC_A_ISSUER", "x"),
        ]);
        assert_eq!(Config::unknown_env(&e), vec!["WRK_LSTEN".to_owned()]);
    }

    #[test]
    fn a_bare_port_listens_on_loopback() {
        assert_eq!(parse_listen(":0").unwrap().to_string(), "127.0.0.1:0");
        assert!(parse_listen("nonsense").is_err());
    }

    #[test]
    fn host_only_strips_ports() {
        assert_eq!(host_only("acme.localhost:8080"), "acme.localhost");
        assert_eq!(host_only("example.com"), "example.com");
        assert_eq!(host_only("[::1]:80"), "[::1]");
    }
}
