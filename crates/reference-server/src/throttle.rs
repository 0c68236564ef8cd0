//! Per-user request limits, off by default: Nexudus' documented ones (`--throttle nexudus`) or
//! one of the caller's (`--throttle 20/s`).
//!
//! Each limit is a sliding window kept as the instants of the requests it let through, so that no
//! window of its length ever holds more than its count (a fixed window lets twice the count
//! through around its edge). A request that any limit refuses is answered 409 with `Retry-After`
//! and no body ([`answer`]) and counts against none: it changed nothing.

use axum::{body::Body, response::Response};
use http::{HeaderValue, StatusCode, header};
use std::{
    collections::{HashMap, VecDeque},
    fmt,
    str::FromStr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// One limit: at most `requests` in any `window`, of every request or of writes only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests let through per window.
    pub requests: usize,
    /// The window's length.
    pub window: Duration,
    /// Whether only `POST`, `PUT`, `PATCH` and `DELETE` count.
    pub writes_only: bool,
}

/// The limits the server applies to each user; none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Every limit, all applied.
    pub limits: Vec<RateLimit>,
}

impl ThrottlePolicy {
    /// Nexudus' documented limits: every request one per 100 ms, 120 a minute, 5,000 an hour
    /// and 200,000 a day; writes 60 a minute and 5,000 a day.
    pub fn nexudus() -> Self {
        let limit = |requests, window, writes_only| RateLimit {
            requests,
            window,
            writes_only,
        };
        Self {
            limits: vec![
                limit(1, Duration::from_millis(100), false),
                limit(120, Duration::from_secs(60), false),
                limit(5_000, Duration::from_secs(60 * 60), false),
                limit(200_000, Duration::from_secs(24 * 60 * 60), false),
                limit(60, Duration::from_secs(60), true),
                limit(5_000, Duration::from_secs(24 * 60 * 60), true),
            ],
        }
    }

    /// The longest window of any limit: the most a `Retry-After` of this policy can ask.
    pub fn longest_window(&self) -> Option<Duration> {
        self.limits.iter().map(|limit| limit.window).max()
    }

    /// Whether any limit applies.
    pub fn is_off(&self) -> bool {
        self.limits.is_empty()
    }
}

/// A `--throttle` value that is neither `nexudus` nor `<N>/<s|m|h>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a throttle: use `nexudus`, `off`, or <N>/<s|m|h> with N at least 1 (`20/s`)")]
pub struct ThrottleParseError(String);

impl FromStr for ThrottlePolicy {
    type Err = ThrottleParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refuse = || ThrottleParseError(text.to_owned());
        match text {
            "nexudus" => return Ok(Self::nexudus()),
            "off" => return Ok(Self::default()),
            _ => {}
        }
        let (count, unit) = text.split_once('/').ok_or_else(refuse)?;
        let requests: usize = count.parse().map_err(|_| refuse())?;
        let window = match unit {
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(60 * 60),
            _ => return Err(refuse()),
        };
        if requests == 0 {
            return Err(refuse());
        }
        Ok(Self {
            limits: vec![RateLimit {
                requests,
                window,
                writes_only: false,
            }],
        })
    }
}

impl fmt::Display for ThrottlePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_off() {
            return f.write_str("off");
        }
        let limits: Vec<String> = self
            .limits
            .iter()
            .map(|limit| {
                format!(
                    "{} {}per {:?}",
                    limit.requests,
                    if limit.writes_only { "writes " } else { "" },
                    limit.window
                )
            })
            .collect();
        f.write_str(&limits.join(", "))
    }
}

/// The requests each user made within the windows of a policy.
#[derive(Debug)]
pub struct Throttle {
    policy: ThrottlePolicy,
    /// Per user, per limit: the instants of the requests let through, oldest first.
    users: Mutex<HashMap<String, Vec<VecDeque<Instant>>>>,
}

impl Throttle {
    /// A throttle applying `policy`.
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            users: Mutex::default(),
        }
    }

    /// Lets a request of `user` through at `now` (and counts it), or says how long until one
    /// would be let through.
    pub fn admit(&self, user: &str, write: bool, now: Instant) -> Result<(), Duration> {
        let mut users = self
            .users
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let logs = users
            .entry(user.to_owned())
            .or_insert_with(|| vec![VecDeque::new(); self.policy.limits.len()]);
        let mut wait = Duration::ZERO;
        for (limit, log) in self.policy.limits.iter().zip(logs.iter_mut()) {
            if limit.writes_only && !write {
                continue;
            }
            while log
                .front()
                .is_some_and(|oldest| now.duration_since(*oldest) >= limit.window)
            {
                log.pop_front();
            }
            if log.len() >= limit.requests {
                let oldest = log.front().copied().unwrap_or(now);
                wait = wait.max(limit.window.saturating_sub(now.duration_since(oldest)));
            }
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        for (limit, log) in self.policy.limits.iter().zip(logs.iter_mut()) {
            if write || !limit.writes_only {
                log.push_back(now);
            }
        }
        Ok(())
    }
}

/// The answer to a request over a limit, as Nexudus documents it: 409 with the reason phrase
/// "You must wait before accessing this url again.", `Retry-After`, the headers that keep it out
/// of caches, and no body. The connection closes after it, since the request's body is left
/// unread.
pub fn answer(wait: Duration) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::CONFLICT;
    response
        .extensions_mut()
        .insert(hyper::ext::ReasonPhrase::from_static(
            b"You must wait before accessing this url again.",
        ));
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after(wait)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::EXPIRES, HeaderValue::from_static("-1"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// `Retry-After` for a wait: whole seconds, as HTTP says, rounded up and at least 1.
pub fn retry_after(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0 || wait.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every(requests: usize, window: Duration) -> Throttle {
        Throttle::new(ThrottlePolicy {
            limits: vec![RateLimit {
                requests,
                window,
                writes_only: false,
            }],
        })
    }

    #[test]
    fn policies_parse_as_the_flag_documents() {
        assert_eq!("nexudus".parse(), Ok(ThrottlePolicy::nexudus()));
        assert_eq!("off".parse(), Ok(ThrottlePolicy::default()));
        let per_second: ThrottlePolicy = "20/s".parse().unwrap();
        assert_eq!(per_second.limits[0].requests, 20);
        assert_eq!(per_second.limits[0].window, Duration::from_secs(1));
        let per_minute: ThrottlePolicy = "3/m".parse().unwrap();
        assert_eq!(per_minute.limits[0].window, Duration::from_secs(60));
        let per_hour: ThrottlePolicy = "5000/h".parse().unwrap();
        assert_eq!(per_hour.limits[0].window, Duration::from_secs(3600));
        for bad in ["", "20", "0/s", "-1/s", "20/d", "x/s", "20/"] {
            assert!(bad.parse::<ThrottlePolicy>().is_err(), "{bad}");
        }
        assert_eq!(ThrottlePolicy::default().longest_window(), None);
        assert_eq!(per_minute.longest_window(), Some(Duration::from_secs(60)));
    }

    /// Every window Nexudus documents, all of them applied.
    #[test]
    fn nexudus_has_every_documented_window() {
        let limits: Vec<(usize, u64, bool)> = ThrottlePolicy::nexudus()
            .limits
            .iter()
            .map(|limit| {
                (
                    limit.requests,
                    limit.window.as_millis() as u64,
                    limit.writes_only,
                )
            })
            .collect();
        let (minute, hour, day) = (60_000, 3_600_000, 86_400_000);
        assert_eq!(
            limits,
            [
                (1, 100, false),
                (120, minute, false),
                (5_000, hour, false),
                (200_000, day, false),
                (60, minute, true),
                (5_000, day, true),
            ]
        );
        assert_eq!(
            ThrottlePolicy::nexudus().longest_window(),
            Some(Duration::from_millis(day))
        );
    }

    #[test]
    fn no_window_holds_more_than_the_limit() {
        let throttle = every(3, Duration::from_secs(1));
        let start = Instant::now();
        let at = |millis| start + Duration::from_millis(millis);
        assert!(throttle.admit("a", false, at(0)).is_ok());
        assert!(throttle.admit("a", false, at(400)).is_ok());
        assert!(throttle.admit("a", false, at(800)).is_ok());
        // A fourth within the second after the first waits for the first to leave the window.
        assert_eq!(
            throttle.admit("a", false, at(900)),
            Err(Duration::from_millis(100))
        );
        // A refused request counts against nothing.
        assert!(throttle.admit("a", false, at(1000)).is_ok());
        assert_eq!(
            throttle.admit("a", false, at(1100)),
            Err(Duration::from_millis(300))
        );
        // Each user has their own windows.
        assert!(throttle.admit("b", false, at(1100)).is_ok());
    }

    #[test]
    fn write_limits_count_writes_only() {
        let throttle = Throttle::new(ThrottlePolicy {
            limits: vec![RateLimit {
                requests: 1,
                window: Duration::from_secs(60),
                writes_only: true,
            }],
        });
        let now = Instant::now();
        assert!(throttle.admit("a", true, now).is_ok());
        assert!(throttle.admit("a", false, now).is_ok());
        assert!(throttle.admit("a", false, now).is_ok());
        assert_eq!(
            throttle.admit("a", true, now + Duration::from_secs(59)),
            Err(Duration::from_secs(1))
        );
    }

    #[test]
    fn nexudus_spaces_requests_100_ms_apart() {
        let throttle = Throttle::new(ThrottlePolicy::nexudus());
        let now = Instant::now();
        assert!(throttle.admit("a", false, now).is_ok());
        assert_eq!(
            throttle.admit("a", false, now + Duration::from_millis(30)),
            Err(Duration::from_millis(70))
        );
        assert!(
            throttle
                .admit("a", false, now + Duration::from_millis(100))
                .is_ok()
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after(Duration::from_millis(1)), 1);
        assert_eq!(retry_after(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after(Duration::ZERO), 1);
    }
}
