//! The black-box test harness: [`TestApp`] starts the real `wrk` binary on port 0 with a fresh
//! temp data dir, waits for `/readyz`, and kills it on drop; [`api`] gives it a helper per endpoint
//! (`owner_of`, `ops_token`, automations, invitations, the ops outbox, …); with
//! [`TestAppBuilder::mailbox`] it mails to an SMTP sink of its own ([`smtp`]); [`browser`] drives
//! headless Chromium. Tests talk to the server only through HTTP, SMTP, its log and its CLI, never
//! through the files of a running server.
//!
//! Every host is reachable by name: `app.url("acme", "/api/me")` is
//! `http://acme.localhost:PORT/api/me`; the HTTP client resolves every `*.localhost` to loopback,
//! as browsers do, so cookies and Host headers behave as they will for users.

pub mod api;
pub mod browser;
pub mod localstripe;
pub mod oidc;
pub mod platform;
pub mod smtp;
pub mod sse;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use reqwest::blocking::{Client, RequestBuilder, Response};
pub use reqwest::{Method, StatusCode};
pub use serde_json::{Value, json};

pub use api::{Owner, PASSWORD, access_token, blueprint, multipart_file, version_path};

/// Runs the `wrk` command line on `data_dir` (`WRK_DATA_DIR`) and returns what it printed; its
/// failure fails the test with what it said.
pub fn run_wrk(args: &[&str], data_dir: &Path) -> String {
    let out = Command::new(wrk_bin())
        .args(args)
        .env("WRK_DATA_DIR", data_dir)
        .output()
        .expect("run wrk");
    assert!(
        out.status.success(),
        "wrk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `wrk` binary under test: `$WRK_BIN`, or `wrk` next to the test executable's target dir.
pub fn wrk_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("WRK_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/it-xxxx → target/<profile>/wrk
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let bin = profile_dir.join("wrk");
    assert!(
        bin.is_file(),
        "{} does not exist: build it first with `cargo build -p wrk-host` (scripts/test does)",
        bin.display()
    );
    bin
}

/// The workspace's `target/` directory (for screenshots and other artefacts).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.ancestors()
        .nth(3)
        .expect("target dir above target/<profile>/deps")
        .to_owned()
}

/// Resolves every name to loopback, as browsers do for `*.localhost`.
struct Loopback;

impl reqwest::dns::Resolve for Loopback {
    fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async {
            let addrs: reqwest::dns::Addrs =
                Box::new(std::iter::once(SocketAddr::from(([127, 0, 0, 1], 0))));
            Ok(addrs)
        })
    }
}

/// An HTTP client for tests: loopback resolution, no redirects followed, cookies off.
pub fn client() -> Client {
    Client::builder()
        .dns_resolver(Arc::new(Loopback))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// How to start a [`TestApp`].
#[derive(Debug, Default)]
pub struct TestAppBuilder {
    env: Vec<(String, String)>,
    args: Vec<String>,
    data_dir: Option<tempfile::TempDir>,
    cwd: Option<PathBuf>,
    mailbox: Option<smtp::SmtpSink>,
    localstripe: Option<localstripe::LocalStripe>,
}

impl TestAppBuilder {
    /// Pays through the Stripe provider against a localstripe of its own, read with
    /// [`TestApp::localstripe`].
    pub fn localstripe(mut self) -> Self {
        let stripe = localstripe::LocalStripe::start();
        self.env
            .push(("WRK_PAYMENT_PROVIDER".to_owned(), "stripe".to_owned()));
        self.env
            .push(("WRK_STRIPE_API_BASE".to_owned(), stripe.base()));
        self.env.push((
            "WRK_STRIPE_SECRET_KEY".to_owned(),
            localstripe::SECRET_KEY.to_owned(),
        ));
        self.localstripe = Some(stripe);
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Reuse a data dir (e.g. one seeded beforehand, or a previous app's after a restart).
    pub fn data_dir(mut self, dir: tempfile::TempDir) -> Self {
        self.data_dir = Some(dir);
        self
    }

    /// Working directory of the process (where `wrk.toml` is looked for).
    pub fn cwd(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_owned());
        self
    }

    /// Delivers the app's email to an SMTP sink of its own, read with [`TestApp::mailbox`].
    pub fn mailbox(mut self) -> Self {
        let sink = smtp::SmtpSink::start();
        self.env.push(("WRK_SMTP_URL".to_owned(), sink.url()));
        self.mailbox = Some(sink);
        self
    }

    pub fn spawn(self) -> TestApp {
        let data_dir = self
            .data_dir
            .unwrap_or_else(|| tempfile::tempdir().expect("temp dir"));
        let _ = std::fs::remove_file(data_dir.path().join("listen.addr"));
        let log_path = data_dir.path().join("wrk.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut cmd = Command::new(wrk_bin());
        cmd.arg("serve")
            .args(&self.args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("WRK_LISTEN", "127.0.0.1:0")
            .env("WRK_BASE_DOMAIN", "localhost:0")
            .env("WRK_DATA_DIR", data_dir.path())
            .env("WRK_LOG", "info,wrk_host=debug")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        cmd.current_dir(self.cwd.as_deref().unwrap_or(data_dir.path()));
        let child = cmd.spawn().expect("spawn wrk");
        let mut app = TestApp {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            child: Some(child),
            data_dir: Some(data_dir),
            log_path,
            http: client(),
            mailbox: self.mailbox,
            localstripe: self.localstripe,
        };
        app.addr = app.wait_for_listen_addr();
        app.wait_ready();
        app
    }
}

/// A running `wrk` process on its own port and data dir.
pub struct TestApp {
    pub addr: SocketAddr,
    child: Option<Child>,
    data_dir: Option<tempfile::TempDir>,
    log_path: PathBuf,
    pub http: Client,
    mailbox: Option<smtp::SmtpSink>,
    localstripe: Option<localstripe::LocalStripe>,
}

impl TestApp {
    pub fn spawn() -> Self {
        Self::builder().spawn()
    }

    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.as_ref().expect("data dir").path()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// `host` is `""` for the apex, `"ops"` for the console, or a workspace slug.
    pub fn host(&self, host: &str) -> String {
        if host.is_empty() {
            format!("localhost:{}", self.port())
        } else {
            format!("{host}.localhost:{}", self.port())
        }
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{}{path}", self.host(host))
    }

    pub fn request(&self, method: Method, host: &str, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(host, path))
    }

    pub fn get(&self, host: &str, path: &str) -> Response {
        self.request(Method::GET, host, path)
            .send()
            .expect("GET request")
    }

    pub fn post_json(&self, host: &str, path: &str, body: &Value) -> Response {
        self.request(Method::POST, host, path)
            .json(body)
            .send()
            .expect("POST request")
    }

    /// One JSON API call: `token` as a bearer token, `body` as JSON; the status and the answer's
    /// JSON (`null` when it has none).
    pub fn call(
        &self,
        method: Method,
        host: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.request(method, host, path);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().expect("request");
        let status = res.status();
        (status, res.json().unwrap_or(Value::Null))
    }

    /// The SMTP sink the app delivers to (built with [`TestAppBuilder::mailbox`]).
    pub fn mailbox(&self) -> &smtp::SmtpSink {
        self.mailbox
            .as_ref()
            .expect("an app built with TestAppBuilder::mailbox")
    }

    /// The `token` of the newest mail to `to` with a link to `path` (e.g. `/verify-email`),
    /// waiting for it to arrive.
    pub fn mailed_token(&self, to: &str, path: &str) -> String {
        self.mailbox().token(to, path, Duration::from_secs(20))
    }

    /// The localstripe of an app built with [`TestAppBuilder::localstripe`].
    pub fn localstripe(&self) -> &localstripe::LocalStripe {
        self.localstripe
            .as_ref()
            .expect("built without TestAppBuilder::localstripe")
    }

    /// Everything the server logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    fn wait_for_listen_addr(&mut self) -> SocketAddr {
        let path = self.data_dir().join("listen.addr");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = std::fs::read_to_string(&path)
                && let Ok(addr) = text.trim().parse()
            {
                return addr;
            }
            self.assert_running("before writing listen.addr");
            assert!(
                Instant::now() < deadline,
                "wrk wrote no listen.addr in 30 s:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = self.http.get(self.url("", "/readyz")).send()
                && r.status() == StatusCode::OK
            {
                return;
            }
            self.assert_running("before /readyz answered 200");
            assert!(
                Instant::now() < deadline,
                "/readyz not ready in 30 s:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn assert_running(&mut self, when: &str) {
        if let Some(status) = self
            .child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
        {
            panic!("wrk exited with {status} {when}:\n{}", self.logs());
        }
    }

    /// Sends `signal` (e.g. `"TERM"`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to exit, returning its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let child = self.child.as_mut().expect("running");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                self.child = None;
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "wrk did not exit in {timeout:?}:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process (SIGKILL) and hands back its data dir, e.g. to restart on it.
    pub fn kill_and_keep_data(mut self) -> tempfile::TempDir {
        self.kill();
        self.data_dir.take().expect("data dir")
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("---- wrk log ----\n{}", self.logs());
        }
    }
}

/// Polls `f` until it returns `Some`, or panics after `timeout` with `what`.
pub fn eventually<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Seeds a workspace directly through the store API, before a server starts on `data_dir`.
pub fn seed_workspace(data_dir: &Path, slug: &str, name: &str) -> String {
    let storage =
        wrk_tenants::Storage::open(wrk_tenants::StorageConfig::new(data_dir)).expect("storage");
    storage
        .create_tenant(
            wrk_core::slug::Slug::parse(slug).expect("slug"),
            name,
            &wrk_tenants::audit::AuditActor::system(),
            &wrk_tenants::audit::RequestMeta::default(),
        )
        .expect("create workspace")
        .id
        .to_string()
}
