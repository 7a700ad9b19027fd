//! Limits verification lookups per client address, so codes cannot be
//! guessed by brute force, and login attempts. Behind a reverse proxy the
//! client's address is the last one the proxy appended to
//! `X-Forwarded-For`; that header is believed only when the installation
//! says a proxy is in front.
//!
//! One process counts in memory (`governor`); instances sharing a
//! PostgreSQL database count in it ([`SharedLimit`]), or in Redis when the
//! installation names one ([`RedisLimit`]), so N instances allow what one
//! would.
//!
//! When Redis does not answer (within half a second), each instance counts
//! in its own memory until it is back, asking it again only every few
//! seconds ([`REDIS_RETRY`]) so that requests do not each wait for it: N instances then allow N times the
//! limit, for as long as the outage lasts. Refusing every request instead
//! would lock the staff out of their work and beneficiaries out of
//! checking their papers over a cache being down, while letting every
//! request through would leave the codes and passwords without any limit;
//! a per-instance limit keeps guessing slow (a verification code has far
//! more combinations than N × the limit could try) and the office working.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::AppState;
use crate::rate_limits::{RedisCounters, RedisLimit, SharedLimit};

/// Where a limit is counted.
enum Counter {
    Off,
    /// In this process.
    Local(DefaultKeyedRateLimiter<IpAddr>),
    /// Where every instance sees it.
    Shared(SharedLimit),
    /// In Redis, and in this process while Redis does not answer.
    Redis {
        limit: RedisLimit,
        fallback: DefaultKeyedRateLimiter<IpAddr>,
        /// Since when Redis failed, while it is taken for down: requests
        /// count here without asking it until [`REDIS_RETRY`] has passed
        /// (and the change is logged once, not every request).
        down_since: Mutex<Option<Instant>>,
    },
}

/// How long after Redis failed the next request asks it again; the ones
/// between count in this process without waiting for it.
const REDIS_RETRY: Duration = Duration::from_secs(5);

/// Lookups allowed per client and minute, with a burst of a quarter of it.
pub struct ClientLimiter {
    counter: Counter,
    behind_proxy: bool,
}

/// The burst a limit of `per_minute` allows: a quarter of it.
fn burst_of(per_minute: u32) -> u32 {
    (per_minute / 4).max(1)
}

impl ClientLimiter {
    /// Counted in this process. `per_minute = 0` turns the limit off (load
    /// tests).
    pub fn new(per_minute: u32, behind_proxy: bool) -> Self {
        let counter = local(per_minute).map_or(Counter::Off, Counter::Local);
        Self {
            counter,
            behind_proxy,
        }
    }

    /// Counted in Redis, shared with every instance on it, under `name`;
    /// in this process while Redis does not answer.
    pub fn redis(counters: &RedisCounters, name: &str, per_minute: u32, behind_proxy: bool) -> Self {
        let counter = match (
            RedisLimit::new(counters, name, per_minute, burst_of(per_minute)),
            local(per_minute),
        ) {
            (Some(limit), Some(fallback)) => Counter::Redis {
                limit,
                fallback,
                down_since: Mutex::new(None),
            },
            _ => Counter::Off,
        };
        Self {
            counter,
            behind_proxy,
        }
    }

    /// Counted in `store`, shared with every instance on it, under `name`.
    pub fn shared(store: crate::db::Store, name: &str, per_minute: u32, behind_proxy: bool) -> Self {
        let counter = SharedLimit::new(store, name, per_minute, burst_of(per_minute))
            .map_or(Counter::Off, Counter::Shared);
        Self {
            counter,
            behind_proxy,
        }
    }

    pub fn client(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> IpAddr {
        let forwarded = self
            .behind_proxy
            .then(|| {
                headers
                    .get("x-forwarded-for")?
                    .to_str()
                    .ok()?
                    .rsplit(',')
                    .next()?
                    .trim()
                    .parse()
                    .ok()
            })
            .flatten();
        let address = forwarded
            .or(peer.map(|p| p.ip()))
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        network_of(address)
    }

    pub async fn allows(&self, client: IpAddr) -> bool {
        match &self.counter {
            Counter::Off => true,
            Counter::Local(limiter) => check_local(limiter, client),
            Counter::Redis {
                limit,
                fallback,
                down_since,
            } => {
                let resting = down_since
                    .lock()
                    .is_ok_and(|since| since.is_some_and(|at| at.elapsed() < REDIS_RETRY));
                if resting {
                    return check_local(fallback, client);
                }
                match limit.allows(&client.to_string()).await {
                    Ok(allowed) => {
                        if down_since.lock().is_ok_and(|mut since| since.take().is_some()) {
                            tracing::info!("Redis responde de nuevo: los límites vuelven a contarse en él");
                        }
                        allowed
                    }
                    Err(error) => {
                        let first = down_since
                            .lock()
                            .is_ok_and(|mut since| since.replace(Instant::now()).is_none());
                        if first {
                            tracing::warn!(error = %error, "Redis no responde: los límites se cuentan en esta instancia hasta que vuelva");
                        }
                        check_local(fallback, client)
                    }
                }
            }
            // A database that does not answer fails the request anyway;
            // the limit does not add a second refusal.
            Counter::Shared(limit) => limit.allows(&client.to_string()).await.unwrap_or_else(|error| {
                tracing::warn!(error = %error, "no se pudo contar una consulta en la base de datos");
                true
            }),
        }
    }
}

/// A limiter of `per_minute` in this process; `None` for 0 (no limit).
fn local(per_minute: u32) -> Option<DefaultKeyedRateLimiter<IpAddr>> {
    let rate = NonZeroU32::new(per_minute)?;
    let burst = NonZeroU32::new(burst_of(per_minute)).unwrap_or(rate);
    Some(RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst)))
}

fn check_local(limiter: &DefaultKeyedRateLimiter<IpAddr>, client: IpAddr) -> bool {
    // Forget idle clients now and then, so memory stays bounded.
    if limiter.len() > 100_000 {
        limiter.retain_recent();
    }
    limiter.check_key(&client).is_ok()
}

/// The client an address stands for: an IPv6 address by its /64, which one
/// household or phone holds whole; an IPv4 address by itself.
fn network_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(bits))
            }
        },
        v4 => v4,
    }
}

/// Middleware for the lookup routes: `429` with a Spanish page or envelope.
pub async fn limit_lookups(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    let client = state.lookup_limiter.client(request.headers(), peer);
    if state.lookup_limiter.allows(client).await {
        return next.run(request).await;
    }
    state.metrics.lookup("limitado");
    let api = request.uri().path().starts_with("/api/");
    let mut response = if api {
        super::api::ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "demasiadas consultas desde esta dirección; espere un minuto",
        )
        .into_response()
    } else {
        (
            StatusCode::TOO_MANY_REQUESTS,
            super::page::layout(
                "Demasiadas consultas",
                maud::html! {
                    h1 { "Verificación de documentos" }
                    p { "Se hicieron demasiadas consultas desde esta conexión. Espere un minuto e intente de nuevo." }
                },
            ),
        )
            .into_response()
    };
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    response
}

/// The address a request came from, when the server knows it.
pub struct PeerAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| *addr),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(network_of(a), network_of(b));
        assert_ne!(network_of(a), network_of(c));
        let v4: IpAddr = "203.0.113.7".parse().expect("ip");
        assert_eq!(network_of(v4), v4);
    }

    #[test]
    fn the_forwarded_address_counts_only_behind_a_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("198.51.100.1, 203.0.113.9"),
        );
        let peer: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let direct = ClientLimiter::new(10, false);
        assert_eq!(direct.client(&headers, Some(peer)), peer.ip());
        let proxied = ClientLimiter::new(10, true);
        assert_eq!(
            proxied.client(&headers, Some(peer)),
            "203.0.113.9".parse::<IpAddr>().expect("ip")
        );
    }
}
