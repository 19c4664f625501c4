//! The execute-api ARN a request is authorized against (API Gateway
//! Developer Guide, "API Gateway Amazon Resource Name (ARN) reference"):
//! `arn:aws:execute-api:{region}:{owner}:{api-id}/{stage}/{METHOD}/{path}` —
//! the API owner's account and region, the request's concrete method and
//! path (never the template, never `ANY`), no query string.
//!
//! The path is made of exactly the segments the router matched
//! ([`crate::path`]): no empty segment, no trailing slash — the form of the
//! `methodArn` API Gateway hands to authorizers — so a policy written for a
//! method's path matches every request that runs that method.

/// Builds the ARN. `path` is the request path after the stage, in its
/// normal form ([`crate::path::normalize`]).
pub fn execute_api_arn(
    region: &str,
    account: &str,
    api_id: &str,
    stage: &str,
    method: &str,
    path: &str,
) -> String {
    let mut arn = format!(
        "arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{}/",
        method.to_ascii_uppercase()
    );
    for (index, segment) in crate::path::segments(path).enumerate() {
        if index > 0 {
            arn.push('/');
        }
        arn.push_str(segment);
    }
    arn
}

/// The ARN with the owner account masked as AWS shows it in denial
/// messages: `********` and the account's last four digits.
pub fn mask_account(arn: &str, account: &str) -> String {
    let tail = account
        .get(account.len().saturating_sub(4)..)
        .unwrap_or(account);
    arn.replacen(&format!(":{account}:"), &format!(":********{tail}:"), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_use_the_concrete_path_and_method() {
        let arn = |stage, method, path| {
            execute_api_arn(
                "us-east-1",
                "111122223333",
                "a1b2c3d4e5",
                stage,
                method,
                path,
            )
        };
        assert_eq!(
            arn("prod", "GET", "/pets/42"),
            "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/GET/pets/42"
        );
        assert_eq!(
            arn("prod", "GET", "/"),
            "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/GET/"
        );
        assert_eq!(
            arn("prod", "GET", ""),
            "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/GET/"
        );
        assert_eq!(
            arn("prod", "GET", "/pets/42/"),
            "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/GET/pets/42",
            "a trailing slash is not part of the ARN"
        );
        assert_eq!(
            arn("prod", "put", "/files/a/b/c.txt"),
            "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/PUT/files/a/b/c.txt"
        );
        assert_eq!(
            arn("$default", "PATCH", "/any/thing"),
            "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/$default/PATCH/any/thing"
        );
    }

    #[test]
    fn the_owner_account_is_masked_to_its_last_four_digits() {
        assert_eq!(
            mask_account(
                "arn:aws:execute-api:us-west-2:123456782543:vd2gh6uqw3/api/GET/",
                "123456782543"
            ),
            "arn:aws:execute-api:us-west-2:********2543:vd2gh6uqw3/api/GET/"
        );
    }
}
