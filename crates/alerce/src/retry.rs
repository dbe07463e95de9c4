//! Bounded retries with exponential backoff, and a client-side rate limit.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Hard ceiling on attempts per request, whatever the configuration says: a retry storm against a
/// public service must be impossible.
pub const MAX_ATTEMPTS_CEILING: u32 = 10;

/// When and how long to retry a 429, a 5xx or a transport failure.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (clamped to 1..=[`MAX_ATTEMPTS_CEILING`]).
    pub max_attempts: u32,
    /// Delay before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// Longest backoff delay.
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured; a longer one ends the request with an error.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    pub fn attempts(&self) -> u32 {
        self.max_attempts.clamp(1, MAX_ATTEMPTS_CEILING)
    }

    /// Backoff before attempt `attempt + 1` after attempt `attempt` (1-based) failed:
    /// base · 2^(attempt−1), capped at `max_delay`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// The wait before the next attempt: the server's `Retry-After` when it gave one (and at
    /// least the backoff), else the backoff. `Err(asked)` when the server asks for longer than
    /// `max_retry_after`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Result<Duration, Duration> {
        match retry_after {
            Some(asked) if asked > self.max_retry_after => Err(asked),
            Some(asked) => Ok(asked.max(self.backoff(attempt))),
            None => Ok(self.backoff(attempt)),
        }
    }
}

/// `Retry-After` as delay-seconds (RFC 9110 §10.2.3). The HTTP-date form is not parsed: the caller
/// then falls back to its own backoff.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Spaces request starts at least `1/rate` seconds apart, across threads.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// At most `per_second` request starts a second; 0 or a non-finite rate means no limit.
    pub fn new(per_second: f64) -> Self {
        let interval = if per_second.is_finite() && per_second > 0.0 {
            Duration::from_secs_f64(1.0 / per_second)
        } else {
            Duration::ZERO
        };
        Self {
            interval,
            next: Mutex::new(None),
        }
    }

    /// Blocks until the next request may start.
    pub fn wait(&self) {
        let sleep_for = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let start = next.map_or(now, |n| n.max(now));
            *next = Some(start + self.interval);
            start - now
        };
        if !sleep_for.is_zero() {
            std::thread::sleep(sleep_for);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        assert_eq!(p.backoff(1), Duration::from_millis(100));
        assert_eq!(p.backoff(2), Duration::from_millis(200));
        assert_eq!(p.backoff(3), Duration::from_millis(350));
        assert_eq!(p.backoff(u32::MAX), Duration::from_millis(350));
    }

    #[test]
    fn retry_after_is_honoured_up_to_a_limit() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(10),
            max_retry_after: Duration::from_secs(5),
            ..RetryPolicy::default()
        };
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(2))),
            Ok(Duration::from_secs(2))
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(9))),
            Err(Duration::from_secs(9))
        );
        assert_eq!(p.delay(1, None), Ok(Duration::from_millis(10)));
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy {
            max_attempts: 1000,
            ..RetryPolicy::default()
        };
        assert_eq!(p.attempts(), MAX_ATTEMPTS_CEILING);
        let p = RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        };
        assert_eq!(p.attempts(), 1);
    }

    #[test]
    fn rate_limiter_spaces_requests() {
        let limiter = RateLimiter::new(50.0);
        let start = Instant::now();
        for _ in 0..6 {
            limiter.wait();
        }
        // Five intervals of 20 ms after the first, immediate, start.
        assert!(start.elapsed() >= Duration::from_millis(95));
    }
}
