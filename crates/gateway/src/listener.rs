//! Where a request came in: the public listener, or an interface VPC
//! endpoint (docs/private-apis.md).
//!
//! iamgate has no VPC; a VPC endpoint is modelled as an extra listener
//! declared with `--vpc-endpoint ADDR=vpce-ID,vpc-ID`. Every request
//! accepted there carries that endpoint's `aws:SourceVpce` and
//! `aws:SourceVpc` (and its client address as `aws:VpcSourceIp`), which is
//! what lets a PRIVATE API answer it. The facts travel as one value so a
//! new per-listener fact does not add a parameter at every step.

use std::net::SocketAddr;

use iamgate_iam::request_context::VpcEndpoint;

/// One socket iamgate serves, and what it tells about its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub address: SocketAddr,
    /// `None` for the public listener (`--listen`).
    pub vpc_endpoint: Option<VpcEndpoint>,
}

impl Listener {
    /// The public listener: no VPC keys.
    pub fn public(address: SocketAddr) -> Self {
        Self {
            address,
            vpc_endpoint: None,
        }
    }

    /// Parses a `--vpc-endpoint` value: `ADDR=vpce-ID,vpc-ID`, e.g.
    /// `127.0.0.1:4567=vpce-0123456789abcdef0,vpc-0abc1234`.
    pub fn parse_vpc_endpoint(text: &str) -> Result<Listener, String> {
        let usage = || {
            format!(
                "'{text}' is not ADDR=vpce-ID,vpc-ID (e.g. 127.0.0.1:4567=vpce-0123456789abcdef0,vpc-0abc1234)"
            )
        };
        let (address, ids) = text.split_once('=').ok_or_else(usage)?;
        let (endpoint_id, vpc_id) = ids.split_once(',').ok_or_else(usage)?;
        let address: SocketAddr = address
            .parse()
            .map_err(|_| format!("'{address}' is not a listen address (IP:PORT)"))?;
        if !is_aws_id(endpoint_id, "vpce-") {
            return Err(format!(
                "'{endpoint_id}' is not a VPC endpoint id (vpce- and 8 or 17 lower-case hex digits)"
            ));
        }
        if !is_aws_id(vpc_id, "vpc-") {
            return Err(format!(
                "'{vpc_id}' is not a VPC id (vpc- and 8 or 17 lower-case hex digits)"
            ));
        }
        Ok(Listener {
            address,
            vpc_endpoint: Some(VpcEndpoint {
                endpoint_id: endpoint_id.to_owned(),
                vpc_id: vpc_id.to_owned(),
            }),
        })
    }

    /// `aws:SourceVpce` of this listener's requests.
    pub fn vpce_id(&self) -> Option<&str> {
        self.vpc_endpoint
            .as_ref()
            .map(|endpoint| endpoint.endpoint_id.as_str())
    }
}

/// EC2 resource ids: a prefix, then 8 (older) or 17 lower-case hex digits.
/// Checked so a typo cannot silently become a key no policy ever matches.
fn is_aws_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|hex| {
        matches!(hex.len(), 8 | 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vpc_endpoint_listener_parses_address_endpoint_and_vpc() {
        let listener =
            Listener::parse_vpc_endpoint("127.0.0.1:4567=vpce-0123456789abcdef0,vpc-0abc1234")
                .unwrap();
        assert_eq!(listener.address, "127.0.0.1:4567".parse().unwrap());
        assert_eq!(listener.vpce_id(), Some("vpce-0123456789abcdef0"));
        assert_eq!(
            listener.vpc_endpoint.map(|e| e.vpc_id),
            Some("vpc-0abc1234".to_owned())
        );
        assert!(
            Listener::parse_vpc_endpoint("[::1]:80=vpce-01234567,vpc-0123456789abcdef0").is_ok()
        );
        assert_eq!(
            Listener::public("127.0.0.1:1".parse().unwrap()).vpce_id(),
            None
        );
    }

    #[test]
    fn malformed_vpc_endpoint_values_say_what_is_wrong() {
        for (text, says) in [
            ("127.0.0.1:4567", "is not ADDR=vpce-ID,vpc-ID"),
            ("127.0.0.1:4567=vpce-01234567", "is not ADDR=vpce-ID,vpc-ID"),
            (
                "localhost:4567=vpce-01234567,vpc-01234567",
                "not a listen address",
            ),
            (
                "127.0.0.1:4567=vpc-01234567,vpc-01234567",
                "not a VPC endpoint id",
            ),
            (
                "127.0.0.1:4567=vpce-0123456,vpc-01234567",
                "not a VPC endpoint id",
            ),
            (
                "127.0.0.1:4567=vpce-0123456G,vpc-01234567",
                "not a VPC endpoint id",
            ),
            (
                "127.0.0.1:4567=vpce-0123456789ABCDEF0,vpc-01234567",
                "not a VPC endpoint id",
            ),
            ("127.0.0.1:4567=vpce-01234567,vpce-01234567", "not a VPC id"),
            (
                "127.0.0.1:4567=vpce-01234567,vpc-01234567,x",
                "not a VPC id",
            ),
        ] {
            let error = Listener::parse_vpc_endpoint(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
