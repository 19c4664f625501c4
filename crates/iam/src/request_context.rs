//! The condition keys every signed AWS request carries, in one place for
//! the control planes and the data plane (IAM User Guide, "AWS global
//! condition context keys").

use iamgate_policy::{PrincipalIdentity, RequestContext};

use crate::world::Caller;

/// The interface VPC endpoint a request came through (docs/private-apis.md):
/// one per `--vpc-endpoint` listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcEndpoint {
    /// `aws:SourceVpce`, `vpce-…`.
    pub endpoint_id: String,
    /// `aws:SourceVpc`, `vpc-…`.
    pub vpc_id: String,
}

/// What the transport and the request tell about a call.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts<'a> {
    /// Seconds since the epoch.
    pub now: i64,
    /// The client's address: `aws:SourceIp`, or `aws:VpcSourceIp` when the
    /// request came through a VPC endpoint.
    pub source_ip: Option<std::net::IpAddr>,
    /// The VPC endpoint the request came through; `None` on the public
    /// listener.
    pub vpc_endpoint: Option<&'a VpcEndpoint>,
    pub secure: bool,
    pub user_agent: Option<&'a str>,
    pub referer: Option<&'a str>,
    /// `aws:RequestedRegion`.
    pub region: Option<&'a str>,
    /// `execute-api:viaDomainArn`: the private custom domain name the
    /// request came through.
    pub via_domain_arn: Option<&'a str>,
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the form of `aws:CurrentTime`.
fn iso8601(epoch: i64) -> String {
    iamgate_wire::Timestamp::from_epoch_seconds(epoch).to_iso8601()
}

/// The context of `action` on `resource` by `caller` (`None`: anonymous).
pub fn request_context(
    caller: Option<&Caller>,
    action: &str,
    resource: Option<&str>,
    facts: &RequestFacts<'_>,
) -> RequestContext {
    let principal = caller.map_or_else(PrincipalIdentity::anonymous, Caller::principal_identity);
    let mut context = RequestContext::new(principal, action, resource)
        .with_key_owned("aws:CurrentTime", iso8601(facts.now))
        .with_key_owned("aws:EpochTime", facts.now.to_string())
        .with_key(
            "aws:SecureTransport",
            if facts.secure { "true" } else { "false" },
        );
    // Through a VPC endpoint the client's address is private to the VPC:
    // AWS reports it as `aws:VpcSourceIp` and leaves `aws:SourceIp` out
    // ("AWS global condition context keys"), so a public-IP condition can
    // never match it.
    let source_ip_key = match facts.vpc_endpoint {
        Some(endpoint) => {
            context = context
                .with_key("aws:SourceVpce", &endpoint.endpoint_id)
                .with_key("aws:SourceVpc", &endpoint.vpc_id);
            "aws:VpcSourceIp"
        }
        None => "aws:SourceIp",
    };
    let optional = [
        (source_ip_key, facts.source_ip.map(|ip| ip.to_string())),
        ("aws:UserAgent", facts.user_agent.map(str::to_owned)),
        ("aws:Referer", facts.referer.map(str::to_owned)),
        ("aws:RequestedRegion", facts.region.map(str::to_owned)),
        (
            "execute-api:viaDomainArn",
            facts.via_domain_arn.map(str::to_owned),
        ),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            context = context.with_key_owned(key, value);
        }
    }
    if let Some(session) = caller.and_then(Caller::session) {
        let claims = &session.claims;
        context = context
            .with_key("aws:TokenIssueTime", &iso8601(claims.issued_at))
            .with_key(
                "aws:MultiFactorAuthPresent",
                if claims.mfa_authenticated {
                    "true"
                } else {
                    "false"
                },
            );
        if let Some(source) = &claims.source_identity {
            context = context.with_key("aws:SourceIdentity", source);
        }
    }
    context
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_time_is_iso8601_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_795_277_521), "2026-11-21T16:12:01Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn anonymous_callers_get_only_the_request_keys() {
        let facts = RequestFacts {
            now: 10,
            secure: true,
            user_agent: Some("curl/8"),
            ..RequestFacts::default()
        };
        let context = request_context(
            None,
            "execute-api:Invoke",
            Some("arn:aws:execute-api:us-east-1:1:a/p/GET/"),
            &facts,
        );
        assert!(context.get("aws:PrincipalArn").is_none());
        assert!(context.get("aws:UserAgent").is_some());
        assert!(context.get("aws:SourceIp").is_none());
        assert!(context.get("aws:TokenIssueTime").is_none());
    }

    #[test]
    fn a_vpc_endpoint_adds_its_keys_and_moves_the_address_to_vpc_source_ip() {
        let endpoint = VpcEndpoint {
            endpoint_id: "vpce-0123456789abcdef0".into(),
            vpc_id: "vpc-0abc1234".into(),
        };
        let through = RequestFacts {
            source_ip: "10.1.2.3".parse().ok(),
            vpc_endpoint: Some(&endpoint),
            ..RequestFacts::default()
        };
        let context = request_context(None, "execute-api:Invoke", None, &through);
        assert_eq!(
            context.single_value("aws:sourcevpce"),
            Some("vpce-0123456789abcdef0")
        );
        assert_eq!(context.single_value("aws:sourcevpc"), Some("vpc-0abc1234"));
        assert_eq!(context.single_value("aws:vpcsourceip"), Some("10.1.2.3"));
        assert!(context.get("aws:SourceIp").is_none());

        let public = RequestFacts {
            vpc_endpoint: None,
            ..through
        };
        let context = request_context(None, "execute-api:Invoke", None, &public);
        assert_eq!(context.single_value("aws:sourceip"), Some("10.1.2.3"));
        for key in ["aws:SourceVpce", "aws:SourceVpc", "aws:VpcSourceIp"] {
            assert!(context.get(key).is_none(), "{key}");
        }
    }
}
