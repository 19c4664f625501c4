//! ARNs and segment-wise ARN globbing (IAM User Guide: "IAM JSON policy
//! elements: Resource", and the `Arn*` condition operators).
//!
//! An ARN has six `:`-separated parts; the last (resource) keeps any further
//! `:`. Patterns are matched part by part so that a `*` in the region or
//! account can never swallow a `:` — the difference between `ArnLike` and
//! `StringLike`. The resource part is one glob where `*` spans `/` and `:`.

use crate::context::RequestContext;
use crate::variables::Template;
use crate::wildcard::{Case, matches_pieces};

/// A parsed ARN borrowing the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits `arn:partition:service:region:account:resource`; `None` when
    /// the prefix is not `arn` or there are fewer than six parts.
    pub fn parse(text: &'a str) -> Option<Arn<'a>> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        Some(Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        })
    }
}

/// A pattern for an ARN: five globbed header parts and a resource template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnPattern {
    /// partition, service, region, account.
    header: [Template; 4],
    resource: Template,
}

impl ArnPattern {
    /// Parses a policy `Resource` ARN. Variables are honoured only after the
    /// fifth colon, so the header parts are plain globs.
    pub fn parse_resource(text: &str, variables: bool) -> Option<ArnPattern> {
        let arn = Arn::parse(text)?;
        Some(ArnPattern {
            header: [
                Template::parse(arn.partition, false),
                Template::parse(arn.service, false),
                Template::parse(arn.region, false),
                Template::parse(arn.account, false),
            ],
            resource: Template::parse(arn.resource, variables),
        })
    }

    /// Parses an `Arn*` condition value, where variables may appear in any
    /// part (a `:` inside `${…}` does not split parts).
    pub fn parse_condition_value(text: &str, variables: bool) -> Option<ArnPattern> {
        if !variables || !text.contains("${") {
            let arn = Arn::parse(text)?;
            return Some(ArnPattern {
                header: [
                    Template::parse(arn.partition, false),
                    Template::parse(arn.service, false),
                    Template::parse(arn.region, false),
                    Template::parse(arn.account, false),
                ],
                resource: Template::parse(arn.resource, false),
            });
        }
        let parts = split_outside_variables(text, 6);
        let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
            return None;
        };
        if *prefix != "arn" {
            return None;
        }
        Some(ArnPattern {
            header: [
                Template::parse(partition, true),
                Template::parse(service, true),
                Template::parse(region, true),
                Template::parse(account, true),
            ],
            resource: Template::parse(resource, true),
        })
    }

    /// True when every variable resolves and every part globs its segment.
    pub fn matches(&self, arn: &Arn<'_>, context: &RequestContext) -> bool {
        let segments = [arn.partition, arn.service, arn.region, arn.account];
        for (pattern, segment) in self.header.iter().zip(segments) {
            let ok = pattern.with_pieces(context, |pieces| {
                matches_pieces(pieces, segment, Case::Sensitive)
            });
            if ok != Some(true) {
                return false;
            }
        }
        self.resource
            .with_pieces(context, |pieces| {
                matches_pieces(pieces, arn.resource, Case::Sensitive)
            })
            .unwrap_or(false)
    }

    /// The text every matching ARN must start with: the pattern up to its
    /// first wildcard or variable. Used by the index as a cheap pre-filter.
    pub fn literal_prefix(&self) -> String {
        let mut full = String::from("arn");
        for part in self.header.iter().chain(std::iter::once(&self.resource)) {
            full.push(':');
            full.push_str(part.raw());
        }
        let end = full.find(['*', '?', '$']).unwrap_or(full.len());
        full.truncate(end);
        full
    }

    pub fn service(&self) -> &str {
        self.header.get(1).map(Template::raw).unwrap_or_default()
    }
}

fn split_outside_variables(text: &str, max: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' if i > 0 && bytes.get(i - 1) == Some(&b'$') => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 && parts.len() + 1 < max => {
                parts.push(text.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text.get(start..).unwrap_or_default());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::PrincipalIdentity;
    use crate::wildcard;

    fn ctx() -> RequestContext {
        RequestContext::new(
            PrincipalIdentity::user("111122223333", "/", "alice", "AIDAX"),
            "s3:GetObject",
            None,
        )
    }

    const REQUEST: &str = "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/GET/pets/42";

    #[test]
    fn resource_examples_from_spec_section_4() {
        let cases = [
            ("arn:aws:execute-api:*:*:*", true),
            (
                "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/*",
                true,
            ),
            (
                "arn:aws:execute-api:us-east-1:*:a1b2c3d4e5/*/GET/pets/*",
                true,
            ),
            (
                "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/GET/pets/{petId}",
                false,
            ),
            (
                "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/get/*",
                false,
            ),
            (
                "arn:aws:execute-api:us-east-?:111122223333:a1b2c3d4e5/*",
                true,
            ),
            ("arn:aws:execute-api:*:111122223333:*/prod/*", true),
        ];
        let arn = Arn::parse(REQUEST).unwrap();
        for (pattern, want) in cases {
            let p = ArnPattern::parse_resource(pattern, true).unwrap();
            assert_eq!(p.matches(&arn, &ctx()), want, "{pattern}");
        }
    }

    #[test]
    fn arn_like_is_segment_wise_where_string_like_is_not() {
        let pattern = "arn:aws:someservice:*:111122223333:finance/*";
        let value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt";
        assert!(wildcard::matches(pattern, value, Case::Sensitive));
        let p = ArnPattern::parse_condition_value(pattern, true).unwrap();
        assert!(!p.matches(&Arn::parse(value).unwrap(), &ctx()));
    }

    #[test]
    fn resource_part_keeps_colons_and_spaces() {
        let arn = Arn::parse(
            "arn:aws:elasticbeanstalk:us-east-1:123456789012:environment/My App/MyEnvironment",
        )
        .unwrap();
        assert_eq!(arn.resource, "environment/My App/MyEnvironment");
        let arn = Arn::parse("arn:aws:rds:eu-west-1:123456789012:db:mysql-db").unwrap();
        assert_eq!(arn.resource, "db:mysql-db");
    }

    #[test]
    fn too_few_parts_is_not_an_arn() {
        assert!(Arn::parse("arn:aws:iam:7934:user/x").is_none());
        assert!(Arn::parse("aws:iam::1:user/x:y").is_none());
    }

    #[test]
    fn condition_variables_may_contain_colons() {
        let p =
            ArnPattern::parse_condition_value("arn:aws:iam::${aws:PrincipalAccount}:user/*", true)
                .unwrap();
        assert!(p.matches(
            &Arn::parse("arn:aws:iam::111122223333:user/bob").unwrap(),
            &ctx()
        ));
        assert!(!p.matches(
            &Arn::parse("arn:aws:iam::444455556666:user/bob").unwrap(),
            &ctx()
        ));
    }

    #[test]
    fn resource_variables_only_after_the_fifth_colon() {
        let p = ArnPattern::parse_resource("arn:aws:iam::*:user/${aws:username}", true).unwrap();
        assert!(p.matches(
            &Arn::parse("arn:aws:iam::111122223333:user/alice").unwrap(),
            &ctx()
        ));
        assert!(!p.matches(
            &Arn::parse("arn:aws:iam::111122223333:user/bob").unwrap(),
            &ctx()
        ));
    }

    #[test]
    fn every_arn_in_the_iam_rs_corpus_parses() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/iam-cases/iam-rs/arns.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let arns: Vec<String> = serde_json::from_str(&text).unwrap();
        assert_eq!(arns.len(), 146);
        for arn in &arns {
            let parsed = Arn::parse(arn).unwrap_or_else(|| panic!("{arn}"));
            assert!(ArnPattern::parse_resource(arn, true).is_some());
            let rebuilt = format!(
                "arn:{}:{}:{}:{}:{}",
                parsed.partition, parsed.service, parsed.region, parsed.account, parsed.resource
            );
            assert_eq!(&rebuilt, arn);
        }
    }
}
