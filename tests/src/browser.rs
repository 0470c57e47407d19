//! Headless Chromium through chromedriver (Debian's `chromium` and `chromium-driver`), driven with
//! fantoccini. Each [`Browser`] runs its own chromedriver on a free port with a fresh profile.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};

pub use fantoccini::Locator;

/// A chromedriver process and a session on it.
pub struct Browser {
    driver: Child,
    pub client: Client,
    pub rt: tokio::runtime::Runtime,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn which(name: &str, fallback: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| fallback.to_owned())
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session (1280×900).
    pub fn start() -> Self {
        Self::with_size(1280, 900)
    }

    pub fn with_size(width: u32, height: u32) -> Self {
        // fantoccini's rustls needs a process-wide crypto provider; several crates in the test
        // build enable different ones, so pick one explicitly (a second call is a harmless no-op).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let driver_bin = which("CHROMEDRIVER", "/usr/bin/chromedriver");
        let chrome_bin = which("CHROMIUM", "/usr/bin/chromium");
        let profile = tempfile::tempdir().expect("profile dir");
        // chromedriver can't report a port it picked, so pick one and retry on a lost race.
        for _attempt in 0..5 {
            let port = free_port();
            let mut driver = Command::new(&driver_bin)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start {driver_bin}: {e} (scripts/test installs chromium-driver)")
                });
            let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chrome_bin,
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--disable-quic", "--no-first-run",
                        format!("--user-data-dir={}", profile.path().display()),
                        format!("--window-size={width},{height}"),
                    ]
                }
            }))
            .expect("caps");
            let url = format!("http://127.0.0.1:{port}");
            let deadline = Instant::now() + Duration::from_secs(20);
            let client = loop {
                let attempt = rt.block_on(
                    ClientBuilder::rustls()
                        .expect("tls")
                        .capabilities(caps.clone())
                        .connect(&url),
                );
                match attempt {
                    Ok(c) => break Some(c),
                    Err(_) if Instant::now() < deadline => {
                        if driver.try_wait().ok().flatten().is_some() {
                            break None;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Err(e) => panic!("cannot start a Chromium session: {e}"),
                }
            };
            if let Some(client) = client {
                return Self {
                    driver,
                    client,
                    rt,
                    _profile: profile,
                };
            }
            let _ = driver.kill();
        }
        panic!("chromedriver did not start");
    }

    pub fn goto(&self, url: &str) {
        self.rt.block_on(self.client.goto(url)).expect("navigate");
    }

    /// Waits up to 10 s for an element matching the CSS selector.
    pub fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.rt
            .block_on(
                self.client
                    .wait()
                    .at_most(Duration::from_secs(10))
                    .for_element(Locator::Css(css)),
            )
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    pub fn text(&self, css: &str) -> String {
        let el = self.wait_for(css);
        self.rt.block_on(el.text()).expect("text")
    }

    pub fn title(&self) -> String {
        self.rt.block_on(self.client.title()).expect("title")
    }

    /// Runs JavaScript in the page and returns its JSON result.
    pub fn eval(&self, script: &str) -> serde_json::Value {
        self.rt
            .block_on(self.client.execute(script, vec![]))
            .expect("execute script")
    }

    /// Clicks the element matching the CSS selector (waiting for it first).
    /// The element is first scrolled to the middle of the viewport, as a person would, so sticky
    /// bars never sit on top of it.
    pub fn click(&self, css: &str) {
        let el = self.wait_for(css);
        let reference = serde_json::to_value(&el).expect("element reference");
        self.rt
            .block_on(self.client.execute(
                "arguments[0].scrollIntoView({block: 'center', inline: 'center'});",
                vec![reference],
            ))
            .unwrap_or_else(|e| panic!("scroll to {css}: {e}"));
        self.rt
            .block_on(el.click())
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clears the input matching the CSS selector and types `text` into it (real key events).
    pub fn fill(&self, css: &str, text: &str) {
        let el = self.wait_for(css);
        self.rt
            .block_on(async {
                el.clear().await?;
                el.send_keys(text).await
            })
            .unwrap_or_else(|e| panic!("fill {css}: {e}"));
    }

    /// The page's current URL.
    pub fn url(&self) -> String {
        self.rt
            .block_on(self.client.current_url())
            .expect("current url")
            .to_string()
    }

    /// Polls the JavaScript expression `js` (e.g. `location.pathname === '/app'`) until it is
    /// truthy, for up to 15 s; panics with `what` otherwise.
    pub fn wait_until(&self, js: &str, what: &str) {
        let script = format!("return Boolean({js});");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(v) = self.rt.block_on(self.client.execute(&script, vec![]))
                && v.as_bool() == Some(true)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} ({js}) at {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Resizes the window (e.g. 375 wide for phone screenshots).
    pub fn resize(&self, width: u32, height: u32) {
        self.rt
            .block_on(self.client.set_window_size(width, height))
            .expect("resize window");
    }

    /// Saves a PNG screenshot as `target/screenshots/<name>.png` and returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .rt
            .block_on(self.client.screenshot())
            .expect("screenshot");
        let dir = crate::target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).expect("screenshots dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let client = self.client.clone();
        let _ = self.rt.block_on(client.close());
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
