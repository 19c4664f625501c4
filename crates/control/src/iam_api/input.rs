//! Reading IAM request parameters against the model's member constraints.
//!
//! AWS reports every violated constraint of a request together, in one
//! `ValidationError`, before it looks at anything else; an IAM name that
//! only fails its character pattern gets IAM's own sentence instead
//! (as AWS answers; see the IAM API Reference). So an operation declares
//! all its parameters on an [`Input`] and calls [`Input::finish`] once:
//! after that, every required value it asked for is present.

use iamgate_iam::Tag;
use iamgate_iam::names::{self, is_entity_path, is_name_char, is_tag_char};
use iamgate_wire::query::lower_camel;
use iamgate_wire::{AwsError, Scope, Violations};

use crate::query::Operation;

/// The model's `policyDocumentType`: `[\u0009\u000A\u000D\u0020-\u00FF]+`, ≤131072.
const DOCUMENT_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u00FF]+";
const DOCUMENT_MAX: usize = 131_072;
const PATH_PATTERN: &str = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)";
const POLICY_PATH_PATTERN: &str = r"((/[A-Za-z0-9\.,\+@=_-]+)*)/";
const PATH_PREFIX_PATTERN: &str = r"\u002F[\u0021-\u007F]*";
const POLICY_PATH_PREFIX_PATTERN: &str = POLICY_PATH_PATTERN;
const DESCRIPTION_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*";
const TAG_KEY_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+";
const TAG_VALUE_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*";
const ACCESS_KEY_ID_PATTERN: &str = r"[\w]+";
const VERSION_ID_PATTERN: &str = r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?";
const MARKER_PATTERN: &str = r"[\u0020-\u00FF]+";

/// Items per page when `MaxItems` is not given.
pub(super) const DEFAULT_MAX_ITEMS: usize = 100;

fn is_document_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{FF}')
}

fn is_policy_path(path: &str) -> bool {
    let Some(inner) = path.strip_suffix('/') else {
        return false;
    };
    if inner.is_empty() {
        return true;
    }
    let Some(segments) = inner.strip_prefix('/') else {
        return false;
    };
    segments.split('/').all(|segment| {
        !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".,+@=_-".contains(c))
    })
}

fn is_version_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix('v') else {
        return false;
    };
    let (number, suffix) = rest
        .split_once('.')
        .map_or((rest, None), |(n, s)| (n, Some(s)));
    let number_ok = number.starts_with(|c: char| ('1'..='9').contains(&c))
        && number.chars().all(|c| c.is_ascii_digit());
    let suffix_ok = suffix.is_none_or(|s| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    number_ok && suffix_ok
}

/// `Marker` and `MaxItems` of a list operation.
#[derive(Debug, Clone)]
pub(super) struct Page {
    /// The sort key the previous page ended with.
    pub after: Option<String>,
    pub max_items: usize,
}

/// The parameters of one request, checked as they are read.
pub(super) struct Input<'a> {
    root: Scope<'a>,
    violations: Violations,
    /// Members whose value failed only IAM's name pattern.
    bad_names: Vec<String>,
    /// A policy ARN that is no ARN at all.
    unparsable_arn: bool,
}

impl<'a> Input<'a> {
    pub(super) fn new(op: &'a Operation<'_>) -> Self {
        Self {
            root: op.params.root(),
            violations: Violations::new(),
            bad_names: Vec::new(),
            unparsable_arn: false,
        }
    }

    fn read(&mut self, param: &str, required: bool) -> Option<&'a str> {
        let value = self.root.str(param);
        if required {
            self.violations.require(&lower_camel(param), value)
        } else {
            value
        }
    }

    /// An IAM name (`[\w+=,.@-]+`, 1..=`max`).
    pub(super) fn name(&mut self, param: &str, max: usize, required: bool) -> Option<&'a str> {
        let value = self.read(param, required)?;
        let member = lower_camel(param);
        self.violations.length(&member, value, 1, max);
        if !value.chars().all(is_name_char) {
            self.bad_names.push(member);
        }
        Some(value)
    }

    /// An entity path (`/` or `/a/b/`, ≤512).
    pub(super) fn path(&mut self, param: &str) -> Option<&'a str> {
        let value = self.read(param, false)?;
        let member = lower_camel(param);
        self.violations.length(&member, value, 1, 512);
        self.violations
            .pattern(&member, value, PATH_PATTERN, is_entity_path(value));
        Some(value)
    }

    /// A managed policy's path.
    pub(super) fn policy_path(&mut self, param: &str) -> Option<&'a str> {
        let value = self.read(param, false)?;
        let member = lower_camel(param);
        self.violations.length(&member, value, 1, 512);
        self.violations
            .pattern(&member, value, POLICY_PATH_PATTERN, is_policy_path(value));
        Some(value)
    }

    /// `PathPrefix` of users, groups and roles.
    pub(super) fn path_prefix(&mut self, param: &str) -> Option<&'a str> {
        let value = self.read(param, false)?;
        let member = lower_camel(param);
        self.violations.length(&member, value, 1, 512);
        let ok =
            value.starts_with('/') && value.chars().all(|c| ('\u{21}'..='\u{7F}').contains(&c));
        self.violations
            .pattern(&member, value, PATH_PREFIX_PATTERN, ok);
        Some(value)
    }

    /// `PathPrefix` of managed policies.
    pub(super) fn policy_path_prefix(&mut self, param: &str) -> Option<&'a str> {
        let value = self.read(param, false)?;
        let member = lower_camel(param);
        self.violations.length(&member, value, 1, 512);
        self.violations.pattern(
            &member,
            value,
            POLICY_PATH_PREFIX_PATTERN,
            is_policy_path(value),
        );
        Some(value)
    }

    /// A policy document parameter (validated as a policy later).
    pub(super) fn document(&mut self, param: &str) -> Option<&'a str> {
        let value = self.read(param, true)?;
        let member = lower_camel(param);
        self.violations.length(&member, value, 1, DOCUMENT_MAX);
        if !value.is_empty() {
            self.violations.pattern(
                &member,
                value,
                DOCUMENT_PATTERN,
                value.chars().all(is_document_char),
            );
        }
        Some(value)
    }

    /// An ARN parameter (20..=2048).
    pub(super) fn arn(&mut self, param: &str, required: bool) -> Option<&'a str> {
        let value = self.read(param, required)?;
        self.violations.length(&lower_camel(param), value, 20, 2048);
        Some(value)
    }

    /// A managed policy's ARN (`PolicyArn`, `PermissionsBoundary`): an
    /// ARN parameter that must at least parse as an ARN.
    pub(super) fn policy_arn(&mut self, param: &str, required: bool) -> Option<&'a str> {
        let value = self.arn(param, required)?;
        self.unparsable_arn |= !iamgate_iam::arns::has_arn_shape(value);
        Some(value)
    }

    /// A role description (≤1000, printable Latin-1).
    pub(super) fn role_description(&mut self, param: &str) -> Option<&'a str> {
        let value = self.read(param, false)?;
        let member = lower_camel(param);
        self.violations.length(&member, value, 0, 1000);
        let ok = value.chars().all(|c| {
            matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{7E}' | '\u{A1}'..='\u{FF}')
        });
        self.violations
            .pattern(&member, value, DESCRIPTION_PATTERN, ok);
        Some(value)
    }

    /// Free text up to `max` characters (policy descriptions).
    pub(super) fn text(&mut self, param: &str, max: usize) -> Option<&'a str> {
        let value = self.read(param, false)?;
        self.violations.length(&lower_camel(param), value, 0, max);
        Some(value)
    }

    /// An access key id (16..=128, `[\w]+`).
    pub(super) fn access_key_id(&mut self, param: &str) -> Option<&'a str> {
        let value = self.read(param, true)?;
        let member = lower_camel(param);
        self.violations.length(&member, value, 16, 128);
        let ok = value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        self.violations
            .pattern(&member, value, ACCESS_KEY_ID_PATTERN, ok);
        Some(value)
    }

    /// A policy version id (`v1`, `v2`, …).
    pub(super) fn version_id(&mut self, param: &str) -> Option<&'a str> {
        let value = self.read(param, true)?;
        self.violations.pattern(
            &lower_camel(param),
            value,
            VERSION_ID_PATTERN,
            is_version_id(value),
        );
        Some(value)
    }

    /// One of `allowed`.
    pub(super) fn enumeration(
        &mut self,
        param: &str,
        allowed: &[&'static str],
        required: bool,
    ) -> Option<&'a str> {
        let value = self.read(param, required)?;
        if !allowed.contains(&value) {
            self.violations.push(iamgate_wire::Violation::new(
                Some(value.to_owned()),
                lower_camel(param),
                iamgate_wire::query::Constraint::Enum(
                    allowed
                        .iter()
                        .map(|a| std::borrow::Cow::Borrowed(*a))
                        .collect(),
                ),
            ));
        }
        Some(value)
    }

    /// An integer within `min..=max`.
    pub(super) fn integer(
        &mut self,
        param: &str,
        min: i64,
        max: i64,
    ) -> Result<Option<i64>, AwsError> {
        let value = self.root.optional_i64(param)?;
        if let Some(number) = value {
            self.violations.range(&lower_camel(param), number, min, max);
        }
        Ok(value)
    }

    pub(super) fn boolean(&mut self, param: &str) -> Result<Option<bool>, AwsError> {
        self.root.optional_bool(param)
    }

    /// `Tags.member.N.Key/Value` (≤50).
    pub(super) fn tags(&mut self, param: &str, required: bool) -> Result<Vec<Tag>, AwsError> {
        let present = self
            .root
            .list_present(param, iamgate_wire::query::ListStyle::MEMBER);
        if required && !present {
            self.violations.require(&lower_camel(param), None);
            return Ok(Vec::new());
        }
        let tags = self.root.list(param, |item| {
            Ok(Tag {
                key: item.required_str("Key")?.to_owned(),
                value: item.required_str("Value")?.to_owned(),
            })
        })?;
        let member = lower_camel(param);
        if tags.len() > 50 {
            self.violations.push(iamgate_wire::Violation::new(
                Some(format!("{} tags", tags.len())),
                member.clone(),
                iamgate_wire::query::Constraint::MaxLength(50),
            ));
        }
        for (index, tag) in tags.iter().enumerate() {
            let key_member = format!("{member}.{}.member.key", index + 1);
            let value_member = format!("{member}.{}.member.value", index + 1);
            self.violations.length(&key_member, &tag.key, 1, 128);
            self.violations.pattern(
                &key_member,
                &tag.key,
                TAG_KEY_PATTERN,
                tag.key.chars().all(is_tag_char),
            );
            self.violations.length(&value_member, &tag.value, 0, 256);
            self.violations.pattern(
                &value_member,
                &tag.value,
                TAG_VALUE_PATTERN,
                tag.value.chars().all(is_tag_char),
            );
        }
        Ok(tags)
    }

    /// `TagKeys.member.N` (1..=50 keys).
    pub(super) fn tag_keys(&mut self, param: &str) -> Result<Vec<&'a str>, AwsError> {
        let present = self
            .root
            .list_present(param, iamgate_wire::query::ListStyle::MEMBER);
        if !present {
            self.violations.require(&lower_camel(param), None);
            return Ok(Vec::new());
        }
        let keys = self.root.string_list(param)?;
        let member = lower_camel(param);
        for key in &keys {
            self.violations.length(&member, key, 1, 128);
        }
        Ok(keys)
    }

    /// `Marker` and `MaxItems`.
    pub(super) fn page(&mut self) -> Result<Page, AwsError> {
        let marker = self.read("Marker", false);
        let mut after = None;
        if let Some(marker) = marker {
            self.violations.length("marker", marker, 1, 320);
            self.violations.pattern(
                "marker",
                marker,
                MARKER_PATTERN,
                marker.chars().all(|c| ('\u{20}'..='\u{FF}').contains(&c)),
            );
            after = Some(decode_marker(marker)?);
        }
        let max_items = self.integer("MaxItems", 1, 1000)?;
        let max_items = max_items
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(DEFAULT_MAX_ITEMS);
        Ok(Page { after, max_items })
    }

    /// Every model constraint violated so far, as one `ValidationError`;
    /// then IAM's own text for a name with characters it does not allow.
    pub(super) fn finish(self) -> Result<(), AwsError> {
        self.violations.into_result()?;
        if let Some(member) = self.bad_names.first() {
            return Err(invalid_name(member));
        }
        if self.unparsable_arn {
            // Two spaces, as AWS writes it.
            return Err(AwsError::validation_error(
                "Invalid ARN:  Could not be parsed!",
            ));
        }
        Ok(())
    }
}

/// IAM's answer to a name with characters outside `[\w+=,.@-]`.
pub(super) fn invalid_name(member: &str) -> AwsError {
    AwsError::validation_error(names::invalid_name_message(member))
}

/// Markers are the hex of the last returned sort key: opaque to clients,
/// within the model's character set whatever the key holds.
pub(super) fn encode_marker(key: &str) -> String {
    hex::encode_upper(key.as_bytes())
}

fn decode_marker(marker: &str) -> Result<String, AwsError> {
    hex::decode(marker)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| AwsError::invalid_input("Invalid Marker."))
}

/// One page of `items`, which are sorted by `key`: those after the marker,
/// at most `max_items`, and the marker of the next page when truncated.
pub(super) fn paginate<T>(
    items: Vec<T>,
    page: &Page,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let mut selected = Vec::new();
    let mut next = None;
    for item in items {
        let item_key = key(&item);
        if page.after.as_ref().is_some_and(|after| item_key <= *after) {
            continue;
        }
        if selected.len() == page.max_items {
            next = selected.last().map(|last| encode_marker(&key(last)));
            break;
        }
        selected.push(item);
    }
    (selected, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_and_policy_paths_follow_the_model_patterns() {
        for good in ["/", "/a/", "/a/b/", "/x~y/"] {
            assert!(is_entity_path(good), "{good}");
        }
        for bad in ["", "a/", "/a", "//a", "/a b/"] {
            assert!(!is_entity_path(bad), "{bad}");
        }
        assert!(is_policy_path("/"));
        assert!(is_policy_path("/team/a/"));
        assert!(!is_policy_path("/team//"));
        assert!(!is_policy_path("team/"));
    }

    #[test]
    fn version_ids_are_v_and_a_number() {
        assert!(is_version_id("v1"));
        assert!(is_version_id("v12"));
        assert!(!is_version_id("v0"));
        assert!(!is_version_id("1"));
        assert!(!is_version_id("vx"));
    }

    #[test]
    fn pages_resume_after_the_marker() {
        let items: Vec<String> = (0..5).map(|i| format!("k{i}")).collect();
        let first = Page {
            after: None,
            max_items: 2,
        };
        let (page, next) = paginate(items.clone(), &first, Clone::clone);
        assert_eq!(page, ["k0", "k1"]);
        let after = decode_marker(&next.unwrap()).unwrap();
        let (page, next) = paginate(
            items,
            &Page {
                after: Some(after),
                max_items: 5,
            },
            Clone::clone,
        );
        assert_eq!(page, ["k2", "k3", "k4"]);
        assert_eq!(next, None);
    }
}
