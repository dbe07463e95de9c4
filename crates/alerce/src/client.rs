//! The blocking HTTP client: one `GET` per resource, rate-limited, retried within bounds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use alert_model::{ObjectId, Survey};
use serde::de::DeserializeOwned;

use crate::error::{AlerceError, snippet};
use crate::mapping::map_light_curve;
use crate::model::{ApiLightCurve, ApiObject, ApiProbability, parse};
use crate::object::FetchedObject;
use crate::retry::{RateLimiter, RetryPolicy, parse_retry_after};

/// The public ALeRCE ZTF API.
pub const DEFAULT_BASE_URL: &str = "https://api.alerce.online/ztf/v1";

/// Connection and politeness settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// API root, without a trailing slash (one is trimmed).
    pub base_url: String,
    /// Whole-request deadline (connect, send, read the body).
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Request starts per second, retries included; ALeRCE asks clients to be gentle.
    pub max_requests_per_second: f64,
    /// Largest response body read.
    pub max_body_bytes: u64,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            max_requests_per_second: 5.0,
            max_body_bytes: 64 << 20,
        }
    }
}

impl ClientConfig {
    pub fn with_base_url(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            ..Self::default()
        }
    }
}

/// An ALeRCE ZTF API client. Cheap to share by reference across threads.
#[derive(Debug)]
pub struct AlerceClient {
    base_url: String,
    retry: RetryPolicy,
    max_body_bytes: u64,
    agent: ureq::Agent,
    limiter: RateLimiter,
    requests: AtomicU64,
}

/// One complete response.
struct Answer {
    status: u16,
    content_type: String,
    retry_after: Option<Duration>,
    body: String,
}

impl AlerceClient {
    pub fn new(config: ClientConfig) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .user_agent(concat!("deeprubin-alerce/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Self {
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            retry: config.retry,
            max_body_bytes: config.max_body_bytes,
            agent,
            limiter: RateLimiter::new(config.max_requests_per_second),
            requests: AtomicU64::new(0),
        }
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Summary, light curve and probabilities of a ZTF object. The id is checked before any
    /// request is sent.
    pub fn fetch(&self, oid: &str) -> Result<FetchedObject, AlerceError> {
        let object_id = ObjectId::parse(Survey::Ztf, oid.trim())?;
        let summary = self.object(&object_id)?;
        let raw = self.light_curve(&object_id)?;
        let probabilities = self.probabilities(&object_id)?;
        let fallback = summary.meanra.zip(summary.meandec);
        let light_curve = map_light_curve(&raw, fallback);
        for s in &light_curve.skipped {
            tracing::debug!(object = %object_id, kind = s.kind, index = s.index, reason = %s.reason, "ALeRCE record skipped");
        }
        Ok(FetchedObject {
            object_id,
            summary,
            light_curve,
            probabilities,
        })
    }

    /// `GET /objects/{oid}`.
    pub fn object(&self, oid: &ObjectId) -> Result<ApiObject, AlerceError> {
        self.get_json(oid, "")
    }

    /// `GET /objects/{oid}/lightcurve`.
    pub fn light_curve(&self, oid: &ObjectId) -> Result<ApiLightCurve, AlerceError> {
        self.get_json(oid, "/lightcurve")
    }

    /// `GET /objects/{oid}/probabilities`.
    pub fn probabilities(&self, oid: &ObjectId) -> Result<Vec<ApiProbability>, AlerceError> {
        self.get_json(oid, "/probabilities")
    }

    fn get_json<T: DeserializeOwned>(
        &self,
        oid: &ObjectId,
        suffix: &str,
    ) -> Result<T, AlerceError> {
        // A parsed ZTF id is ASCII letters and digits: nothing to escape in the path.
        let url = format!("{}/objects/{}{suffix}", self.base_url, oid.as_str());
        let answer = self.get_with_retries(&url)?;
        match answer.status {
            200..=299 => {}
            404 => {
                return Err(AlerceError::NotFound {
                    oid: oid.to_string(),
                    url,
                });
            }
            status => {
                return Err(AlerceError::Http {
                    url,
                    status,
                    attempts: 1,
                    body: snippet(&answer.body, 300),
                });
            }
        }
        let ct = answer.content_type.to_ascii_lowercase();
        if !ct.is_empty() && !ct.contains("json") {
            return Err(AlerceError::UnexpectedContent {
                url,
                content_type: answer.content_type,
                snippet: snippet(&answer.body, 120),
            });
        }
        parse(&answer.body).map_err(|e| AlerceError::Malformed {
            url,
            reason: e.to_string(),
        })
    }

    /// GETs `url`, retrying 429, 5xx and transport failures at most `retry.attempts()` times in
    /// all. Other statuses come back as they are.
    fn get_with_retries(&self, url: &str) -> Result<Answer, AlerceError> {
        let attempts = self.retry.attempts();
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.limiter.wait();
            self.requests.fetch_add(1, Ordering::Relaxed);
            let last = attempt >= attempts;
            let (retry_after, failure) = match self.get_once(url) {
                Ok(answer) if !(answer.status == 429 || answer.status >= 500) => return Ok(answer),
                Ok(answer) => (
                    answer.retry_after,
                    AlerceError::Http {
                        url: url.to_owned(),
                        status: answer.status,
                        attempts: attempt,
                        body: snippet(&answer.body, 300),
                    },
                ),
                Err((retryable, reason)) => {
                    let err = AlerceError::Transport {
                        url: url.to_owned(),
                        attempts: attempt,
                        reason,
                    };
                    if !retryable {
                        return Err(err);
                    }
                    (None, err)
                }
            };
            if last {
                return Err(failure);
            }
            let delay = self.retry.delay(attempt, retry_after).map_err(|asked| {
                AlerceError::RateLimited {
                    url: url.to_owned(),
                    retry_after_s: asked.as_secs(),
                    limit_s: self.retry.max_retry_after.as_secs(),
                }
            })?;
            tracing::debug!(url, attempt, ?delay, error = %failure, "retrying ALeRCE request");
            std::thread::sleep(delay);
        }
    }

    /// One request; `Err((retryable, reason))` when no complete answer came back.
    fn get_once(&self, url: &str) -> Result<Answer, (bool, String)> {
        let mut response = self
            .agent
            .get(url)
            .header("Accept", "application/json")
            .call()
            .map_err(|e| (retryable(&e), e.to_string()))?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header("retry-after").as_deref().and_then(parse_retry_after);
        let content_type = header("content-type").unwrap_or_default();
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body_bytes)
            .read_to_string()
            .map_err(|e| (retryable(&e), format!("reading the response body: {e}")))?;
        Ok(Answer {
            status,
            content_type,
            retry_after,
            body,
        })
    }
}

/// Failures worth another attempt: the network, not the request.
fn retryable(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::Protocol(_)
    )
}
