//! An in-process gateway on a temporary SQLite store, and clients that
//! sign their Query requests with AWS's own `aws-sigv4` crate, as the AWS
//! CLI and SDKs do.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use iamgate_control::{ControlPlane, ControlPlanes, QueryService, Request, Response, Service};
use iamgate_iam::WorldConfig;
use iamgate_store::{SecretCipher, Store};

/// The pinned clock of every test (requests are signed at this time).
pub const NOW: i64 = 1_750_000_000;

pub struct Gateway {
    pub planes: ControlPlanes,
    _dir: tempfile::TempDir,
}

impl Gateway {
    /// A gateway whose store starts with the world file `yaml`.
    pub async fn start(yaml: &str) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("iamgate.db").display());
        Self::start_on(&url, yaml, dir).await
    }

    /// A gateway on the store at `url` (which `dir`, if it holds it, must
    /// outlive), whose store starts with the world file `yaml`.
    pub async fn start_on(url: &str, yaml: &str, dir: tempfile::TempDir) -> Gateway {
        let store = Store::open(url).await.unwrap();
        let plane = ControlPlane::open(store, SecretCipher::from_key(&[7; 32]))
            .await
            .unwrap()
            .with_clock(Arc::new(|| NOW));
        let config = WorldConfig::parse(yaml).unwrap_or_else(|e| panic!("world file: {e:?}"));
        plane.apply_config(&config).await.unwrap();
        Gateway {
            planes: ControlPlanes::new(Arc::new(plane)),
            _dir: dir,
        }
    }

    pub fn client(&self, access_key: &str, secret: &str) -> Client<'_> {
        Client {
            gateway: self,
            access_key: access_key.to_owned(),
            secret: secret.to_owned(),
            token: None,
        }
    }
}

/// Credentials to call the gateway with.
pub struct Client<'g> {
    gateway: &'g Gateway,
    pub access_key: String,
    pub secret: String,
    pub token: Option<String>,
}

impl Client<'_> {
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Calls IAM `action` with `params`.
    pub async fn iam(&self, action: &str, params: &[(&str, &str)]) -> Reply {
        self.call(QueryService::Iam, "2010-05-08", action, params)
            .await
    }

    /// Calls STS `action` with `params`.
    pub async fn sts(&self, action: &str, params: &[(&str, &str)]) -> Reply {
        self.call(QueryService::Sts, "2011-06-15", action, params)
            .await
    }

    async fn call(
        &self,
        service: QueryService,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Reply {
        let mut pairs = vec![("Action", action), ("Version", version)];
        pairs.extend_from_slice(params);
        let body = iamgate_wire::form::encode_form(pairs);
        let request = sign_request(
            service.signing_name(),
            &self.access_key,
            &self.secret,
            self.token.as_deref(),
            body,
        );
        let service = Service::Query(service);
        assert_eq!(ControlPlanes::route(&request), Some(service));
        let response: Response = self.gateway.planes.handle(service, &request).await;
        Reply {
            status: response.status,
            body: String::from_utf8(response.body).unwrap(),
        }
    }
}

/// A POST of `body` to `https://<service>.amazonaws.com/`, signed by aws-sigv4.
pub fn sign_request(
    service: &str,
    access_key: &str,
    secret: &str,
    token: Option<&str>,
    body: String,
) -> Request {
    sign_call(
        Call {
            service,
            method: "POST",
            target: "/",
            content_type: "application/x-www-form-urlencoded; charset=utf-8",
        },
        access_key,
        secret,
        token,
        body,
    )
}

/// What a signed request is: service, method, path and query, content type.
pub struct Call<'a> {
    pub service: &'a str,
    pub method: &'a str,
    pub target: &'a str,
    pub content_type: &'a str,
}

/// `call` with `body`, signed by aws-sigv4 in us-east-1 at `NOW`.
pub fn sign_call(
    call: Call<'_>,
    access_key: &str,
    secret: &str,
    token: Option<&str>,
    body: String,
) -> Request {
    let host = format!("{}.amazonaws.com", call.service);
    let headers = vec![
        ("host".to_owned(), host.clone()),
        ("content-type".to_owned(), call.content_type.to_owned()),
    ];
    let identity: Identity =
        Credentials::new(access_key, secret, token.map(str::to_owned), None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(call.service)
        .time(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(NOW).unwrap()))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let uri = format!("https://{host}{}", call.target);
    let signable = SignableRequest::new(
        call.method,
        uri.as_str(),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let (added, _) = instructions.into_parts();
    let mut wire: Vec<(String, Vec<u8>)> = headers
        .into_iter()
        .map(|(n, v)| (n, v.into_bytes()))
        .collect();
    for header in &added {
        wire.push((header.name().to_owned(), header.value().as_bytes().to_vec()));
    }
    Request {
        method: call.method.to_owned(),
        target: call.target.to_owned(),
        headers: wire,
        body: body.into_bytes(),
        source_ip: None,
        secure: true,
    }
}

/// A response: status and XML body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    /// The text of the first `<tag>` element.
    pub fn text(&self, tag: &str) -> Option<String> {
        self.texts(tag).into_iter().next()
    }

    /// The text of every `<tag>` element, in document order.
    pub fn texts(&self, tag: &str) -> Vec<String> {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let mut found = Vec::new();
        let mut rest = self.body.as_str();
        while let Some(start) = rest.find(&open) {
            let after = &rest[start + open.len()..];
            let Some(end) = after.find(&close) else { break };
            found.push(unescape(&after[..end]));
            rest = &after[end + close.len()..];
        }
        found
    }

    /// The text of `<tag>`, which must be there.
    pub fn get(&self, tag: &str) -> String {
        self.text(tag)
            .unwrap_or_else(|| panic!("no <{tag}> in {}", self.body))
    }

    /// Asserts success (200).
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(self.status, 200, "{}", self.body);
        self
    }

    /// Asserts an error with this status, code and message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(
            (
                self.status,
                self.text("Code").as_deref(),
                self.text("Message").as_deref()
            ),
            (status, Some(code), Some(message)),
            "{}",
            self.body
        );
    }
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Decodes an RFC 3986 percent-encoded document.
pub fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Runs `case` with the URL of a fresh PostgreSQL schema in the database
/// of `IAMGATE_TEST_POSTGRES_URL`, and drops the schema afterwards whether
/// the case passed or not. Without the variable, prints SKIP and returns.
pub async fn on_postgres<F, Fut>(prefix: &str, case: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use sqlx::Connection as _;
    let Ok(admin_url) = std::env::var("IAMGATE_TEST_POSTGRES_URL") else {
        eprintln!("SKIP: IAMGATE_TEST_POSTGRES_URL not set");
        return;
    };
    let schema = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let mut admin = sqlx::postgres::PgConnection::connect(&admin_url)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&mut admin)
        .await
        .unwrap();
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{separator}options[search_path]={schema}");
    let outcome = tokio::spawn(case(url)).await;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}
