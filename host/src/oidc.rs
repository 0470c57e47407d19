//! OpenID Connect sign-in (flow 1A), protocol side: discovery, the authorization request
//! (code + PKCE S256 + `state` + `nonce`), the code exchange and the ID token checks.
//!
//! # Where the flow state lives
//! Between `/start` and `/callback` we must remember the `state`, `nonce`, PKCE verifier and an
//! optional invitation token. They travel in a short-lived cookie (`wrk_oidc`, 10 minutes,
//! HttpOnly, host-only, `SameSite=Lax` so the IdP's top-level redirect back carries it, path
//! limited to `/api/auth/oidc/`, `Secure` under TLS), **encrypted and authenticated with
//! AES-256-GCM** (ring) under a random key held in memory. Nothing is written to the database
//! for an abandoned login, the flow is bound to the browser that started it (a `state` from
//! another browser does not match its cookie), and the secrets (nonce, verifier, invitation) are
//! unreadable and unforgeable client-side. The cost: a restart in the middle of a login makes
//! that login start over.
//!
//! # Checks
//! `openidconnect` verifies the ID token's signature against the provider's JWKS, its issuer,
//! audience (our client id), expiry and issue time, and the nonce; none is relaxed here. We also
//! check the access-token hash when present, and require `email_verified = true`.
//!
//! # Where the email comes from
//! With the authorization-code flow a provider need not put the scope's claims in the ID token
//! (OpenID Connect Core §5.4: they come from the UserInfo endpoint; node-oidc-provider's default).
//! So when the ID token lacks `email` or `email_verified` we call UserInfo with the access token
//! and take both from its answer, refusing it unless its `sub` equals the ID token's `sub`
//! (§5.3.2: a mismatch means a substituted response). A provider that does put them in the ID
//! token (e.g. one without a UserInfo endpoint) costs no extra request.
//!
//! Discovery runs at first use of a provider and is cached for an hour; a provider that is down
//! fails only its own logins (and is retried at the next one), never start-up or other providers.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce as AeadNonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::config::{Config, OidcProvider};

/// The flow cookie.
pub const FLOW_COOKIE: &str = "wrk_oidc";
const FLOW_TTL_SECS: i64 = 600;
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("unknown sign-in provider {0:?}")]
    UnknownProvider(String),
    #[error("the identity provider {0} is unavailable right now; try again later")]
    Unavailable(String),
    #[error(
        "this sign-in attempt is invalid or has expired (state mismatch); start the sign-in again"
    )]
    BadState,
    #[error(
        "your identity provider has not verified your email address; verify it there, then sign in again"
    )]
    EmailNotVerified,
    #[error("the identity provider refused the sign-in: {0}")]
    Denied(String),
    #[error("the identity provider's answer could not be verified: {0}")]
    Invalid(String),
}

/// A successful sign-in: who the IdP says this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    pub email: String,
    pub name: String,
    /// The invitation token carried through the flow (`start?invite=`).
    pub invite: Option<String>,
    /// Where on the apex to go once signed in (`start?next=`), a same-origin path.
    pub next: Option<String>,
}

/// What `/start` answers: where to send the browser and the flow cookie to set.
#[derive(Debug, Clone)]
pub struct Started {
    pub authorize_url: String,
    pub set_cookie: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Flow {
    /// Provider name (also the AEAD associated data).
    p: String,
    s: String,
    n: String,
    v: String,
    i: Option<String>,
    /// Where to go after sign-in: a same-origin path (see [`same_origin_path`]).
    #[serde(default)]
    x: Option<String>,
    /// Expiry, unix seconds.
    e: i64,
}

/// A client built from discovery: authorization endpoint set; token and UserInfo as discovered.
type FlowClient = openidconnect::core::CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

struct Cached {
    metadata: CoreProviderMetadata,
    at: Instant,
}

/// Every configured provider, their cached discovery documents, and the flow-cookie key.
pub struct Oidc {
    providers: BTreeMap<String, OidcProvider>,
    http: reqwest::Client,
    cache: tokio::sync::Mutex<HashMap<String, Cached>>,
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Oidc {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let rng = SystemRandom::new();
        let mut key = [0u8; 32];
        rng.fill(&mut key)
            .map_err(|_| anyhow::anyhow!("no randomness for the OIDC flow key"))?;
        let key = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &key)
                .map_err(|_| anyhow::anyhow!("cannot create the OIDC flow key"))?,
        );
        // No redirects: the IdP's endpoints are used as discovered (SSRF hygiene, and the
        // openidconnect crate's own advice).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()?;
        for (name, p) in &config.oidc {
            IssuerUrl::new(p.issuer.clone()).map_err(|e| {
                anyhow::anyhow!("WRK_OIDC_{}_ISSUER is not a URL: {e}", name.to_uppercase())
            })?;
        }
        Ok(Self {
            providers: config.oidc.clone(),
            http,
            cache: tokio::sync::Mutex::new(HashMap::new()),
            key,
            rng,
        })
    }

    pub fn provider_names(&self) -> Vec<String> {
        self.providers.keys().cloned().collect()
    }

    fn provider(&self, name: &str) -> Result<&OidcProvider, OidcError> {
        self.providers
            .get(name)
            .ok_or_else(|| OidcError::UnknownProvider(name.to_owned()))
    }

    async fn metadata(&self, name: &str, refresh: bool) -> Result<CoreProviderMetadata, OidcError> {
        let provider = self.provider(name)?;
        let mut cache = self.cache.lock().await;
        if !refresh
            && let Some(c) = cache.get(name)
            && c.at.elapsed() < DISCOVERY_TTL
        {
            return Ok(c.metadata.clone());
        }
        let issuer = IssuerUrl::new(provider.issuer.clone())
            .map_err(|e| OidcError::Invalid(e.to_string()))?;
        match CoreProviderMetadata::discover_async(issuer, &self.http).await {
            Ok(metadata) => {
                cache.insert(
                    name.to_owned(),
                    Cached {
                        metadata: metadata.clone(),
                        at: Instant::now(),
                    },
                );
                Ok(metadata)
            }
            Err(e) => {
                tracing::warn!(provider = name, error = %e, "OIDC discovery failed");
                // A stale document beats none while the IdP is briefly down.
                match cache.get(name) {
                    Some(c) if !refresh => Ok(c.metadata.clone()),
                    _ => Err(OidcError::Unavailable(name.to_owned())),
                }
            }
        }
    }

    fn redirect_uri(config: &Config, name: &str) -> String {
        format!(
            "{}://{}/api/auth/oidc/{name}/callback",
            config.scheme(),
            config.base_domain
        )
    }

    fn client(
        &self,
        config: &Config,
        name: &str,
        metadata: CoreProviderMetadata,
    ) -> Result<FlowClient, OidcError> {
        let p = self.provider(name)?;
        let redirect = RedirectUrl::new(Self::redirect_uri(config, name))
            .map_err(|e| OidcError::Invalid(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(p.client_id.clone()),
            p.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    /// Builds the authorization request and the encrypted flow cookie.
    pub async fn start(
        &self,
        config: &Config,
        name: &str,
        invite: Option<String>,
        next: Option<String>,
    ) -> Result<Started, OidcError> {
        let metadata = self.metadata(name, false).await?;
        let client = self.client(config, name, metadata)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let flow = Flow {
            p: name.to_owned(),
            s: state.secret().clone(),
            n: nonce.secret().clone(),
            v: verifier.secret().clone(),
            i: invite.filter(|t| !t.trim().is_empty()),
            x: next.filter(|p| same_origin_path(p)),
            e: chrono::Utc::now().timestamp() + FLOW_TTL_SECS,
        };
        let sealed = self.seal(&flow)?;
        Ok(Started {
            authorize_url: url.to_string(),
            set_cookie: flow_cookie(config, &sealed, FLOW_TTL_SECS),
        })
    }

    /// Checks `state` against the flow cookie, exchanges the code, verifies the ID token.
    pub async fn finish(
        &self,
        config: &Config,
        name: &str,
        code: &str,
        state: &str,
        cookie: Option<&str>,
    ) -> Result<Verified, OidcError> {
        self.provider(name)?;
        let flow = cookie
            .and_then(|c| self.open(c, name))
            .ok_or(OidcError::BadState)?;
        if flow.p != name
            || flow.e < chrono::Utc::now().timestamp()
            || !constant_time_eq(flow.s.as_bytes(), state.as_bytes())
        {
            return Err(OidcError::BadState);
        }
        match self.exchange(config, name, code, &flow, false).await {
            // The IdP may have rotated its signing keys since discovery: rediscover once.
            Err(OidcError::Invalid(why)) if why.contains("signature") => {
                tracing::info!(
                    provider = name,
                    "ID token signature unknown; refreshing JWKS"
                );
                self.exchange(config, name, code, &flow, true).await
            }
            other => other,
        }
    }

    async fn exchange(
        &self,
        config: &Config,
        name: &str,
        code: &str,
        flow: &Flow,
        refresh: bool,
    ) -> Result<Verified, OidcError> {
        let metadata = self.metadata(name, refresh).await?;
        let client = self.client(config, name, metadata)?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Invalid(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.v.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(r) => {
                    OidcError::Denied(r.error().to_string())
                }
                other => {
                    tracing::warn!(provider = name, error = %other, "OIDC token request failed");
                    OidcError::Unavailable(name.to_owned())
                }
            })?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| OidcError::Invalid("no ID token in the token response".into()))?;
        let verifier = client.id_token_verifier();
        let claims: &CoreIdTokenClaims = id_token
            .claims(&verifier, &Nonce::new(flow.n.clone()))
            .map_err(|e| OidcError::Invalid(e.to_string()))?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token
                .signing_alg()
                .map_err(|e| OidcError::Invalid(e.to_string()))?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(|e| OidcError::Invalid(e.to_string()))?;
            let actual = AccessTokenHash::from_token(tokens.access_token(), alg, key)
                .map_err(|e| OidcError::Invalid(e.to_string()))?;
            if actual != *expected {
                return Err(OidcError::Invalid("access token hash mismatch".into()));
            }
        }
        let id_email = claims
            .email()
            .map(|e| e.as_str().trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty());
        let id_name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned());
        let (email, verified, name_claim) = match (id_email, claims.email_verified()) {
            (Some(email), Some(verified)) => (email, verified, id_name.unwrap_or_default()),
            // Not in the ID token: the UserInfo endpoint has them (OIDC Core §5.4). Email and
            // its verification are both taken from that one answer.
            _ => {
                let info = self
                    .user_info(&client, name, tokens.access_token(), claims.subject())
                    .await?;
                let email = info
                    .email()
                    .map(|e| e.as_str().trim().to_ascii_lowercase())
                    .filter(|e| !e.is_empty())
                    .ok_or_else(|| {
                        OidcError::Invalid(
                            "the identity provider gave no email address (neither in the ID token nor from UserInfo)"
                                .into(),
                        )
                    })?;
                let name_claim = id_name
                    .or_else(|| {
                        info.name()
                            .and_then(|n| n.get(None))
                            .map(|n| n.as_str().to_owned())
                    })
                    .unwrap_or_default();
                (email, info.email_verified() == Some(true), name_claim)
            }
        };
        if !verified {
            return Err(OidcError::EmailNotVerified);
        }
        Ok(Verified {
            provider: name.to_owned(),
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            email,
            name: name_claim,
            invite: flow.i.clone(),
            next: flow.x.clone(),
        })
    }

    /// The UserInfo claims for `access_token`, refused unless their `sub` is the ID token's.
    async fn user_info(
        &self,
        client: &FlowClient,
        name: &str,
        access_token: &openidconnect::AccessToken,
        subject: &openidconnect::SubjectIdentifier,
    ) -> Result<CoreUserInfoClaims, OidcError> {
        let request = client
            .user_info(access_token.clone(), Some(subject.clone()))
            .map_err(|_| {
                OidcError::Invalid(
                    "the ID token has no email claim and the provider has no UserInfo endpoint"
                        .into(),
                )
            })?;
        let info: CoreUserInfoClaims = request.request_async(&self.http).await.map_err(
            |e| match e {
                openidconnect::UserInfoError::ClaimsVerification(e) => {
                    OidcError::Invalid(format!("UserInfo answer refused: {e}"))
                }
                other => {
                    tracing::warn!(provider = name, error = %other, "OIDC UserInfo request failed");
                    OidcError::Unavailable(name.to_owned())
                }
            },
        )?;
        // The crate checks this already (expected subject); the rule is ours too.
        if info.subject() != subject {
            return Err(OidcError::Invalid(
                "UserInfo answer refused: its subject is not the ID token's".into(),
            ));
        }
        Ok(info)
    }

    fn seal(&self, flow: &Flow) -> Result<String, OidcError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| OidcError::Invalid("no randomness".into()))?;
        let mut buf = serde_json::to_vec(flow).map_err(|e| OidcError::Invalid(e.to_string()))?;
        self.key
            .seal_in_place_append_tag(
                AeadNonce::assume_unique_for_key(nonce),
                Aad::from(flow.p.as_bytes()),
                &mut buf,
            )
            .map_err(|_| OidcError::Invalid("cannot seal the flow".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(hex::encode(out))
    }

    fn open(&self, sealed: &str, provider: &str) -> Option<Flow> {
        let raw = hex::decode(sealed.trim()).ok()?;
        if raw.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let mut buf = rest.to_vec();
        let nonce = AeadNonce::try_assume_unique_for_key(nonce).ok()?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(provider.as_bytes()), &mut buf)
            .ok()?;
        serde_json::from_slice(plain).ok()
    }
}

/// The `Set-Cookie` value of the flow cookie (`max_age` 0 clears it).
pub fn flow_cookie(config: &Config, value: &str, max_age: i64) -> String {
    let mut s = format!(
        "{FLOW_COOKIE}={value}; Path=/api/auth/oidc/; HttpOnly; SameSite=Lax; Max-Age={max_age}"
    );
    if config.tls_enabled() {
        s.push_str("; Secure");
    }
    s
}

/// Whether `path` is a path on this origin (`/…`, never `//host` or `/\\host`, no control
/// characters), so that an SSO sign-in can only be sent onward within the apex.
pub fn same_origin_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn oidc() -> (Config, Oidc) {
        let env = vec![
            (
                "WRK_OIDC_CORP_ISSUER".to_owned(),
                "http://127.0.0.1:9".to_owned(),
            ),
            ("WRK_OIDC_CORP_CLIENT_ID".to_owned(), "wrk".to_owned()),
        ];
        let config = Config::load(&Settings::default(), None, &env).unwrap();
        let o = Oidc::new(&config).unwrap();
        (config, o)
    }

    #[test]
    fn only_same_origin_paths_are_carried_onward() {
        assert!(same_origin_path("/workspaces?switch=beta"));
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "/a\nb",
            "x",
        ] {
            assert!(!same_origin_path(bad), "{bad}");
        }
    }

    #[test]
    fn the_flow_cookie_is_sealed_and_bound_to_its_provider() {
        let (_, o) = oidc();
        let flow = Flow {
            p: "corp".into(),
            s: "state".into(),
            n: "nonce".into(),
            v: "verifier".into(),
            i: Some("invite".into()),
            x: Some("/workspaces?switch=acme".into()),
            e: 1,
        };
        let sealed = o.seal(&flow).unwrap();
        assert!(!sealed.contains("verifier"));
        let back = o.open(&sealed, "corp").unwrap();
        assert_eq!(back.v, "verifier");
        assert_eq!(back.i.as_deref(), Some("invite"));
        assert_eq!(back.x.as_deref(), Some("/workspaces?switch=acme"));
        assert!(o.open(&sealed, "other").is_none());
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert!(
            o.open(&String::from_utf8(tampered).unwrap(), "corp")
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_provider_that_is_down_fails_only_its_own_start() {
        let (config, o) = oidc();
        assert!(matches!(
            o.start(&config, "corp", None, None).await,
            Err(OidcError::Unavailable(_))
        ));
        assert!(matches!(
            o.start(&config, "nope", None, None).await,
            Err(OidcError::UnknownProvider(_))
        ));
        assert!(matches!(
            o.finish(&config, "corp", "code", "state", None).await,
            Err(OidcError::BadState)
        ));
    }

    /// Serves one HTTP answer with `body` as JSON on a free port; returns its URL.
    async fn answer_once(body: &'static str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let _ = s.read(&mut buf).await;
            let res = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(res.as_bytes()).await;
        });
        format!("http://{addr}/userinfo")
    }

    fn client_with_userinfo(config: &Config, o: &Oidc, userinfo: &str) -> FlowClient {
        use openidconnect::core::{
            CoreJwsSigningAlgorithm, CoreResponseType, CoreSubjectIdentifierType,
        };
        use openidconnect::{
            AuthUrl, EmptyAdditionalProviderMetadata, JsonWebKeySetUrl, ResponseTypes, UserInfoUrl,
        };
        let metadata = CoreProviderMetadata::new(
            IssuerUrl::new("http://127.0.0.1:9".into()).unwrap(),
            AuthUrl::new("http://127.0.0.1:9/auth".into()).unwrap(),
            JsonWebKeySetUrl::new("http://127.0.0.1:9/jwks".into()).unwrap(),
            vec![ResponseTypes::new(vec![CoreResponseType::Code])],
            vec![CoreSubjectIdentifierType::Public],
            vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
            EmptyAdditionalProviderMetadata {},
        )
        .set_userinfo_endpoint(Some(UserInfoUrl::new(userinfo.into()).unwrap()));
        o.client(config, "corp", metadata).unwrap()
    }

    #[tokio::test]
    async fn a_userinfo_answer_about_another_subject_is_refused() {
        let (config, o) = oidc();
        let token = openidconnect::AccessToken::new("at".into());
        let alice = openidconnect::SubjectIdentifier::new("alice".into());

        let url =
            answer_once(r#"{"sub":"mallory","email":"mallory@example.com","email_verified":true}"#)
                .await;
        let client = client_with_userinfo(&config, &o, &url);
        let refused = o.user_info(&client, "corp", &token, &alice).await;
        assert!(
            matches!(&refused, Err(OidcError::Invalid(why)) if why.contains("UserInfo")),
            "{refused:?}"
        );

        let url =
            answer_once(r#"{"sub":"alice","email":"alice@example.com","email_verified":true}"#)
                .await;
        let client = client_with_userinfo(&config, &o, &url);
        let info = o.user_info(&client, "corp", &token, &alice).await.unwrap();
        assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
    }
}
