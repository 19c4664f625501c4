//! The client address behind trusted proxies: the value of `aws:SourceIp`
//! (API Gateway Developer Guide, "AWS condition keys that can be used in
//! API Gateway resource policies").
//!
//! `aws:SourceIp` is the TCP peer. A load balancer in front of iamgate
//! would make every caller look like the balancer, so a peer the operator
//! declared as a trusted proxy may tell the real client in
//! `X-Forwarded-For`. Anyone can write that header, so it is read only
//! from trusted peers, and only as far as the chain of trusted hops goes:
//! walking from the right (the entry the nearest proxy appended), trusted
//! addresses are skipped and the first untrusted one is the client. Any
//! entry on that walk that is not a plain IP address means the chain
//! cannot be followed, and the peer is used instead: a policy condition on
//! `aws:SourceIp` must never be satisfied by a value nobody vouched for.

use std::net::IpAddr;

use iamgate_policy::condition::Cidr;

/// The networks whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<Cidr>,
}

impl TrustedProxies {
    pub fn new(networks: Vec<Cidr>) -> Self {
        Self { networks }
    }

    /// `a.b.c.d/n`, `x::y/n` or a bare address.
    pub fn parse_network(text: &str) -> Result<Cidr, String> {
        Cidr::parse(text).ok_or_else(|| {
            format!("'{text}' is not an IP network (expected a.b.c.d/n, x::y/n or an address)")
        })
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    fn trusts(&self, addr: IpAddr) -> bool {
        self.networks.iter().any(|network| network.contains(addr))
    }

    /// The client of a connection from `peer` that carried the
    /// `X-Forwarded-For` header values `forwarded_for` (every occurrence,
    /// in the order received; repeated headers form one list).
    pub fn client_ip<'a, I>(&self, peer: IpAddr, forwarded_for: I) -> IpAddr
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let mut entries: Vec<&str> = Vec::new();
        for value in forwarded_for {
            let Ok(text) = std::str::from_utf8(value) else {
                return peer;
            };
            entries.extend(text.split(','));
        }
        let mut nearest_trusted = None;
        for entry in entries.iter().rev() {
            let Ok(addr) = entry.trim().parse::<IpAddr>() else {
                return peer;
            };
            let addr = addr.to_canonical();
            if !self.trusts(addr) {
                return addr;
            }
            nearest_trusted = Some(addr);
        }
        // Every hop is trusted: the farthest one is where the request
        // started (a client inside the trusted network). No header at all:
        // the peer is the client.
        nearest_trusted.unwrap_or(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(networks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(
            networks
                .iter()
                .filter_map(|n| TrustedProxies::parse_network(n).ok())
                .collect(),
        )
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn client(trusted: &TrustedProxies, peer: &str, headers: &[&str]) -> String {
        trusted
            .client_ip(ip(peer), headers.iter().map(|h| h.as_bytes()))
            .to_string()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let none = TrustedProxies::default();
        assert_eq!(client(&none, "192.0.2.7", &["10.1.2.3"]), "192.0.2.7");
        let elsewhere = proxies(&["10.9.0.0/16"]);
        assert_eq!(client(&elsewhere, "192.0.2.7", &["10.1.2.3"]), "192.0.2.7");
    }

    #[test]
    fn a_trusted_peer_without_the_header_is_the_client() {
        let trusted = proxies(&["127.0.0.1"]);
        assert_eq!(client(&trusted, "127.0.0.1", &[]), "127.0.0.1");
    }

    #[test]
    fn the_walk_skips_trusted_hops_from_the_right_and_stops_at_the_first_untrusted() {
        let trusted = proxies(&["10.0.0.0/8", "127.0.0.1/32"]);
        // client, spoofed-by-client, edge proxy, inner proxy
        assert_eq!(
            client(
                &trusted,
                "127.0.0.1",
                &["6.6.6.6, 198.51.100.4, 10.0.0.5, 10.0.0.9"]
            ),
            "198.51.100.4"
        );
        // The same list split over two headers.
        assert_eq!(
            client(
                &trusted,
                "127.0.0.1",
                &["6.6.6.6, 198.51.100.4", "10.0.0.5,10.0.0.9"]
            ),
            "198.51.100.4"
        );
    }

    #[test]
    fn garbage_left_of_the_client_is_never_read() {
        let trusted = proxies(&["127.0.0.1"]);
        assert_eq!(
            client(&trusted, "127.0.0.1", &["not an ip, 203.0.113.9"]),
            "203.0.113.9"
        );
    }

    #[test]
    fn a_malformed_entry_on_the_walk_falls_back_to_the_peer() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        for header in [
            "203.0.113.9, bogus",
            "203.0.113.9, 10.0.0.1:8080",
            "203.0.113.9, [2001:db8::1]",
            "203.0.113.9,,10.0.0.1",
            "",
            "203.0.113.9, unknown",
        ] {
            assert_eq!(
                client(&trusted, "127.0.0.1", &[header]),
                "127.0.0.1",
                "{header:?}"
            );
        }
        let not_utf8: &[u8] = &[0xff, 0xfe];
        assert_eq!(
            trusted.client_ip(ip("127.0.0.1"), [not_utf8]).to_string(),
            "127.0.0.1"
        );
    }

    #[test]
    fn when_every_hop_is_trusted_the_farthest_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            client(&trusted, "10.0.0.1", &["10.2.3.4, 10.0.0.7"]),
            "10.2.3.4"
        );
    }

    #[test]
    fn ipv6_and_ipv4_mapped_addresses_are_compared_canonically() {
        let trusted = proxies(&["127.0.0.1", "2001:db8::/32"]);
        // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d.
        assert_eq!(
            client(&trusted, "::ffff:127.0.0.1", &["2001:db8::5, 203.0.113.9"]),
            "203.0.113.9"
        );
        assert_eq!(
            client(&trusted, "2001:db8::1", &["2001:db9::42"]),
            "2001:db9::42"
        );
        assert_eq!(
            client(&trusted, "127.0.0.1", &["::ffff:198.51.100.1"]),
            "198.51.100.1"
        );
    }

    #[test]
    fn networks_parse_or_say_why_not() {
        assert!(TrustedProxies::parse_network("10.0.0.0/8").is_ok());
        assert!(TrustedProxies::parse_network("::1").is_ok());
        assert!(
            TrustedProxies::parse_network("10.0.0.0/33")
                .unwrap_err()
                .contains("not an IP network")
        );
        assert!(TrustedProxies::parse_network("proxy.internal").is_err());
    }
}
