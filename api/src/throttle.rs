//! Failed sign-ins, counted per client: a bad bearer token on `/graphql` (a request or a
//! websocket's sign-in) and a bad token at the pages' sign-in (`/aanmelden`). A client with
//! [`SignInLimit::max_failures`] failures within [`SignInLimit::window`] is refused with 429
//! until that window ends, before its token is looked at. Successful sign-ins are neither
//! counted nor slowed, and do not wipe the failures out.
//!
//! A client is its peer address (an IPv6 address by its /64 network, which one household or
//! host usually has whole); behind a reverse proxy listed in [`SignInLimit::trusted_proxies`],
//! the address that proxy names in `X-Forwarded-For`. At most
//! [`SignInLimit::max_clients`] clients are remembered: the one whose window began first is
//! forgotten first, so memory stays bounded whatever the number of addresses.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request};

/// How failed sign-ins are limited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInLimit {
    /// Failures a client may have in one window; the next request with a token is refused
    /// until the window ends. Zero: no limit.
    pub max_failures: u32,
    /// How long a window lasts, from a client's first failure in it.
    pub window: Duration,
    /// Most clients remembered at once.
    pub max_clients: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client; any other peer is the client
    /// itself, whatever it sends.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for SignInLimit {
    fn default() -> Self {
        Self {
            max_failures: 10,
            window: Duration::from_secs(60),
            max_clients: 100_000,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Who a request comes from, for counting failed sign-ins: `None` when the server was not told
/// its peer (a router served without connection info), then nothing is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Client(pub(crate) Option<IpAddr>);

impl Client {
    /// The client of a request: its peer, or the address a trusted proxy forwarded for.
    pub(crate) fn of<B>(request: &Request<B>, limit: &SignInLimit) -> Self {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        Self(peer.map(|peer| forwarded_client(peer, request.headers(), &limit.trusted_proxies)))
    }
}

/// The client behind `peer`: the right-most address of `X-Forwarded-For` that is not a trusted
/// proxy, when `peer` is one; else `peer`.
fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&canonical(peer)) {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for entry in forwarded.iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(address) if trusted.contains(&canonical(address)) => continue,
            Ok(address) => return address,
            // What a trusted proxy wrote is malformed: nothing further left can be trusted.
            Err(_) => return peer,
        }
    }
    peer
}

/// An IPv4 address carried in IPv6 (`::ffff:a.b.c.d`) as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The key a client is counted under: an IPv4 address, or an IPv6 address's /64 network.
fn key(address: IpAddr) -> IpAddr {
    match canonical(address) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// A client's failures in its current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

#[derive(Debug, Default)]
struct Counts {
    clients: HashMap<IpAddr, Window>,
    /// Clients by the start of their window, oldest first; an entry whose start no longer
    /// matches its client's window is stale and skipped.
    order: VecDeque<(Instant, IpAddr)>,
}

/// The failed sign-ins of every client this server remembers.
#[derive(Debug)]
pub(crate) struct FailedSignIns {
    limit: SignInLimit,
    counts: Mutex<Counts>,
}

impl FailedSignIns {
    pub(crate) fn new(limit: SignInLimit) -> Self {
        Self {
            limit,
            counts: Mutex::default(),
        }
    }

    /// How long the client must wait before it may sign in again; `None` when it may now.
    pub(crate) fn refused(&self, client: Client) -> Option<Duration> {
        let address = client.0?;
        if self.limit.max_failures == 0 {
            return None;
        }
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let window = counts.clients.get(&key(address))?;
        let left = self.limit.window.checked_sub(window.started.elapsed())?;
        (window.failures >= self.limit.max_failures && !left.is_zero())
            .then(|| left.max(Duration::from_secs(1)))
    }

    /// Counts one failed sign-in of the client.
    pub(crate) fn failed(&self, client: Client) {
        let Some(address) = client.0 else { return };
        if self.limit.max_failures == 0 || self.limit.max_clients == 0 {
            return;
        }
        let key = key(address);
        let now = Instant::now();
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let counts = &mut *counts;
        let current = counts
            .clients
            .get(&key)
            .filter(|w| now.duration_since(w.started) < self.limit.window)
            .copied();
        match current {
            Some(window) => {
                let failures = window.failures.saturating_add(1);
                counts.clients.insert(key, Window { failures, ..window });
            }
            None => {
                self.forget_expired(counts, now);
                while counts.clients.len() >= self.limit.max_clients {
                    let Some((started, oldest)) = counts.order.pop_front() else {
                        break;
                    };
                    if counts.clients.get(&oldest).map(|w| w.started) == Some(started) {
                        counts.clients.remove(&oldest);
                    }
                }
                counts.clients.insert(
                    key,
                    Window {
                        started: now,
                        failures: 1,
                    },
                );
                counts.order.push_back((now, key));
            }
        }
    }

    /// Forgets the clients whose window has ended, oldest first.
    fn forget_expired(&self, counts: &mut Counts, now: Instant) {
        while let Some(&(started, client)) = counts.order.front() {
            let current = counts.clients.get(&client).map(|w| w.started) == Some(started);
            if current && now.duration_since(started) < self.limit.window {
                break;
            }
            counts.order.pop_front();
            if current {
                counts.clients.remove(&client);
            }
        }
    }

    /// How many clients are remembered now.
    #[cfg(test)]
    fn remembered(&self) -> (usize, usize) {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        (counts.clients.len(), counts.order.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(max_failures: u32, window: Duration, max_clients: usize) -> FailedSignIns {
        FailedSignIns::new(SignInLimit {
            max_failures,
            window,
            max_clients,
            trusted_proxies: Vec::new(),
        })
    }

    fn client(text: &str) -> Client {
        Client(Some(text.parse().expect("an address")))
    }

    #[test]
    fn a_client_is_refused_after_its_failures_until_the_window_ends() {
        let limiter = limiter(3, Duration::from_millis(300), 10);
        let a = client("192.0.2.1");
        for _ in 0..3 {
            assert_eq!(limiter.refused(a), None);
            limiter.failed(a);
        }
        let wait = limiter.refused(a).expect("refused after 3 failures");
        assert!(
            wait >= Duration::from_secs(1),
            "Retry-After is at least a second"
        );
        assert_eq!(limiter.refused(client("192.0.2.2")), None, "others are not");
        std::thread::sleep(Duration::from_millis(350));
        assert_eq!(limiter.refused(a), None, "a new window");
        limiter.failed(a);
        assert_eq!(limiter.refused(a), None, "counted afresh");
    }

    #[test]
    fn an_ipv6_network_counts_as_one_client_and_unknown_peers_not_at_all() {
        let limiter = limiter(2, Duration::from_secs(60), 10);
        limiter.failed(client("2001:db8:1:2::1"));
        limiter.failed(client("2001:db8:1:2:ffff::9"));
        assert!(limiter.refused(client("2001:db8:1:2::77")).is_some());
        assert_eq!(limiter.refused(client("2001:db8:1:3::1")), None);
        limiter.failed(client("::ffff:192.0.2.7"));
        limiter.failed(client("192.0.2.7"));
        assert!(limiter.refused(client("192.0.2.7")).is_some());
        limiter.failed(Client(None));
        limiter.failed(Client(None));
        assert_eq!(limiter.refused(Client(None)), None);
    }

    #[test]
    fn memory_stays_bounded_whatever_the_number_of_clients() {
        let limiter = limiter(5, Duration::from_secs(60), 100);
        for i in 0..10_000u32 {
            let address = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            limiter.failed(Client(Some(address)));
            limiter.failed(Client(Some(address)));
        }
        let (clients, order) = limiter.remembered();
        assert!(clients <= 100, "{clients} clients remembered");
        assert!(order <= 100, "{order} entries in the order");
        // The newest are the ones remembered.
        let last = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + 9_999));
        for _ in 0..3 {
            limiter.failed(Client(Some(last)));
        }
        assert!(limiter.refused(Client(Some(last))).is_some());
    }

    #[test]
    fn zero_failures_means_no_limit() {
        let limiter = limiter(0, Duration::from_secs(60), 10);
        for _ in 0..100 {
            limiter.failed(client("192.0.2.1"));
        }
        assert_eq!(limiter.refused(client("192.0.2.1")), None);
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let trusted: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()];
        let headers = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert("x-forwarded-for", value.parse().unwrap());
            h
        };
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let stranger: IpAddr = "198.51.100.4".parse().unwrap();
        let forged = headers("203.0.113.9, 192.0.2.5, 10.0.0.2");
        assert_eq!(
            forwarded_client(proxy, &forged, &trusted),
            "192.0.2.5".parse::<IpAddr>().unwrap(),
            "the right-most address no trusted proxy wrote"
        );
        assert_eq!(forwarded_client(stranger, &forged, &trusted), stranger);
        assert_eq!(forwarded_client(proxy, &HeaderMap::new(), &trusted), proxy);
        assert_eq!(
            forwarded_client(proxy, &headers("nonsense, 192.0.2.5"), &trusted),
            "192.0.2.5".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            forwarded_client(proxy, &headers("192.0.2.5, nonsense"), &trusted),
            proxy
        );
    }
}
