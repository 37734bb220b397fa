//! Rate limits on the doors people could try to force: staff and patient sign-in,
//! sign-up and forgot-password, per client address and per account; and on the open
//! times the portal shows to visitors who have not signed in, per client address (each
//! asks the engine for a month). Over the limit a request gets 429 with `Retry-After`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// The limiters of one server instance.
#[derive(Debug)]
pub struct Limits {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<[u8; 32]>,
    /// Anonymous slot pages, apart from the doors: browsing must not use up the
    /// sign-in attempts a visitor needs when they book.
    browsing: DefaultKeyedRateLimiter<IpAddr>,
    /// Requests per API key (by the key's id): another system may be busy, but one key
    /// must not take the server from everyone else.
    per_key: DefaultKeyedRateLimiter<i64>,
    /// Wrong API keys per client address, apart from sign-in attempts: an automation
    /// that keeps sending a revoked key must not lock the front desk out.
    wrong_keys: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

fn quota(burst: u32, every: Duration) -> Quota {
    Quota::with_period(every)
        .expect("a positive period")
        .allow_burst(NonZeroU32::new(burst).expect("a positive burst"))
}

impl Default for Limits {
    /// Per address: 30 attempts, then one every 2 seconds. Per account: 8 attempts,
    /// then one every 30 seconds.
    fn default() -> Self {
        Limits::new(30, Duration::from_secs(2), 8, Duration::from_secs(30))
    }
}

impl Limits {
    /// Limits with the given bursts and refill periods.
    pub fn new(
        address_burst: u32,
        address_every: Duration,
        account_burst: u32,
        account_every: Duration,
    ) -> Self {
        Limits {
            per_address: RateLimiter::keyed(quota(address_burst, address_every)),
            per_account: RateLimiter::keyed(quota(account_burst, account_every)),
            browsing: RateLimiter::keyed(quota(60, Duration::from_secs(1))),
            per_key: RateLimiter::keyed(quota(600, Duration::from_millis(10))),
            wrong_keys: RateLimiter::keyed(quota(address_burst, address_every)),
            clock: DefaultClock::default(),
        }
    }

    /// These limits, with anonymous browsing limited to `burst` slot pages from one
    /// address, then one every `every` (by default 60, then one a second: far more than
    /// a person clicks, far less than a script that wants to keep the engine busy).
    pub fn with_browsing(mut self, burst: u32, every: Duration) -> Self {
        self.browsing = RateLimiter::keyed(quota(burst, every));
        self
    }

    /// These limits, with each API key allowed `burst` requests, then one every `every`
    /// (by default 600, then 100 a second).
    pub fn with_api_keys(mut self, burst: u32, every: Duration) -> Self {
        self.per_key = RateLimiter::keyed(quota(burst, every));
        self
    }

    /// Counts one request with a wrong API key from `address` (missing, unknown, revoked
    /// or another organisation's), or refuses it with the seconds to wait. Kept apart
    /// from the sign-in attempts of [`Limits::attempt`].
    pub fn wrong_key(&self, address: IpAddr) -> Result<(), AppError> {
        self.wrong_keys
            .check_key(&address)
            .map_err(|not_until| AppError::TooManyRequests {
                retry_after: not_until.wait_time_from(self.clock.now()).as_secs().max(1),
            })
    }

    /// Counts one request of API key `key`, or refuses it with the seconds to wait.
    pub fn api_key(&self, key: i64) -> Result<(), AppError> {
        self.per_key
            .check_key(&key)
            .map_err(|not_until| AppError::TooManyRequests {
                retry_after: not_until.wait_time_from(self.clock.now()).as_secs().max(1),
            })
    }

    /// Counts one anonymous slot page (or API answer) from `address`, or refuses it with
    /// the seconds to wait. Signed-in patients are not counted: they are known.
    pub fn browse(&self, address: IpAddr) -> Result<(), AppError> {
        self.browsing
            .check_key(&address)
            .map_err(|not_until| AppError::TooManyRequests {
                retry_after: not_until.wait_time_from(self.clock.now()).as_secs().max(1),
            })
    }

    /// Counts one attempt from `address` on `account` (an email, lower-cased, with the
    /// organisation), or refuses it with the seconds to wait. The account's limit is kept
    /// per client address, so nobody can lock another person out of their account.
    pub fn attempt(&self, address: IpAddr, account: Option<&str>) -> Result<(), AppError> {
        let wait = |not_until: governor::NotUntil<_>| AppError::TooManyRequests {
            retry_after: not_until.wait_time_from(self.clock.now()).as_secs().max(1),
        };
        self.per_address.check_key(&address).map_err(wait)?;
        // Per account *and* address: wrong guesses from one client must not lock the
        // account's owner out from theirs (the per-address limit still bounds a
        // client's guesses over every account).
        // The key is a fixed-size digest: what a stranger types (up to a whole body's
        // worth) is never kept.
        if let Some(account) = account {
            let key = Sha256::digest(format!("{} {address}", account.trim().to_lowercase()));
            self.per_account.check_key(&key.into()).map_err(wait)?;
        }
        Ok(())
    }

    /// Forgets keys that have refilled (the server calls it every minute, so the
    /// limiters hold only the keys of the last few minutes).
    pub(crate) fn tidy(&self) {
        self.per_address.retain_recent();
        self.per_account.retain_recent();
        self.browsing.retain_recent();
        self.per_key.retain_recent();
        self.wrong_keys.retain_recent();
    }
}

/// The client's address (the TCP peer; put a trusted proxy's own limits in front when
/// there is one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        Ok(ClientAddress(address))
    }
}
