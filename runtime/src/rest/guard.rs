//! Who may use the REST API, checked before any handler runs. All of it
//! is off by default, as in Flink; one key turns each part on:
//! - `security.rest.token` (or `security.rest.token-file`): every request
//!   but the dashboard's own files (`/`, `/assets/*`, which hold nothing
//!   of the cluster; the page then asks for the token) must carry
//!   `Authorization: Bearer <token>`, else 401;
//! - without a token, a request that changes something (POST, PATCH,
//!   DELETE) must name this server in `Host` (`rest.address`, `localhost`
//!   or an IP address: a DNS-rebinding page names its own domain) and, if
//!   it has an `Origin`, come from this server's own pages: a foreign page
//!   (CSRF) gets 403;
//! - a changing request's body is read only as `application/json` (or
//!   untyped, as scripts send it; uploads: multipart), so a `text/plain`
//!   or form body a foreign page may send without a preflight is never
//!   parsed: 415;
//! - `web.submit.enable: false` refuses uploads, plans, runs and jar
//!   deletions, `web.cancel.enable: false` cancels and stops: 403.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppError;
use crate::config::{ConfigError, Configuration};
use crate::security::{IoRoots, Secret, SecretError};

/// The key of the REST token.
pub const TOKEN_KEY: &str = "security.rest.token";
/// The key of the file that holds it.
pub const TOKEN_FILE_KEY: &str = "security.rest.token-file";

/// Why the guard could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// The token file cannot be read.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// A flag is not a boolean.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// What the REST API lets whom do.
#[derive(Debug)]
pub struct RestGuard {
    token: Option<Secret>,
    /// `rest.address`, a name `Host` may give besides localhost and IP addresses.
    own_name: String,
    submit: bool,
    cancel: bool,
    /// `wflink.io.allowed-paths`, for savepoint targets and restores.
    pub roots: IoRoots,
}

impl RestGuard {
    /// The guard `config` sets.
    pub fn from_config(config: &Configuration) -> Result<Self, GuardError> {
        Ok(RestGuard {
            token: Secret::from_config(config, TOKEN_KEY, TOKEN_FILE_KEY)?,
            own_name: config.text("rest.address").to_ascii_lowercase(),
            submit: config.boolean("web.submit.enable")?,
            cancel: config.boolean("web.cancel.enable")?,
            roots: IoRoots::from_config(config),
        })
    }

    /// Whether jobs may be submitted (`web.submit.enable`).
    pub fn submit_enabled(&self) -> bool {
        self.submit
    }

    /// Whether jobs may be cancelled (`web.cancel.enable`).
    pub fn cancel_enabled(&self) -> bool {
        self.cancel
    }

    /// 403 unless jobs may be cancelled.
    pub fn check_cancel(&self) -> Result<(), AppError> {
        if self.cancel {
            return Ok(());
        }
        Err(forbidden("cancelling jobs through REST is disabled on this cluster (web.cancel.enable: false)"))
    }

    /// Whether a request may reach its handler.
    pub fn admit(&self, method: &Method, path: &str, headers: &HeaderMap) -> Result<(), AppError> {
        let path = path.strip_prefix("/v1").filter(|p| p.starts_with('/')).unwrap_or(path);
        if path == "/" || path.starts_with("/assets/") {
            return Ok(());
        }
        // Flink's dashboard cancels with a GET (`/jobs/:id/yarn-cancel`): it changes as much as a PATCH does.
        let changes =
            !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || path.ends_with("/yarn-cancel");
        match &self.token {
            Some(token) => authenticate(token, headers)?,
            None if changes => self.same_origin(method, headers)?,
            None => {}
        }
        if changes && path != "/jars/upload" {
            json_body(method, headers)?;
        }
        self.features(method, path)
    }

    fn same_origin(&self, method: &Method, headers: &HeaderMap) -> Result<(), AppError> {
        let host = headers.get(header::HOST).map(|h| h.to_str().unwrap_or("?"));
        if let Some(host) = host
            && !self.own_host(host)
        {
            return Err(forbidden(format!(
                "a {method} naming the host '{host}' is refused: name this server by rest.address, localhost or an IP address (or set {TOKEN_KEY})"
            )));
        }
        // A browser names a request another site's page made (an image or link needs no Origin header).
        if headers.get("sec-fetch-site").is_some_and(|site| site.as_bytes().eq_ignore_ascii_case(b"cross-site")) {
            return Err(forbidden(format!(
                "a {method} made by another site's page is refused (Sec-Fetch-Site: cross-site; or set {TOKEN_KEY})"
            )));
        }
        let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
        let origin = origin.to_str().unwrap_or("?");
        let authority = origin.split_once("://").map(|(_, authority)| authority.trim_end_matches('/'));
        let same = match (authority, host) {
            (Some(from), Some(host)) => {
                from.eq_ignore_ascii_case(host)
                    || (is_loopback(host_name(from)) && is_loopback(host_name(host)) && port(from) == port(host))
            }
            _ => false,
        };
        if same {
            return Ok(());
        }
        Err(forbidden(format!(
            "a {method} from the page at '{origin}' is refused: only this server's own pages may change it (or set {TOKEN_KEY})"
        )))
    }

    fn own_host(&self, host: &str) -> bool {
        let name = host_name(host);
        is_loopback(name) || name.parse::<IpAddr>().is_ok() || name.eq_ignore_ascii_case(&self.own_name)
    }

    /// The switches, matched on the routes they close (method and path), so
    /// another method on those paths still gets the router's 405.
    fn features(&self, method: &Method, path: &str) -> Result<(), AppError> {
        // `/jars/upload` and `/jobs/overview` are routes of their own, not ids.
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let jar_action = match (method.as_str(), segments.as_slice()) {
            ("POST", ["jars", "upload"]) | ("POST", ["jars", _, "run"]) => true,
            ("DELETE", ["jars", id]) => *id != "upload",
            ("GET" | "POST", ["jars", _, "plan"]) => true,
            _ => false,
        };
        if jar_action && !self.submit {
            return Err(forbidden(
                "submitting jobs through REST is disabled on this cluster (web.submit.enable: false)",
            ));
        }
        let cancel = match (method.as_str(), segments.as_slice()) {
            ("PATCH", ["jobs", id]) => !matches!(*id, "overview" | "metrics"),
            ("POST", ["jobs", _, "stop"]) | ("GET", ["jobs", _, "yarn-cancel"]) => true,
            ("POST", ["applications", _, "cancel"]) => true,
            _ => false,
        };
        if cancel {
            self.check_cancel()?;
        }
        Ok(())
    }
}

/// The middleware: refuses what [`RestGuard::admit`] refuses.
pub async fn guard(State(guard): State<Arc<RestGuard>>, request: Request, next: Next) -> Response {
    match guard.admit(request.method(), request.uri().path(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refused) => {
            tracing::info!(method = %request.method(), path = request.uri().path(), status = %refused.status, reason = %refused.message, "REST request refused");
            drain(request).await;
            let unauthorized = refused.status == StatusCode::UNAUTHORIZED;
            let mut response = refused.into_response();
            if unauthorized {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"wflink\""));
            }
            response
        }
    }
}

/// Most bytes of a refused request's body read (and dropped) before the answer.
const DRAIN_LIMIT: usize = 128 << 20;

/// Reads what is left of a refused request's body and drops it, chunk by
/// chunk (nothing is kept): a client still sending an upload when the
/// server answered and closed would see a broken pipe instead of the
/// refusal. The REST server's idle timeout bounds a client that stalls.
async fn drain(request: Request) {
    use futures::StreamExt;
    let mut body = request.into_body().into_data_stream();
    let mut read = 0;
    while let Some(Ok(chunk)) = body.next().await {
        read += chunk.len();
        if read > DRAIN_LIMIT {
            break;
        }
    }
}

fn authenticate(token: &Secret, headers: &HeaderMap) -> Result<(), AppError> {
    let offered = headers.get(header::AUTHORIZATION).map(|value| {
        let value = value.as_bytes();
        match value.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case(b"bearer ") => value[7..].trim_ascii(),
            _ => &[][..],
        }
    });
    match offered {
        Some(offered) if token.matches(offered) => Ok(()),
        Some(_) => Err(unauthorized("the bearer token is wrong")),
        None => Err(unauthorized(format!(
            "this cluster requires a token ({TOKEN_KEY}): send 'Authorization: Bearer <token>' (the wflink CLI reads {TOKEN_KEY} or WFLINK_REST_TOKEN)"
        ))),
    }
}

fn json_body(method: &Method, headers: &HeaderMap) -> Result<(), AppError> {
    let length = headers.get(header::CONTENT_LENGTH).and_then(|l| l.to_str().ok()?.trim().parse::<u64>().ok());
    let has_body = length.is_some_and(|l| l > 0) || headers.contains_key(header::TRANSFER_ENCODING);
    if !has_body {
        return Ok(());
    }
    // No type at all is what scripts and plain HTTP clients send; a browser
    // page can too (a Blob without a type), which the `Origin` check or the
    // token stops. A declared type other than JSON is never read as JSON.
    let Some(content_type) = headers.get(header::CONTENT_TYPE) else { return Ok(()) };
    let content_type = content_type.to_str().unwrap_or("?");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    Err(AppError {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        message: format!("a {method} body must be application/json; one of type '{content_type}' is not read"),
    })
}

fn forbidden(message: impl Into<String>) -> AppError {
    AppError { status: StatusCode::FORBIDDEN, message: message.into() }
}

fn unauthorized(message: impl Into<String>) -> AppError {
    AppError { status: StatusCode::UNAUTHORIZED, message: message.into() }
}

/// `host` of `host:port`, `[v6]:port` or `host`.
fn host_name(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => authority,
    }
}

/// The port of an authority, if it names one.
fn port(authority: &str) -> Option<&str> {
    let after_host = authority.rsplit_once(']').map_or(authority, |(_, rest)| rest);
    after_host.rsplit_once(':').map(|(_, port)| port)
}

fn is_loopback(name: &str) -> bool {
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(settings: &[&str]) -> RestGuard {
        RestGuard::from_config(&Configuration::default().with_overrides(settings).unwrap()).unwrap()
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (k.clone(), HeaderValue::from_str(v).unwrap())).collect()
    }

    fn status(guard: &RestGuard, method: Method, path: &str, pairs: &[(header::HeaderName, &str)]) -> u16 {
        guard.admit(&method, path, &headers(pairs)).map_or_else(|e| e.status.as_u16(), |()| 200)
    }

    #[test]
    fn a_token_is_required_everywhere_but_the_dashboard_files() {
        let g = guard(&["security.rest.token=t0k"]);
        assert_eq!(status(&g, Method::GET, "/overview", &[]), 401);
        assert_eq!(status(&g, Method::GET, "/v1/jobs", &[(header::AUTHORIZATION, "Bearer nope")]), 401);
        assert_eq!(status(&g, Method::GET, "/jobs", &[(header::AUTHORIZATION, "Bearer t0k")]), 200);
        assert_eq!(status(&g, Method::GET, "/jobs", &[(header::AUTHORIZATION, "bearer  t0k ")]), 200);
        assert_eq!(status(&g, Method::GET, "/", &[]), 200);
        assert_eq!(status(&g, Method::GET, "/assets/app.js", &[]), 200);
        // With a token, a foreign origin is no threat: the page cannot know the token.
        let auth = (header::AUTHORIZATION, "Bearer t0k");
        assert_eq!(
            status(&g, Method::DELETE, "/jars/x", &[auth.clone(), (header::ORIGIN, "http://evil.example")]),
            200
        );
    }

    #[test]
    fn without_a_token_changes_must_come_from_this_server() {
        let g = guard(&["rest.address=jm.internal"]);
        let host = (header::HOST, "localhost:8081");
        assert_eq!(status(&g, Method::GET, "/jobs", &[(header::ORIGIN, "http://evil.example")]), 200);
        assert_eq!(status(&g, Method::PATCH, "/jobs/x", std::slice::from_ref(&host)), 200);
        assert_eq!(
            status(&g, Method::PATCH, "/jobs/x", &[host.clone(), (header::ORIGIN, "http://localhost:8081")]),
            200
        );
        assert_eq!(
            status(&g, Method::PATCH, "/jobs/x", &[host.clone(), (header::ORIGIN, "http://127.0.0.1:8081")]),
            200
        );
        assert_eq!(status(&g, Method::PATCH, "/jobs/x", &[host.clone(), (header::ORIGIN, "http://evil.example")]), 403);
        assert_eq!(
            status(&g, Method::PATCH, "/jobs/x", &[host.clone(), (header::ORIGIN, "http://localhost:3000")]),
            403
        );
        assert_eq!(status(&g, Method::PATCH, "/jobs/x", &[host.clone(), (header::ORIGIN, "null")]), 403);
        assert_eq!(status(&g, Method::POST, "/jars/upload", &[(header::HOST, "evil.example:8081")]), 403);
        assert_eq!(status(&g, Method::POST, "/jars/upload", &[(header::HOST, "JM.internal:8081")]), 200);
        assert_eq!(status(&g, Method::POST, "/jars/upload", &[(header::HOST, "[::1]:8081")]), 200);
        // Flink's dashboard cancels with a GET: another site's image or link must not.
        let cross = header::HeaderName::from_static("sec-fetch-site");
        let yarn_cancel = "/jobs/x/yarn-cancel";
        assert_eq!(status(&g, Method::GET, yarn_cancel, &[host.clone(), (cross.clone(), "cross-site")]), 403);
        assert_eq!(status(&g, Method::GET, yarn_cancel, &[host.clone(), (header::ORIGIN, "http://evil.example")]), 403);
        assert_eq!(status(&g, Method::GET, yarn_cancel, &[(header::HOST, "evil.example:8081")]), 403);
        assert_eq!(status(&g, Method::GET, yarn_cancel, &[host.clone(), (cross.clone(), "same-origin")]), 200);
        assert_eq!(status(&g, Method::GET, "/jobs/x", &[host, (cross, "cross-site")]), 200);
    }

    #[test]
    fn only_json_bodies_are_read() {
        let g = guard(&[]);
        let post = |pairs: &[(header::HeaderName, &str)]| status(&g, Method::POST, "/jars/x/run", pairs);
        assert_eq!(post(&[(header::CONTENT_LENGTH, "2"), (header::CONTENT_TYPE, "text/plain")]), 415);
        assert_eq!(
            post(&[(header::CONTENT_LENGTH, "2"), (header::CONTENT_TYPE, "application/x-www-form-urlencoded")]),
            415
        );
        assert_eq!(post(&[(header::CONTENT_LENGTH, "2")]), 200, "no declared type: a script's body");
        assert_eq!(
            post(&[(header::CONTENT_LENGTH, "2"), (header::CONTENT_TYPE, "application/json; charset=utf-8")]),
            200
        );
        assert_eq!(post(&[(header::CONTENT_LENGTH, "0"), (header::CONTENT_TYPE, "text/plain")]), 200);
        assert_eq!(post(&[]), 200);
    }

    #[test]
    fn submit_and_cancel_can_be_switched_off() {
        let g = guard(&["web.submit.enable=false", "web.cancel.enable=false"]);
        assert_eq!(status(&g, Method::POST, "/jars/upload", &[]), 403);
        assert_eq!(status(&g, Method::POST, "/v1/jars/abc.wasm/run", &[]), 403);
        assert_eq!(status(&g, Method::GET, "/jars/abc.wasm/plan", &[]), 403);
        assert_eq!(status(&g, Method::DELETE, "/jars/abc.wasm", &[]), 403);
        assert_eq!(status(&g, Method::GET, "/jars", &[]), 200);
        assert_eq!(status(&g, Method::PATCH, "/jobs/abc", &[]), 403);
        assert_eq!(status(&g, Method::POST, "/jobs/abc/stop", &[]), 403);
        assert_eq!(status(&g, Method::GET, "/jobs/abc/yarn-cancel", &[]), 403);
        assert_eq!(status(&g, Method::POST, "/applications/abc/cancel", &[]), 403);
        assert_eq!(status(&g, Method::GET, "/jobs/abc", &[]), 200);
        // Other methods on those paths pass, for the router's 405.
        assert_eq!(status(&g, Method::PATCH, "/jobs/abc/plan", &[]), 200);
        assert_eq!(status(&g, Method::GET, "/jars/upload", &[]), 200);
        assert_eq!(status(&g, Method::DELETE, "/jars/abc.wasm/run", &[]), 200);
        assert_eq!(status(&g, Method::PATCH, "/jobs/overview", &[]), 200);
        assert_eq!(status(&g, Method::PATCH, "/jobs/metrics", &[]), 200);
        assert_eq!(status(&g, Method::DELETE, "/jars/upload", &[]), 200);
    }
}
