//! A small client of the REST API for the CLI (and the tests): JSON in and out, Flink's
//! `{"errors": [...]}` turned into one-line errors.

use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

use rustls::pki_types::CertificateDer;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use crate::config::Configuration;
use crate::security::tls;

/// The environment variable that gives the CLI the REST token (before the configuration's).
pub const TOKEN_ENV: &str = "WFLINK_REST_TOKEN";

/// The REST API of one cluster.
pub struct RestClient {
    base: String,
    agent: ureq::Agent,
    /// `Authorization` header value, when the cluster wants a token.
    authorization: Option<String>,
}

/// `-m HOST:PORT`, else `rest.address:rest.port` of the configuration.
pub fn cluster_address(flag: Option<&str>, config: &Configuration) -> anyhow::Result<String> {
    Ok(match flag {
        Some(address) => address.to_string(),
        None => format!("{}:{}", config.text("rest.address"), config.port("rest.port")?),
    })
}

impl RestClient {
    /// A client of the cluster at `address` (`host:port` or a URL), over
    /// plain http unless the URL says https.
    pub fn new(address: &str) -> Self {
        Self::with_tls(address, false, &[])
    }

    /// A client of the cluster at `address`: `https://` when `https` (or
    /// the URL says so), trusting `roots` (none: the system's web roots).
    fn with_tls(address: &str, https: bool, roots: &[CertificateDer<'static>]) -> Self {
        let scheme = if https { "https" } else { "http" };
        let base = if address.starts_with("http://") || address.starts_with("https://") {
            address.to_string()
        } else {
            format!("{scheme}://{address}")
        };
        let mut agent =
            ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(120)));
        if !roots.is_empty() {
            let roots: Vec<Certificate<'static>> =
                roots.iter().map(|der| Certificate::from_der(der).to_owned()).collect();
            agent = agent.tls_config(TlsConfig::builder().root_certs(RootCerts::new_with_certs(&roots)).build());
        }
        RestClient { base: base.trim_end_matches('/').to_string(), agent: agent.build().into(), authorization: None }
    }

    /// A client of the cluster at `address` as `config` says to reach it:
    /// over https when `security.ssl.rest.enabled`, trusting
    /// `security.ssl.rest.ca-file`; sending the REST token, if one is
    /// given: by `WFLINK_REST_TOKEN`, else by `security.rest.token` or
    /// `security.rest.token-file`.
    pub fn from_config(address: &str, config: &Configuration) -> anyhow::Result<Self> {
        let token = match std::env::var(TOKEN_ENV) {
            Ok(token) if !token.trim().is_empty() => Some(token.trim().to_string()),
            _ => configured_token(config)?,
        };
        let https = config.boolean(tls::REST_ENABLED_KEY)?;
        let roots = tls::rest_client_roots(config)?;
        Ok(Self::with_tls(address, https, &roots).with_token(token))
    }

    /// `http(s)://host:port` of the cluster, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The HTTP agent, set up for the cluster's TLS; it answers error
    /// statuses as responses, not errors.
    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// Sends `Authorization: Bearer <token>` with every request.
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.authorization = token.map(|token| format!("Bearer {token}"));
        self
    }

    fn request<B>(&self, builder: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.authorization {
            Some(value) => builder.header("Authorization", value),
            None => builder,
        }
    }

    fn answer(
        &self,
        what: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> anyhow::Result<Value> {
        let mut response = response.with_context(|| format!("cannot reach the JobManager at {}", self.base))?;
        let status = response.status();
        let text = response.body_mut().read_to_string().with_context(|| format!("cannot read the answer to {what}"))?;
        let body: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if !status.is_success() {
            let errors = body["errors"]
                .as_array()
                .map(|e| e.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "))
                .unwrap_or_else(|| body.to_string());
            bail!("{what} failed ({status}): {errors}");
        }
        Ok(body)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        let response = self.request(self.agent.get(format!("{}{path}", self.base))).call();
        self.answer(&format!("GET {path}"), response)
    }

    /// `PATCH path`.
    pub fn patch(&self, path: &str) -> anyhow::Result<Value> {
        let response = self.request(self.agent.patch(format!("{}{path}", self.base))).send_empty();
        self.answer(&format!("PATCH {path}"), response)
    }

    /// `POST path` with a JSON body.
    pub fn post_json(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .request(self.agent.post(format!("{}{path}", self.base)))
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes());
        self.answer(&format!("POST {path}"), response)
    }

    /// Uploads a component as Flink's `POST /jars/upload` expects it;
    /// returns the jar id.
    pub fn upload(&self, file_name: &str, bytes: &[u8]) -> anyhow::Result<String> {
        let boundary = format!("wflink-{}", uuid::Uuid::new_v4().simple());
        let mut body = Vec::with_capacity(bytes.len() + 256);
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\"{}\"\r\nContent-Type: application/wasm\r\n\r\n",
                file_name.replace('"', "_")
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let response = self
            .request(self.agent.post(format!("{}/jars/upload", self.base)))
            .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
            .send(&body[..]);
        let answer = self.answer("the upload", response)?;
        let filename = answer["filename"].as_str().context("the upload answer has no filename")?;
        Ok(filename.rsplit(['/', '\\']).next().unwrap_or(filename).to_string())
    }
}

/// The token `security.rest.token` gives, else the file `security.rest.token-file` names.
fn configured_token(config: &Configuration) -> anyhow::Result<Option<String>> {
    let (key, file_key) = (crate::rest::TOKEN_KEY, crate::rest::TOKEN_FILE_KEY);
    let inline = config.text(key);
    if !inline.is_empty() {
        return Ok(Some(inline));
    }
    let file = config.text(file_key);
    if file.is_empty() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read the REST token file '{file}' ({file_key})"))?;
    Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty()))
}
