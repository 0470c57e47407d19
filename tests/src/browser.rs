//! Headless Chromium through chromedriver (Debian's `chromium` and `chromium-driver`), driven with
//! fantoccini. Each [`Browser`] runs its own chromedriver on a free port with a fresh profile.
//!
//! **Every page a test visits is checked** ([`Browser::audit`]), so no test has to ask:
//! - axe-core (pinned in `tests/support/axe`, installed by `scripts/test`) finds no WCAG 2.2 A/AA
//!   or best-practice violation, in the light and in the dark colour scheme;
//! - at 320 px wide the page does not scroll sideways (WCAG 1.4.10; the window keeps a classic
//!   scrollbar, so the page gets 305 px of it);
//! - the first few Tab stops show a focus ring in forced-colours mode, and in normal mode a ring
//!   of at least 3:1 against what is behind it;
//! - the browser logged no console error (script errors, CSP violations, failed requests). A test
//!   that provokes a refused request on purpose names it with [`Browser::expect_refusal`].
//!
//! When: after [`Browser::goto`] once the page has settled; before a click on a document not
//! checked yet (a page reached by a link or a form); and, when the document changed since its last
//! check, at each screenshot, before the next `goto` and when the browser is dropped. A failure
//! names the page, the rule, the element and the colour scheme.

use std::cell::RefCell;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

pub use fantoccini::Locator;

/// One WebDriver command on an element, as [`Browser`]'s retrying helpers take it.
type ElementAct<'a, T> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<T, fantoccini::error::CmdError>> + 'a>,
>;

/// A chromedriver process and a session on it.
pub struct Browser {
    driver: Child,
    pub client: Client,
    pub rt: tokio::runtime::Runtime,
    _profile: tempfile::TempDir,
    /// `http://127.0.0.1:{port}/session/{id}`: for the chromedriver commands fantoccini lacks
    /// (Chrome DevTools commands and the browser log).
    session_url: String,
    http: reqwest::blocking::Client,
    /// Refused requests (path, status) a test provokes on purpose ([`Browser::expect_refusal`]).
    expected: RefCell<Vec<(String, u16)>>,
}

/// axe-core's script, read once per test binary.
fn axe_source() -> &'static str {
    static AXE: OnceLock<String> = OnceLock::new();
    AXE.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("support/axe/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e} (run `npm ci` in tests/support/axe; scripts/test does)",
                path.display()
            )
        })
    })
}

/// The page-side half of the checks (settling, overflow, focus rings).
const CHECKS: &str = include_str!("../support/axe/checks.js");

/// The axe-core rule tags the pages must pass; `label-content-name-mismatch` (WCAG 2.5.3), still
/// "experimental" in axe-core and so off by default, is switched on as well.
const AXE_TAGS: &[&str] = &[
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22aa",
    "best-practice",
];

/// How many Tab stops of each page get their focus ring checked.
const FOCUS_STOPS: usize = 4;

/// When a document is checked again: `Fresh` only if it was never checked, `Changed` also if it
/// changed since.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Due {
    Fresh,
    Changed,
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
                "goog:loggingPrefs": {"browser": "ALL"},
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
                let id = rt
                    .block_on(client.session_id())
                    .expect("session id")
                    .expect("a session");
                return Self {
                    driver,
                    client,
                    rt,
                    _profile: profile,
                    session_url: format!("{url}/session/{id}"),
                    http: reqwest::blocking::Client::builder()
                        .timeout(Duration::from_secs(60))
                        .build()
                        .expect("http client"),
                    expected: RefCell::new(Vec::new()),
                };
            }
            let _ = driver.kill();
        }
        panic!("chromedriver did not start");
    }

    /// Opens `url`, after checking the page being left (if it changed since its last check), and
    /// checks the new page once it has settled.
    pub fn goto(&self, url: &str) {
        self.audit_if(Due::Changed, "before leaving it");
        self.rt.block_on(self.client.goto(url)).expect("navigate");
        self.audit_if(Due::Fresh, "once loaded");
    }

    /// Declares that this test provokes, on purpose, a refused request for `path` (or a path
    /// starting with it) answered with `status`: a wrong password, a revoked invitation, an
    /// unknown workspace's 404 page. The console error the browser logs for it is then not a
    /// failure; every other console error still is.
    pub fn expect_refusal(&self, path: &str, status: u16) {
        self.expected.borrow_mut().push((path.to_owned(), status));
    }

    /// A chromedriver command on this session, outside the WebDriver standard.
    fn driver_cmd(&self, path: &str, body: Value) -> Value {
        let res = self
            .http
            .post(format!("{}/{path}", self.session_url))
            .json(&body)
            .send()
            .unwrap_or_else(|e| panic!("chromedriver {path}: {e}"));
        let status = res.status();
        let out: Value = res.json().unwrap_or(Value::Null);
        assert!(
            status.is_success(),
            "chromedriver {path} {body}: {status} {out}"
        );
        out["value"].clone()
    }

    /// A Chrome DevTools Protocol command (through chromedriver's `goog/cdp/execute`).
    fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.driver_cmd("goog/cdp/execute", json!({"cmd": cmd, "params": params}))
    }

    /// Emulates CSS media features (`prefers-color-scheme`, `forced-colors`…); none resets them.
    fn emulate(&self, features: &[(&str, &str)]) {
        let features: Vec<Value> = features
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        self.cdp(
            "Emulation.setEmulatedMedia",
            json!({"media": "", "features": features}),
        );
    }

    /// A real Tab key press (moves focus the way a keyboard user does, so `:focus-visible` applies).
    fn press_tab(&self) {
        for kind in ["rawKeyDown", "keyUp"] {
            self.cdp(
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9}),
            );
        }
    }

    /// The console errors logged since the last call, less the ones the test expects.
    fn console_errors(&self) -> Vec<String> {
        let expected = self.expected.borrow();
        let entries = self.driver_cmd("se/log", json!({"type": "browser"}));
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .filter(|m| {
                !expected.iter().any(|(path, status)| {
                    m.contains(path.as_str())
                        && m.contains(&format!(
                            " - Failed to load resource: the server responded with a status of {status} "
                        ))
                })
            })
            .collect()
    }

    /// Runs JavaScript in the page; None when it failed (e.g. the page navigated away meanwhile).
    fn try_eval(&self, script: &str) -> Option<Value> {
        self.rt.block_on(self.client.execute(script, vec![])).ok()
    }

    /// Injects axe-core and the page checks into the current document (once per document).
    fn inject(&self) -> Option<()> {
        let present = self.try_eval(
            "return typeof window.axe === 'object' && typeof window.__wrkChecks === 'object'",
        )?;
        if present != Value::Bool(true) {
            self.try_eval(&format!("{}\n{CHECKS}\nreturn true;", axe_source()))?;
        }
        Some(())
    }

    /// The focused element's ring, read after the next animation frame.
    fn focus_ring(&self) -> Option<Value> {
        self.rt
            .block_on(self.client.execute_async(
                "const done = arguments[arguments.length - 1];
                 requestAnimationFrame(() => requestAnimationFrame(() => done(window.__wrkChecks.focusRing())));",
                vec![],
            ))
            .ok()
    }

    /// Checks the current page if it is `due`: never checked, or (for `Due::Changed`) changed since.
    fn audit_if(&self, due: Due, when: &str) {
        if !self.url().starts_with("http") || self.inject().is_none() {
            return;
        }
        let state = self.try_eval("return [!window.__wrkAudited, window.__wrkChecks.due()]");
        let Some(state) = state else { return };
        let fresh = state[0] == Value::Bool(true);
        let changed = due == Due::Changed && state[1] == Value::Bool(true);
        if fresh || changed {
            self.audit(when);
        }
    }

    /// Checks the current page (see the module docs) and panics naming every problem found.
    ///
    /// A page that navigates away while it is being checked is left alone: the document that
    /// replaces it gets its own check.
    pub fn audit(&self, when: &str) {
        // Poll with a deadline: each attempt either checks a page that stayed put or finds that it
        // navigated away, and the next attempt checks the document that replaced it.
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.run_audit(when).is_none() {
            assert!(
                Instant::now() < deadline,
                "the page kept navigating away while being checked ({when}), at {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn run_audit(&self, when: &str) -> Option<()> {
        let url = self.url();
        self.inject()?;
        self.try_eval("window.__wrkDoc = true")?;
        // Settle: loaded, nothing busy, the page's script done (up to 10 s, then check what is there).
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.try_eval("return window.__wrkChecks.settled()")? != Value::Bool(true)
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut problems = Vec::new();
        self.try_eval("window.__wrkFocus = [document.activeElement, scrollX, scrollY]")?;

        for scheme in ["light", "dark"] {
            self.emulate(&[
                ("prefers-color-scheme", scheme),
                ("prefers-reduced-motion", "reduce"),
            ]);
            // Styled for the scheme once the media query matches and no transition is still
            // running (restyle() finishes those it finds; one may start from the recalc itself).
            let styled = format!(
                "window.__wrkChecks.restyle();
                 return matchMedia('(prefers-color-scheme: {scheme})').matches
                   && document.getAnimations().every(a => !(a instanceof CSSTransition)
                        || a.playState === 'finished');"
            );
            let deadline = Instant::now() + Duration::from_secs(5);
            while self.try_eval(&styled)? != Value::Bool(true) {
                assert!(
                    Instant::now() < deadline,
                    "the {scheme} colour scheme did not settle ({when}) at {url}"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            let script = format!(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {{ runOnly: {{ type: 'tag', values: {tags} }}, rules: {rules}, resultTypes: ['violations'] }})
                   .then((r) => done(r.violations.map((v) => ({{
                     rule: v.id, impact: v.impact, help: v.help,
                     nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' ' + n.html.slice(0, 160) + (n.failureSummary ? ' — ' + n.failureSummary.replace(/\\s+/g, ' ') : '')),
                   }}))), (e) => done([{{ rule: 'axe-error', impact: 'error', help: String(e), nodes: [] }}]));",
                tags = serde_json::to_string(AXE_TAGS).unwrap(),
                rules = json!({"label-content-name-mismatch": {"enabled": true}}),
            );
            let found = self
                .rt
                .block_on(self.client.execute_async(&script, vec![]))
                .ok()?;
            for v in found.as_array().into_iter().flatten() {
                let nodes: Vec<&str> = v["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                problems.push(format!(
                    "axe `{}` ({}, {scheme} scheme): {}\n      {}",
                    v["rule"].as_str().unwrap_or("?"),
                    v["impact"].as_str().unwrap_or("?"),
                    v["help"].as_str().unwrap_or("?"),
                    nodes.join("\n      ")
                ));
            }
        }
        self.emulate(&[]);

        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 320, "height": 640, "deviceScaleFactor": 1, "mobile": false}),
        );
        let overflow = self.try_eval("return window.__wrkChecks.overflow()");
        self.cdp("Emulation.clearDeviceMetricsOverride", json!({}));
        let overflow = overflow?;
        let overflow: Vec<&str> = overflow
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if !overflow.is_empty() {
            problems.push(format!(
                "scrolls sideways at 320 px: {}",
                overflow.join("\n      ")
            ));
        }

        // Focus rings: from where focus is, a few Tab stops, then focus and scroll put back.
        self.try_eval("document.activeElement?.blur?.()")?;
        for (mode, features) in [
            ("forced-colours", &[("forced-colors", "active")][..]),
            ("normal", &[][..]),
        ] {
            self.emulate(features);
            for _ in 0..FOCUS_STOPS {
                self.press_tab();
                // Read the ring once focus has landed (the next frame), as a person would see it.
                let ring = self.focus_ring()?;
                if ring.is_null() {
                    continue;
                }
                let element = ring["element"].as_str().unwrap_or("?");
                if ring["visible"] != Value::Bool(true) {
                    problems.push(format!(
                        "no focus indicator in {mode} mode on {element} (outline: {})",
                        ring["outline"].as_str().unwrap_or("?")
                    ));
                } else if mode == "normal"
                    && let Some(c) = ring["contrast"].as_f64()
                    && c < 3.0
                {
                    problems.push(format!("focus ring of {c}:1 (needs 3:1) on {element}"));
                }
            }
        }
        self.emulate(&[]);
        self.try_eval(
            "const [el, x, y] = window.__wrkFocus;
             if (el && el !== document.body) el.focus({ preventScroll: true }); else document.activeElement?.blur?.();
             scrollTo(x, y);",
        )?;

        // Still the same document (a navigation would have dropped `__wrkDoc`)?
        if self.try_eval("return window.__wrkDoc === true")? != Value::Bool(true) {
            return None;
        }
        for e in self.console_errors() {
            problems.push(format!("console error: {e}"));
        }
        self.try_eval("window.__wrkChecks.markAudited(); window.__wrkAudited = true;")?;
        assert!(
            problems.is_empty(),
            "{} accessibility problem(s) on {url} ({when}):\n  - {}",
            problems.len(),
            problems.join("\n  - ")
        );
        Some(())
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

    /// The text of the element matching the CSS selector (found again if the page redrew it
    /// between finding and reading).
    pub fn text(&self, css: &str) -> String {
        self.on_fresh(css, "text of", |el| {
            Box::pin(async move { el.text().await })
        })
    }

    /// Finds `css` and runs `act` on it. A page that draws a part again (the action bar once the
    /// history has loaded, say) can replace the element between finding it and acting on it; the
    /// element is then found again, as a person would see the new one, rather than failing on a
    /// reference the page no longer has.
    fn on_fresh<'a, T>(
        &self,
        css: &str,
        what: &str,
        act: impl Fn(fantoccini::elements::Element) -> ElementAct<'a, T>,
    ) -> T {
        for _ in 0..20 {
            let el = self.wait_for(css);
            match self.rt.block_on(act(el)) {
                Ok(value) => return value,
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::StaleElementReference => {}
                Err(e) => panic!("{what} {css}: {e}"),
            }
        }
        panic!("{css} kept being redrawn while it was used ({what})");
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
        self.audit_if(Due::Fresh, &format!("before clicking {css}"));
        let client = &self.client;
        self.on_fresh(css, "click", |el| {
            Box::pin(async move {
                let reference = serde_json::to_value(&el).expect("element reference");
                client
                    .execute(
                        "arguments[0].scrollIntoView({block: 'center', inline: 'center'});",
                        vec![reference],
                    )
                    .await?;
                el.click().await
            })
        });
    }

    /// Clears the input matching the CSS selector and types `text` into it (real key events).
    pub fn fill(&self, css: &str, text: &str) {
        self.on_fresh(css, "fill", |el| {
            Box::pin(async move {
                el.clear().await?;
                el.send_keys(text).await
            })
        });
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
        self.audit_if(Due::Changed, &format!("at screenshot {name}"));
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
        // The last page is checked too, unless the test is already failing; a failure here is
        // reported after chromedriver is stopped.
        let last = if std::thread::panicking() {
            Ok(())
        } else {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.audit_if(Due::Changed, "at the end of the test")
            }))
        };
        let client = self.client.clone();
        let _ = self.rt.block_on(client.close());
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        if let Err(failure) = last {
            std::panic::resume_unwind(failure);
        }
    }
}
