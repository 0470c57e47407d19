//! The command line: help text, configuration precedence, tenants and backups. (Also makes
//! `cargo test` build the `wrk` binary that the black-box suite in `tests/` spawns.)

use std::process::Command;

fn wrk() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wrk"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn serve_help_lists_every_setting_with_its_env_var_and_default() {
    // Help is wrapped to the terminal width; compare with whitespace runs collapsed.
    let help = stdout(wrk().args(["serve", "--help"]))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for (var, default) in [
        ("WRK_LISTEN", "127.0.0.1:8080"),
        ("WRK_BASE_DOMAIN", "localhost:8080"),
        ("WRK_DATA_DIR", "./data"),
        ("WRK_EMAIL_VERIFICATION", "true"),
        ("WRK_SMTP_URL", "unset"),
        ("WRK_EMAIL_FROM", "WRK Copilot <no-reply@"),
        ("WRK_PAYMENT_PROVIDER", "manual"),
        ("WRK_STRIPE_SECRET_KEY", "unset"),
        ("WRK_STRIPE_API_BASE", "https://api.stripe.com"),
        ("WRK_PLATFORM_URL", "unset"),
        ("WRK_PLATFORM_SECRET", "unset"),
        ("WRK_TLS_CERT", "unset"),
        ("WRK_TLS_KEY", "unset"),
        ("WRK_AUTH_RATE_LIMIT", "60"),
        ("WRK_LOG", "info"),
        ("WRK_LOG_FORMAT", "text"),
    ] {
        assert!(
            help.contains(&format!("env: {var}")),
            "{var} missing:\n{help}"
        );
        assert!(
            help.contains(default),
            "default {default} of {var} missing:\n{help}"
        );
    }
}

#[test]
fn flags_beat_env_which_beats_the_file_which_beats_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("wrk.toml"),
        "base_domain = \"file.test\"\nauth_rate_limit = 7\nlog = \"debug\"\nemail_verification = false\n",
    )
    .unwrap();
    let show = |extra_env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = wrk();
        cmd.current_dir(dir.path())
            .args(["config", "show"])
            .args(args);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        stdout(&mut cmd)
    };
    let file_only = show(&[], &[]);
    assert!(
        file_only.contains("base_domain = \"file.test\""),
        "{file_only}"
    );
    assert!(file_only.contains("auth_rate_limit = 7"));
    assert!(file_only.contains("email_verification = false"));
    assert!(
        file_only.contains("listen = \"127.0.0.1:8080\""),
        "default kept"
    );

    let env = show(&[("WRK_BASE_DOMAIN", "env.test")], &[]);
    assert!(env.contains("base_domain = \"env.test\""), "{env}");
    assert!(env.contains("auth_rate_limit = 7"), "file still applies");

    let flag = show(
        &[("WRK_BASE_DOMAIN", "env.test")],
        &["--base-domain", "flag.test", "--auth-rate-limit", "9"],
    );
    assert!(flag.contains("base_domain = \"flag.test\""), "{flag}");
    assert!(flag.contains("auth_rate_limit = 9"));
}

#[test]
fn secrets_are_never_printed_by_config_show() {
    let out = stdout(
        wrk()
            .args(["config", "show"])
            .env("WRK_STRIPE_SECRET_KEY", "sk_live_PLANTED")
            .env("WRK_PLATFORM_SECRET", "PLANTED_PLATFORM")
            .env("WRK_OIDC_CORP_ISSUER", "http://127.0.0.1:1")
            .env("WRK_OIDC_CORP_CLIENT_ID", "wrk")
            .env("WRK_OIDC_CORP_CLIENT_SECRET", "PLANTED_OIDC"),
    );
    assert!(!out.contains("PLANTED"), "{out}");
    assert!(out.contains("[oidc.corp]"), "{out}");
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "listen = 42\n").unwrap();
    let out = wrk()
        .args(["config", "show", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid config file"), "{err}");
}

#[test]
fn tenants_list_backup_and_restore_work_on_a_data_dir() {
    let data = tempfile::tempdir().unwrap();
    let storage = wrk_tenants::Storage::open(wrk_tenants::StorageConfig::new(data.path())).unwrap();
    storage
        .create_tenant(
            wrk_core::slug::Slug::parse("acme").unwrap(),
            "Acme",
            &wrk_tenants::audit::AuditActor::system(),
            &wrk_tenants::audit::RequestMeta::default(),
        )
        .unwrap();
    drop(storage);
    let list = stdout(
        wrk()
            .args(["tenants", "list"])
            .env("WRK_DATA_DIR", data.path()),
    );
    assert!(list.contains("\tacme\t"), "{list}");
    let migrate = stdout(
        wrk()
            .args(["tenants", "migrate"])
            .env("WRK_DATA_DIR", data.path()),
    );
    assert!(migrate.contains("acme\tok"), "{migrate}");

    let out = tempfile::tempdir().unwrap();
    let backup = out.path().join("backup");
    stdout(
        wrk()
            .args(["backup", "--out"])
            .arg(&backup)
            .env("WRK_DATA_DIR", data.path()),
    );
    let restored = out.path().join("restored");
    stdout(
        wrk()
            .args(["restore", "--from"])
            .arg(&backup)
            .env("WRK_DATA_DIR", &restored),
    );
    let list = stdout(
        wrk()
            .args(["tenants", "list"])
            .env("WRK_DATA_DIR", &restored),
    );
    assert!(list.contains("\tacme\t"), "{list}");
}
