//! Request ids in AWS's shape.
//!
//! STS, IAM and API Gateway stamp every response (success or error) with a
//! random UUID in lower-case hyphenated hex (`x-amzn-RequestId`,
//! `<RequestId>`); tools log and correlate on it, so ours look the same.

/// A fresh random request id, e.g. `ec50e120-c591-4731-834b-efd0856b5b9d`.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_is_lowercase_uuid_v4() {
        let id = new_request_id();
        assert_eq!(id.len(), 36);
        for (i, c) in id.chars().enumerate() {
            if [8, 13, 18, 23].contains(&i) {
                assert_eq!(c, '-', "{id}");
            } else {
                assert!(c.is_ascii_digit() || ('a'..='f').contains(&c), "{id}");
            }
        }
        assert_eq!(id.chars().nth(14), Some('4'), "version nibble: {id}");
        assert!(
            matches!(id.chars().nth(19), Some('8' | '9' | 'a' | 'b')),
            "variant: {id}"
        );
        assert_ne!(id, new_request_id());
    }
}
