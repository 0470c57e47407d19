//! A real OpenID Connect provider for tests: `tests/support/oidc/server.js` (node-oidc-provider,
//! installed with `npm ci` in that folder — done here on first use when `node_modules` is
//! missing), plus [`sign_in`], which drives the whole browser redirect dance with a cookie-keeping
//! HTTP client: WRK `/start` → IdP → dev login form → consent form → WRK `/callback`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};

pub const CLIENT_ID: &str = "wrk-test";
pub const CLIENT_SECRET: &str = "wrk-test-secret-0123456789";

fn support_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("support/oidc")
}

static INSTALL: Mutex<()> = Mutex::new(());

/// Installs the provider's npm packages once (a no-op when they are there). Tests run in
/// parallel processes (nextest), so the install is serialised with a file lock as well as the
/// in-process mutex, and marked complete only after `npm ci` succeeded: no test starts the
/// provider from a half-written `node_modules`.
fn ensure_installed() {
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = support_dir();
    let done = dir.join("node_modules/.wrk-installed");
    if done.is_file() {
        return;
    }
    let lock = std::fs::File::create(dir.join(".install.lock")).expect("create the install lock");
    lock.lock().expect("lock tests/support/oidc/.install.lock");
    if done.is_file() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("run npm ci in tests/support/oidc (are node and npm installed?)");
    assert!(status.success(), "npm ci failed in {}", dir.display());
    std::fs::write(&done, b"").expect("mark node_modules installed");
}

/// A running provider; killed on drop.
pub struct IdProvider {
    pub port: u16,
    pub issuer: String,
    child: Child,
}

impl std::fmt::Debug for IdProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdProvider")
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl IdProvider {
    /// Starts a provider, in node-oidc-provider's default configuration, on a free port with one
    /// client ([`CLIENT_ID`], [`CLIENT_SECRET`]) whose only redirect URI is `redirect_uri` (a
    /// port of `*` makes it a native client with a loopback URI: any port). The scope's claims
    /// come from its UserInfo endpoint, not in the ID token.
    pub fn start(redirect_uri: &str) -> Self {
        Self::start_with(redirect_uri, false)
    }

    /// Like [`IdProvider::start`], but without a UserInfo endpoint, so the provider puts the
    /// scope's claims (email, email_verified, name) in the ID token.
    pub fn start_with_claims_in_id_token(redirect_uri: &str) -> Self {
        Self::start_with(redirect_uri, true)
    }

    fn start_with(redirect_uri: &str, claims_in_id_token: bool) -> Self {
        ensure_installed();
        let mut child = Command::new("node")
            .arg(support_dir().join("server.js"))
            .env("PORT", "0")
            .env(
                "CLAIMS_IN_ID_TOKEN",
                if claims_in_id_token { "1" } else { "0" },
            )
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("REDIRECT_URI", redirect_uri)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node tests/support/oidc/server.js");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut line).expect("read the provider's port");
        // Keep draining: a closed pipe would kill the child at its next write.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let port: u16 = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("the OIDC provider did not print its port; got {line:?}")
        });
        Self {
            port,
            issuer: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    /// The `WRK_OIDC_<NAME>_*` variables for this provider under `name`.
    pub fn env(&self, name: &str) -> Vec<(String, String)> {
        let upper = name.to_ascii_uppercase();
        vec![
            (format!("WRK_OIDC_{upper}_ISSUER"), self.issuer.clone()),
            (format!("WRK_OIDC_{upper}_CLIENT_ID"), CLIENT_ID.to_owned()),
            (
                format!("WRK_OIDC_{upper}_CLIENT_SECRET"),
                CLIENT_SECRET.to_owned(),
            ),
        ]
    }
}

impl Drop for IdProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (for a server that must know its address before it starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A browser-like client: keeps cookies, follows no redirects (the dance is driven by hand).
pub fn browser_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// How the sign-in dance ended.
#[derive(Debug)]
pub struct SignIn {
    /// The client, holding WRK's cookies when the sign-in succeeded.
    pub client: Client,
    /// WRK's answer to the callback.
    pub status: StatusCode,
    /// Its `Location` (onward redirect), if any.
    pub location: Option<String>,
    /// Its body (a problem+json on refusal).
    pub body: String,
}

fn location(res: &Response, base: &reqwest::Url) -> Option<reqwest::Url> {
    let loc = res
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    base.join(loc).ok()
}

/// Parses the first `<form>` of a page: (action, fields to post).
fn form(html: &str, account: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form")?;
    let form = &html[start..];
    let form = &form[..form.find("</form>").unwrap_or(form.len())];
    let attr = |tag: &str, name: &str| -> Option<String> {
        let key = format!("{name}=\"");
        let i = tag.find(&key)? + key.len();
        Some(tag[i..i + tag[i..].find('"')?].replace("&amp;", "&"))
    };
    let head = &form[..form.find('>')?];
    let action = attr(head, "action")?;
    let mut fields = Vec::new();
    for chunk in form.split("<input").skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap_or(chunk.len())];
        let Some(name) = attr(tag, "name") else {
            continue;
        };
        let value = match name.as_str() {
            "login" => account.to_owned(),
            "password" => "any-password".to_owned(),
            _ => attr(tag, "value").unwrap_or_default(),
        };
        fields.push((name, value));
    }
    Some((action, fields))
}

/// Signs `account` in through `provider` on the WRK app at `wrk_base` (e.g.
/// `http://localhost:PORT`), with `start_query` appended to `/start` (e.g. `?invite=...`).
/// `tamper` may rewrite the callback URL before WRK sees it (negative tests).
pub fn sign_in_with(
    client: Client,
    wrk_base: &str,
    provider: &str,
    account: &str,
    start_query: &str,
    tamper: impl Fn(reqwest::Url) -> reqwest::Url,
) -> SignIn {
    let callback_path = format!("/api/auth/oidc/{provider}/callback");
    let mut url = reqwest::Url::parse(&format!(
        "{wrk_base}/api/auth/oidc/{provider}/start{start_query}"
    ))
    .expect("start url");
    let mut post: Option<Vec<(String, String)>> = None;
    for _ in 0..30 {
        let res = match post.take() {
            Some(fields) => client.post(url.clone()).form(&fields).send(),
            None => client.get(url.clone()).send(),
        }
        .unwrap_or_else(|e| panic!("request to {url} failed: {e:?}"));
        if url.path() == callback_path {
            let status = res.status();
            let location = res
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = res.text().unwrap_or_default();
            return SignIn {
                client,
                status,
                location,
                body,
            };
        }
        if res.status().is_redirection() {
            let next = location(&res, &url).expect("a Location");
            url = if next.path() == callback_path {
                tamper(next)
            } else {
                next
            };
            continue;
        }
        let status = res.status();
        let page = res.text().unwrap_or_default();
        assert!(status.is_success(), "{url} answered {status}: {page}");
        let (action, fields) =
            form(&page, account).unwrap_or_else(|| panic!("no form at {url}: {page}"));
        url = url.join(&action).expect("form action");
        post = Some(fields);
    }
    panic!("the sign-in did not reach the callback in 30 steps (last: {url})");
}

/// [`sign_in_with`] a fresh client and no tampering.
pub fn sign_in(wrk_base: &str, provider: &str, account: &str, start_query: &str) -> SignIn {
    sign_in_with(
        browser_client(),
        wrk_base,
        provider,
        account,
        start_query,
        |u| u,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_parsed_and_filled() {
        let html = r#"<form autocomplete="off" action="/interaction/abc/login" method="post">
            <input required type="text" name="login" placeholder="Enter any login" autofocus="on">
            <input required type="password" name="password" placeholder="and password">
            <input type="hidden" name="x" value="1&amp;2">
            <button type="submit">Sign-in</button></form>"#;
        let (action, fields) = form(html, "ada").unwrap();
        assert_eq!(action, "/interaction/abc/login");
        assert_eq!(
            fields,
            vec![
                ("login".to_owned(), "ada".to_owned()),
                ("password".to_owned(), "any-password".to_owned()),
                ("x".to_owned(), "1&2".to_owned())
            ]
        );
    }
}
