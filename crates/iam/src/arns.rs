//! The ARNs of IAM and STS principals, as AWS writes them.

/// `arn:aws:iam::<account>:root`
pub fn root_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// `arn:aws:iam::<account>:user<path><name>`; `path` starts and ends with `/`.
pub fn user_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:user{path}{name}")
}

/// `arn:aws:iam::<account>:role<path><name>`
pub fn role_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role{path}{name}")
}

/// `arn:aws:iam::<account>:group<path><name>`
pub fn group_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:group{path}{name}")
}

/// `arn:aws:iam::<account>:policy<path><name>`; AWS-managed policies use the
/// account `aws`.
pub fn policy_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:policy{path}{name}")
}

/// `arn:aws:sts::<account>:assumed-role/<role name>/<session name>`: the role's
/// path is dropped, as on AWS.
pub fn assumed_role_arn(account: &str, role_name: &str, session_name: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}")
}

/// Whether `text` has an ARN's six colon-separated parts
/// (`arn:partition:service:region:account:resource`, partition and service
/// not empty), whatever it names. AWS answers differently for text that is
/// no ARN at all and for an ARN of the wrong kind.
pub fn has_arn_shape(text: &str) -> bool {
    let mut parts = text.splitn(6, ':');
    parts.next() == Some("arn")
        && parts.next().is_some_and(|partition| !partition.is_empty())
        && parts.next().is_some_and(|service| !service.is_empty())
        && parts.count() == 3
}

/// The parts of an IAM role ARN: account, path and name.
pub fn parse_role_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role")?;
    if !path_and_name.starts_with('/')
        || account.len() != 12
        || !account.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let split = path_and_name.rfind('/')?;
    let (path, name) = path_and_name.split_at(split + 1);
    (!name.is_empty()).then_some((account, path, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_shape_needs_six_parts_with_partition_and_service() {
        assert!(has_arn_shape("arn:aws:iam::123456789012:role/r"));
        assert!(has_arn_shape("arn:aws:s3:::bucket/key:with:colons"));
        assert!(has_arn_shape(
            "arn:aws:acm:us-east-1:123456789012:certificate/x"
        ));
        assert!(!has_arn_shape("arn:aws:iam:123456789012:role/r"));
        assert!(!has_arn_shape("arn::iam::123456789012:role/r"));
        assert!(!has_arn_shape("ReadOnlyAccess"));
        assert!(!has_arn_shape("aws:iam::123456789012:role/r:x"));
    }

    #[test]
    fn principal_arns_follow_aws_formats() {
        assert_eq!(root_arn("111122223333"), "arn:aws:iam::111122223333:root");
        assert_eq!(
            user_arn("111122223333", "/dev/", "alice"),
            "arn:aws:iam::111122223333:user/dev/alice"
        );
        assert_eq!(
            role_arn("111122223333", "/", "app"),
            "arn:aws:iam::111122223333:role/app"
        );
        assert_eq!(
            policy_arn("aws", "/", "ReadOnlyAccess"),
            "arn:aws:iam::aws:policy/ReadOnlyAccess"
        );
    }

    #[test]
    fn assumed_role_arn_drops_the_role_path() {
        assert_eq!(
            assumed_role_arn("111122223333", "app", "s1"),
            "arn:aws:sts::111122223333:assumed-role/app/s1"
        );
    }

    #[test]
    fn role_arns_split_into_account_path_and_name() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::111122223333:role/svc/app"),
            Some(("111122223333", "/svc/", "app"))
        );
        assert_eq!(
            parse_role_arn("arn:aws:iam::111122223333:role/app"),
            Some(("111122223333", "/", "app"))
        );
        for bad in [
            "arn:aws:iam::111122223333:user/app",
            "arn:aws:iam::1111:role/app",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:sts::111122223333:role/app",
            "role/app",
        ] {
            assert_eq!(parse_role_arn(bad), None, "{bad}");
        }
    }
}
