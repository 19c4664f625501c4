#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Truth tables for every condition operator (IAM User Guide, "IAM JSON
//! policy elements: Condition operators").

use iamgate_policy::condition::{BASE_OPERATORS, BaseOperator, Family, all_clauses_hold};
use iamgate_policy::{PolicyDocument, PolicyKind, PrincipalIdentity, RequestContext};

fn alice() -> RequestContext {
    RequestContext::new(
        PrincipalIdentity::user("111122223333", "/", "alice", "AIDAJQABLZS4A3QDU576Q"),
        "s3:GetObject",
        Some("arn:aws:s3:::bucket/key"),
    )
}

/// Whether the Condition block `condition` (JSON) holds for `ctx`.
fn holds(condition: &str, ctx: &RequestContext) -> bool {
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{condition}}}}}"#
    );
    let doc = PolicyDocument::parse(&text, PolicyKind::InlineIdentity)
        .unwrap_or_else(|e| panic!("{condition}: {e:?}"));
    all_clauses_hold(&doc.statements[0].conditions, ctx, false)
}

fn with(key: &str, value: Option<&str>) -> RequestContext {
    match value {
        Some(v) => alice().with_key(key, v),
        None => alice(),
    }
}

#[test]
fn single_valued_key_truth_table_of_spec_6_3() {
    let columns = [
        r#"{"StringEquals":{"k:x":["a","b"]}}"#,
        r#"{"StringNotEquals":{"k:x":["a","b"]}}"#,
        r#"{"StringEqualsIfExists":{"k:x":["a","b"]}}"#,
        r#"{"StringNotEqualsIfExists":{"k:x":["a","b"]}}"#,
        r#"{"Null":{"k:x":"true"}}"#,
        r#"{"Null":{"k:x":"false"}}"#,
    ];
    let rows: [(Option<&str>, [bool; 6]); 4] = [
        (Some("a"), [true, false, true, false, false, true]),
        (Some("c"), [false, true, false, true, false, true]),
        (None, [false, true, true, true, true, false]),
        (Some(""), [false, true, false, true, false, true]),
    ];
    for (value, expected) in rows {
        let ctx = with("k:x", value);
        for (condition, want) in columns.iter().zip(expected) {
            assert_eq!(holds(condition, &ctx), want, "{condition} with {value:?}");
        }
    }
}

#[test]
fn multivalued_key_truth_table_of_spec_6_4() {
    let columns = [
        r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
        r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
        r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a","b"]}}"#,
        r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":["a","b"]}}"#,
        r#"{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["a","b"]}}"#,
        r#"{"StringEquals":{"aws:TagKeys":["a","b"]}}"#,
    ];
    let rows: [(Option<&[&str]>, [bool; 6]); 5] = [
        (Some(&["a"]), [true, true, false, false, true, false]),
        (Some(&["a", "c"]), [true, false, true, false, true, false]),
        (Some(&["c"]), [false, false, true, true, false, false]),
        (Some(&[]), [false, true, false, true, false, false]),
        (None, [false, true, false, true, true, false]),
    ];
    for (set, expected) in rows {
        let ctx = match set {
            Some(values) => alice().with_multi_key("aws:TagKeys", values),
            None => alice(),
        };
        for (condition, want) in columns.iter().zip(expected) {
            assert_eq!(holds(condition, &ctx), want, "{condition} with {set:?}");
        }
    }
}

#[test]
fn qualifier_on_a_single_valued_key_treats_it_as_a_one_element_set() {
    let ctx = alice().with_key("k:x", "a");
    assert!(holds(
        r#"{"ForAllValues:StringEquals":{"k:x":["a","b"]}}"#,
        &ctx
    ));
    assert!(holds(r#"{"ForAnyValue:StringEquals":{"k:x":"a"}}"#, &ctx));
    assert!(!holds(r#"{"ForAnyValue:StringEquals":{"k:x":"b"}}"#, &ctx));
    // An empty string is a null data set for qualifiers.
    let empty = alice().with_key("k:x", "");
    assert!(holds(
        r#"{"ForAllValues:StringEquals":{"k:x":"b"}}"#,
        &empty
    ));
    assert!(!holds(
        r#"{"ForAnyValue:StringEquals":{"k:x":"b"}}"#,
        &empty
    ));
}

#[test]
fn for_all_values_string_not_like_aws_example() {
    let condition = r#"{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}"#;
    assert!(!holds(
        condition,
        &alice().with_multi_key("aws:TagKeys", &["key1:legal"])
    ));
    assert!(holds(
        condition,
        &alice().with_multi_key("aws:TagKeys", &["key2:audit"])
    ));
    assert!(holds(condition, &alice()));
}

/// A valid policy value per family, for the missing-key table.
fn sample_value(family: Family) -> &'static str {
    match family {
        Family::String => "a",
        Family::Numeric => "10",
        Family::Date => "2026-01-01T00:00:00Z",
        Family::Bool => "true",
        Family::Binary => "QmluYXJ5",
        Family::Ip => "10.0.0.0/8",
        Family::Arn => "arn:aws:iam::111122223333:role/*",
        Family::Null => "true",
    }
}

#[test]
fn missing_key_under_every_operator_follows_polarity_and_if_exists() {
    for (name, op) in BASE_OPERATORS {
        let family = op.family();
        let value = sample_value(family);
        let plain = format!(r#"{{"{name}":{{"k:missing":"{value}"}}}}"#);
        let expected = if op == BaseOperator::Null {
            true
        } else {
            op.is_negated()
        };
        assert_eq!(
            holds(&plain, &alice()),
            expected,
            "{name} with the key absent"
        );
        if op != BaseOperator::Null {
            let if_exists = format!(r#"{{"{name}IfExists":{{"k:missing":"{value}"}}}}"#);
            assert!(
                holds(&if_exists, &alice()),
                "{name}IfExists with the key absent"
            );
            let any = format!(r#"{{"ForAnyValue:{name}":{{"k:missing":"{value}"}}}}"#);
            assert!(
                !holds(&any, &alice()),
                "ForAnyValue:{name} with the key absent"
            );
            let all = format!(r#"{{"ForAllValues:{name}":{{"k:missing":"{value}"}}}}"#);
            assert!(
                holds(&all, &alice()),
                "ForAllValues:{name} with the key absent"
            );
            let empty_set = alice().with_multi_key::<&str>("k:missing", &[]);
            assert!(
                !holds(&any, &empty_set),
                "ForAnyValue:{name} on an empty set"
            );
            assert!(
                holds(&all, &empty_set),
                "ForAllValues:{name} on an empty set"
            );
        }
    }
}

#[test]
fn every_operator_on_present_values() {
    // (operator, policy value, request value, expected)
    let table: &[(&str, &str, &str, bool)] = &[
        ("StringEquals", "abc", "abc", true),
        ("StringEquals", "abc", "ABC", false),
        ("StringEquals", "a*", "abc", false),
        ("StringEquals", "a*", "a*", true),
        ("StringNotEquals", "abc", "abc", false),
        ("StringNotEquals", "abc", "x", true),
        ("StringEqualsIgnoreCase", "DEV", "dev", true),
        ("StringEqualsIgnoreCase", "DEV", "ops", false),
        ("StringNotEqualsIgnoreCase", "DEV", "dev", false),
        ("StringNotEqualsIgnoreCase", "DEV", "ops", true),
        ("StringLike", "a*c", "abbc", true),
        ("StringLike", "a?c", "abc", true),
        ("StringLike", "a?c", "abbc", false),
        ("StringLike", "a*c", "ABC", false),
        ("StringNotLike", "a*", "abc", false),
        ("StringNotLike", "a*", "b", true),
        ("NumericEquals", "10", "10.0", true),
        ("NumericEquals", "10", "11", false),
        ("NumericEquals", "10", "ten", false),
        ("NumericNotEquals", "10", "11", true),
        ("NumericNotEquals", "10", "10", false),
        ("NumericNotEquals", "10", "ten", false),
        ("NumericLessThan", "10", "9", true),
        ("NumericLessThan", "10", "10", false),
        ("NumericLessThan", "1700000000", "1795277521", false),
        ("NumericLessThanEquals", "10", "10", true),
        ("NumericLessThanEquals", "10", "11", false),
        ("NumericGreaterThan", "10", "11", true),
        ("NumericGreaterThan", "10", "10", false),
        ("NumericGreaterThanEquals", "10", "10", true),
        ("NumericGreaterThanEquals", "10", "9.5", false),
        (
            "DateEquals",
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            true,
        ),
        ("DateEquals", "2026-01-01T00:00:00Z", "1767225600", true),
        ("DateEquals", "2026-01-01", "2026-01-01T00:00:00Z", true),
        ("DateEquals", "2026-01-01T00:00:00Z", "not a date", false),
        ("DateNotEquals", "2026-01-01T00:00:00Z", "2026-01-02", true),
        (
            "DateNotEquals",
            "2026-01-01T00:00:00Z",
            "2026-01-01T02:00:00+02:00",
            false,
        ),
        (
            "DateLessThan",
            "2026-01-01T00:00:00Z",
            "2025-12-31T23:59:59Z",
            true,
        ),
        (
            "DateLessThan",
            "2026-01-01T00:00:00Z",
            "2026-01-01T01:00:00+02:00",
            true,
        ),
        (
            "DateLessThan",
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            false,
        ),
        (
            "DateLessThanEquals",
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            true,
        ),
        (
            "DateGreaterThan",
            "2026-01-01T00:00:00Z",
            "2026-11-21T16:12:01Z",
            true,
        ),
        (
            "DateGreaterThan",
            "2026-01-01T00:00:00Z",
            "2025-11-21T16:12:01Z",
            false,
        ),
        (
            "DateGreaterThanEquals",
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00.000Z",
            true,
        ),
        ("Bool", "true", "true", true),
        ("Bool", "true", "TRUE", true),
        ("Bool", "false", "true", false),
        ("BinaryEquals", "QmluYXJ5", "QmluYXJ5", true),
        ("BinaryEquals", "QmluYXJ5", "eA==", false),
        ("IpAddress", "203.0.113.0/24", "203.0.113.7", true),
        ("IpAddress", "203.0.113.7", "203.0.113.8", false),
        (
            "IpAddress",
            "2001:DB8:1234:5678::/64",
            "2001:db8:1234:5678::1",
            true,
        ),
        ("IpAddress", "2001:DB8:1234:5678::/64", "203.0.113.7", false),
        ("IpAddress", "10.0.0.0/8", "not-an-ip", false),
        ("NotIpAddress", "10.0.0.0/8", "192.0.2.1", true),
        ("NotIpAddress", "10.0.0.0/8", "10.1.2.3", false),
        (
            "ArnEquals",
            "arn:aws:iam::111122223333:role/*",
            "arn:aws:iam::111122223333:role/app",
            true,
        ),
        (
            "ArnLike",
            "arn:aws:iam::111122223333:role/*",
            "arn:aws:iam::444455556666:role/app",
            false,
        ),
        ("ArnLike", "arn:aws:iam::*:role/*", "not-an-arn", false),
        (
            "ArnNotEquals",
            "arn:aws:iam::111122223333:role/*",
            "arn:aws:iam::111122223333:role/app",
            false,
        ),
        (
            "ArnNotLike",
            "arn:aws:iam::111122223333:role/*",
            "arn:aws:iam::444455556666:role/app",
            true,
        ),
        (
            "ArnNotLike",
            "arn:aws:iam::111122223333:role/*",
            "not-an-arn",
            false,
        ),
    ];
    for (op, policy, request, want) in table {
        let condition = format!(r#"{{"{op}":{{"k:x":"{policy}"}}}}"#);
        assert_eq!(
            holds(&condition, &with("k:x", Some(request))),
            *want,
            "{op} {policy} vs {request}"
        );
    }
}

#[test]
fn several_values_or_and_negated_values_nor() {
    let ctx = with("aws:SourceIp", Some("198.51.100.1"));
    assert!(holds(
        r#"{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}"#,
        &ctx
    ));
    let inside = with("aws:SourceIp", Some("203.0.113.9"));
    assert!(!holds(
        r#"{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}"#,
        &inside
    ));
    assert!(holds(
        r#"{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}"#,
        &inside
    ));
}

#[test]
fn several_keys_and_several_operators_are_anded() {
    let ctx = alice().with_key("k:a", "1").with_key("k:b", "2");
    assert!(holds(r#"{"StringEquals":{"k:a":"1","k:b":"2"}}"#, &ctx));
    assert!(!holds(r#"{"StringEquals":{"k:a":"1","k:b":"3"}}"#, &ctx));
    assert!(!holds(
        r#"{"StringEquals":{"k:a":"1"},"NumericGreaterThan":{"k:b":"5"}}"#,
        &ctx
    ));
    assert!(holds(
        r#"{"StringEquals":{"k:a":"1"},"NumericGreaterThan":{"k:b":"1"}}"#,
        &ctx
    ));
}

#[test]
fn condition_key_names_are_case_insensitive() {
    let ctx = with("aws:SourceIp", Some("10.1.1.1"));
    assert!(holds(
        r#"{"IpAddress":{"AWS:SOURCEIP":"10.0.0.0/8"}}"#,
        &ctx
    ));
    let tagged = alice().with_key("aws:PrincipalTag/team", "dev");
    assert!(holds(
        r#"{"StringEqualsIgnoreCase":{"aws:PrincipalTag/Team":"DEV"}}"#,
        &tagged
    ));
}

#[test]
fn bool_if_exists_with_long_term_keys_is_true() {
    assert!(holds(
        r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}"#,
        &alice()
    ));
    assert!(!holds(
        r#"{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}"#,
        &alice()
    ));
}

#[test]
fn policy_variables_in_condition_values() {
    let condition = r#"{"StringEquals":{"aws:username":"${aws:username}"}}"#;
    assert!(holds(condition, &alice()));
    let session = RequestContext::new(
        PrincipalIdentity::role_session("111122223333", "/", "app", "AROA1234567890EXAMPLE", "s1"),
        "s3:GetObject",
        None,
    );
    assert!(!holds(condition, &session));
    // A variable without a value: no match for positive, match for negated.
    let ctx = with("k:x", Some("v"));
    assert!(!holds(
        r#"{"StringEquals":{"k:x":"${aws:PrincipalTag/none}"}}"#,
        &ctx
    ));
    assert!(holds(
        r#"{"StringNotEquals":{"k:x":"${aws:PrincipalTag/none}"}}"#,
        &ctx
    ));
    assert!(holds(
        r#"{"StringLike":{"aws:userid":"AROA1234567890EXAMPLE:*"}}"#,
        &session
    ));
    let by_arn = r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/*"}}"#;
    assert!(holds(by_arn, &session));
}

#[test]
fn version_2008_keeps_variables_literal_in_conditions() {
    let text = r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",
        "Condition":{"StringEquals":{"aws:username":"${aws:username}"}}}}"#;
    let doc = PolicyDocument::parse(text, PolicyKind::InlineIdentity).unwrap();
    assert!(!all_clauses_hold(
        &doc.statements[0].conditions,
        &alice(),
        false
    ));
    let literal = alice().with_key("aws:username", "${aws:username}");
    assert!(all_clauses_hold(
        &doc.statements[0].conditions,
        &literal,
        false
    ));
}

#[test]
fn unknown_operator_never_grants_but_still_denies() {
    let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",
        "Condition":{"StringSortOfEquals":{"aws:username":"alice"}}}}"#;
    let doc = PolicyDocument::parse_lenient(text, PolicyKind::InlineIdentity)
        .document
        .unwrap();
    let conditions = &doc.statements[0].conditions;
    assert!(!all_clauses_hold(conditions, &alice(), false));
    assert!(all_clauses_hold(conditions, &alice(), true));
}
