//! What can go wrong talking to ALeRCE, in variants a caller can act on.

use alert_model::InvalidObjectId;

#[derive(Debug, thiserror::Error)]
pub enum AlerceError {
    /// The id is not a ZTF object id; no request was sent.
    #[error(transparent)]
    InvalidObjectId(#[from] InvalidObjectId),
    /// ALeRCE answered 404: it has no such object.
    #[error("{oid} is not known to ALeRCE ({url} answered 404)")]
    NotFound { oid: String, url: String },
    /// A non-success status, after the retries allowed for it (429 and 5xx are retried).
    #[error("{url}: HTTP {status} after {attempts} attempt(s): {body}")]
    Http {
        url: String,
        status: u16,
        attempts: u32,
        body: String,
    },
    /// 429 with a `Retry-After` longer than this client is willing to wait.
    #[error(
        "{url}: rate limited (HTTP 429): the server asks to wait {retry_after_s} s, more than the {limit_s} s this client waits"
    )]
    RateLimited {
        url: String,
        retry_after_s: u64,
        limit_s: u64,
    },
    /// No answer: connection refused, timeout, reset, unreadable body.
    #[error("{url}: request failed after {attempts} attempt(s): {reason}")]
    Transport {
        url: String,
        attempts: u32,
        reason: String,
    },
    /// A body that is not JSON of the documented shape (truncated, wrong fields).
    #[error("{url}: the response is not the expected JSON: {reason}")]
    Malformed { url: String, reason: String },
    /// Not JSON at all (an HTML error page from a proxy, say).
    #[error("{url}: expected JSON, got content type {content_type:?}: {snippet}")]
    UnexpectedContent {
        url: String,
        content_type: String,
        snippet: String,
    },
}

impl AlerceError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, AlerceError::NotFound { .. })
    }
}

/// At most `n` characters of `s`, for error messages.
pub(crate) fn snippet(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().nth(n).is_some() {
        out.push('…');
    }
    out.trim().to_owned()
}
