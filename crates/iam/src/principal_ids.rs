//! Trust-policy principals in IAM's stored form.
//!
//! When IAM saves a role's trust policy it replaces every user and role
//! ARN under `Principal`/`NotPrincipal` `"AWS"` with that entity's unique
//! id (`AIDA…`, `AROA…`), and shows the ids back as ARNs when the policy is
//! read. So a trust policy keeps pointing at the entity it was written for:
//! delete and recreate `alice` and the old policy shows the raw id and no
//! longer matches her. A policy naming a user or role that does not exist is
//! refused with `Invalid principal in policy: "AWS":"<arn>"`.
//!
//! Both directions replace single string values in the document's source
//! text and keep everything else (key order, spacing, other values) exactly
//! as written, because IAM returns documents as they were submitted.

use std::fmt;
use std::ops::Range;

use iamgate_policy::json::{self, Node, Value};

use crate::records::AnyRecord;

/// A user or role ARN in a trust policy that names no existing entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPrincipal {
    pub arn: String,
}

impl fmt::Display for InvalidPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid principal in policy: \"AWS\":\"{}\"", self.arn)
    }
}

impl std::error::Error for InvalidPrincipal {}

/// The users and roles principals can name: ARN ↔ unique id.
/// Who has which unique id, in both directions: what the two forms of a
/// trust policy are translated with. The world answers from its own
/// entities; [`PrincipalDirectory`] answers for a set of records that is
/// not (yet) a world.
pub trait PrincipalIds {
    /// The unique id of the user or role with exactly this ARN (path and
    /// name compared case-sensitively, as principal matching does).
    fn id_of(&self, arn: &str) -> Option<String>;

    /// The ARN of the entity that has this unique id now.
    fn arn_of(&self, id: &str) -> Option<String>;

    /// `text` with every user and role ARN principal replaced by its unique
    /// id. Text that is not a policy is returned unchanged: validation,
    /// which runs before, reports it.
    fn to_stored(&self, text: &str) -> Result<String, InvalidPrincipal> {
        let mut edits = Vec::new();
        for (span, value) in aws_principals(text) {
            if !names_user_or_role(&value) {
                continue;
            }
            match self.id_of(&value) {
                Some(id) => edits.push((span, id)),
                None => return Err(InvalidPrincipal { arn: value }),
            }
        }
        Ok(splice(text, edits))
    }

    /// `text` (a stored trust policy) with every unique id of an entity that
    /// still exists shown as its ARN; ids of deleted entities stay raw.
    fn to_shown(&self, text: &str) -> String {
        let edits = aws_principals(text)
            .into_iter()
            .filter_map(|(span, value)| Some((span, self.arn_of(&value)?)))
            .collect();
        splice(text, edits)
    }
}

/// The ids of a set of user and role records.
#[derive(Debug, Default, Clone)]
pub struct PrincipalDirectory {
    id_by_arn: std::collections::HashMap<String, String>,
    arn_by_id: std::collections::HashMap<String, String>,
}

impl PrincipalDirectory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the user or role `arn` has unique id `id`.
    pub fn insert(&mut self, arn: String, id: String) {
        self.arn_by_id.insert(id.clone(), arn.clone());
        self.id_by_arn.insert(arn, id);
    }

    /// Records a user or role; other records name no principal IAM
    /// stores by id.
    pub fn insert_record(&mut self, record: &AnyRecord) {
        match record {
            AnyRecord::User(user) => self.insert(user.arn(), user.id.clone()),
            AnyRecord::Role(role) => self.insert(role.arn(), role.id.clone()),
            _ => {}
        }
    }
}

impl PrincipalIds for PrincipalDirectory {
    fn id_of(&self, arn: &str) -> Option<String> {
        self.id_by_arn.get(arn).cloned()
    }

    fn arn_of(&self, id: &str) -> Option<String> {
        self.arn_by_id.get(id).cloned()
    }
}

/// The account, kind (`user` or `role`) and name of a user or role ARN.
pub fn user_or_role_of(arn: &str) -> Option<(&str, &str, &str)> {
    if !names_user_or_role(arn) {
        return None;
    }
    let (account, resource) = arn.strip_prefix("arn:aws:iam::")?.split_once(':')?;
    let (kind, _) = resource.split_once('/')?;
    let name = resource.rsplit('/').next()?;
    Some((account, kind, name))
}

/// `arn:aws:iam::<12 digits>:user/…` or `…:role/…`: the principals IAM
/// keeps by unique id. Account, root, assumed-role and federated principals
/// are kept as written.
fn names_user_or_role(principal: &str) -> bool {
    let Some((account, resource)) = principal
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(':'))
    else {
        return false;
    };
    account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && (resource.starts_with("user/") || resource.starts_with("role/"))
}

/// Every string under a statement's `Principal` or `NotPrincipal` `"AWS"`,
/// with the byte range of its source text.
fn aws_principals(text: &str) -> Vec<(Range<usize>, String)> {
    let Ok(root) = json::parse(text) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let statements = members(&root, "Statement").flat_map(|node| match &node.value {
        Value::Array(items) => items.iter().collect::<Vec<_>>(),
        _ => vec![node],
    });
    for statement in statements {
        let principals = members(statement, "Principal").chain(members(statement, "NotPrincipal"));
        for aws in principals.flat_map(|p| members(p, "AWS")) {
            let values = match &aws.value {
                Value::Array(items) => items.iter().collect::<Vec<_>>(),
                _ => vec![aws],
            };
            for node in values {
                if let Value::String(value) = &node.value {
                    found.push((node.span.clone(), value.clone()));
                }
            }
        }
    }
    found
}

/// The values of `object`'s members called `key` (none if not an object).
fn members<'a>(object: &'a Node, key: &'a str) -> impl Iterator<Item = &'a Node> {
    let list = match &object.value {
        Value::Object(list) => list.as_slice(),
        _ => &[],
    };
    list.iter().filter(move |m| m.key == key).map(|m| &m.value)
}

/// Replaces each span (in ascending order, not overlapping) with the JSON
/// string literal of its new value.
fn splice(text: &str, edits: Vec<(Range<usize>, String)>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (span, value) in edits {
        out.push_str(text.get(copied..span.start).unwrap_or(""));
        out.push_str(&serde_json::Value::String(value).to_string());
        copied = span.end;
    }
    out.push_str(text.get(copied..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "arn:aws:iam::111122223333:user/dev/alice";
    const APP: &str = "arn:aws:iam::444455556666:role/app";

    fn directory() -> PrincipalDirectory {
        let mut directory = PrincipalDirectory::new();
        directory.insert(ALICE.into(), "AIDAALICE000000000001".into());
        directory.insert(APP.into(), "AROAAPP00000000000001".into());
        directory
    }

    #[test]
    fn user_and_role_arns_are_stored_as_unique_ids_and_the_rest_kept_as_written() {
        let text = r#"{"Version":"2012-10-17",
  "Statement": [{"Effect": "Allow",
    "Principal": {"AWS": ["arn:aws:iam::111122223333:user\/dev\/alice", "444455556666",
                          "arn:aws:sts::444455556666:assumed-role/app/s1"],
                  "Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"},
   {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::444455556666:role/app"},
    "Action": "sts:AssumeRole"}]}"#;
        let stored = directory().to_stored(text).unwrap();
        assert_eq!(
            stored,
            text.replace(
                r#""arn:aws:iam::111122223333:user\/dev\/alice""#,
                r#""AIDAALICE000000000001""#
            )
            .replace(
                r#""arn:aws:iam::444455556666:role/app""#,
                r#""AROAAPP00000000000001""#
            )
        );
        let shown = directory().to_shown(&stored);
        assert!(shown.contains(&format!("\"{ALICE}\"")), "{shown}");
        assert!(shown.contains(&format!("\"{APP}\"")), "{shown}");
        assert!(shown.contains("\"Service\": \"lambda.amazonaws.com\""));
    }

    #[test]
    fn a_principal_that_names_no_entity_is_refused_with_aws_text() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow",
            "Principal":{"AWS":"arn:aws:iam::332745928618:role/UC_ROLE"},"Action":"sts:AssumeRole"}}"#;
        let error = directory().to_stored(text).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"Invalid principal in policy: "AWS":"arn:aws:iam::332745928618:role/UC_ROLE""#
        );
    }

    #[test]
    fn principal_arns_match_case_and_path_exactly() {
        for arn in [
            "arn:aws:iam::111122223333:user/dev/Alice",
            "arn:aws:iam::111122223333:user/alice",
        ] {
            let text = format!(
                r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"{arn}"}},"Action":"sts:AssumeRole"}}}}"#
            );
            assert!(directory().to_stored(&text).is_err(), "{arn}");
        }
    }

    #[test]
    fn ids_of_deleted_entities_are_shown_raw() {
        let text = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"AIDAGONE000000000001"},"Action":"sts:AssumeRole"}}"#;
        assert_eq!(directory().to_shown(text), text);
    }

    #[test]
    fn text_that_is_not_json_is_left_alone() {
        assert_eq!(directory().to_stored("{nope").unwrap(), "{nope");
        assert_eq!(directory().to_shown("{nope"), "{nope");
    }
}
