//! Where a webhook may be sent: a public address, unless the installation
//! allows private ones (`webhooks_allow_private`). Checked when a
//! subscription is made (its address as written and as its name resolves
//! then) and again at every delivery, by the HTTP client's own resolver,
//! so a name that later resolves to an internal address (DNS rebinding)
//! reaches nothing inside.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Whether `ip` is an address on the public Internet: not loopback,
/// private, link-local, shared (CGNAT), multicast, documentation,
/// benchmarking or otherwise reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64
}

/// Checks a subscription's address as written: an `http` or `https` URL
/// without credentials, whose host, if an IP address, is public (unless
/// allowed). Returns it parsed; the host's name is checked by [`resolve`].
pub fn check_url(text: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text.trim()).map_err(|_| format!("«{text}» no es una dirección web"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("la dirección debe empezar con https:// (o http://)".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "la dirección no debe llevar usuario ni contraseña: la firma autentica cada entrega".into(),
        );
    }
    if url.fragment().is_some() {
        return Err("la dirección no debe llevar un fragmento (#…)".into());
    }
    let host = url.host_str().ok_or("la dirección no nombra un servidor")?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let literal = match bare.parse::<IpAddr>() {
        Ok(ip) => Some(ip),
        Err(_)
            if bare.eq_ignore_ascii_case("localhost")
                || bare.to_ascii_lowercase().ends_with(".localhost") =>
        {
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        }
        Err(_) => None,
    };
    if let Some(ip) = literal
        && !allow_private
        && !is_public(ip)
    {
        return Err(refusal());
    }
    Ok(url)
}

fn refusal() -> String {
    "la dirección es de una red privada, local o reservada; esta instalación solo envía a direcciones públicas (webhooks_allow_private)".into()
}

/// The addresses `host` resolves to that may be reached; an error when
/// none may.
pub async fn resolve(host: &str, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| format!("no se pudo resolver el nombre del servidor: {e}"))?
        .collect();
    let allowed: Vec<SocketAddr> = found
        .into_iter()
        .filter(|addr| allow_private || is_public(addr.ip()))
        .collect();
    if allowed.is_empty() {
        return Err(refusal());
    }
    Ok(allowed)
}

/// The HTTP client's resolver: only addresses [`resolve`] allows.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (host, allow_private) = (name.as_str().to_owned(), self.allow_private);
        Box::pin(async move {
            match resolve(&host, allow_private).await {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
                Err(message) => Err(Box::<dyn std::error::Error + Send + Sync>::from(message)),
            }
        })
    }
}

impl GuardedResolver {
    pub fn shared(allow_private: bool) -> Arc<Self> {
        Arc::new(Self { allow_private })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_ranges_are_not_public_and_the_internet_is() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!is_public(internal.parse().expect("ip")), "{internal}");
        }
        for public in ["8.8.8.8", "200.57.1.1", "2800:3f0:4001::1"] {
            assert!(is_public(public.parse().expect("ip")), "{public}");
        }
    }

    #[test]
    fn an_address_on_a_private_range_is_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9000/x",
            "http://[::1]/x",
            "https://localhost/x",
            "http://169.254.169.254/latest/meta-data",
        ] {
            assert!(check_url(url, false).is_err(), "{url}");
            assert!(check_url(url, true).is_ok(), "{url}");
        }
        assert!(check_url("ftp://example.org/", true).is_err());
        assert!(check_url("https://user:pw@example.org/", true).is_err());
        assert!(check_url("https://padron.example.org/sello", false).is_ok());
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_at_delivery() {
        assert!(resolve("localhost", false).await.is_err());
        assert!(!resolve("localhost", true).await.expect("allowed").is_empty());
    }
}
