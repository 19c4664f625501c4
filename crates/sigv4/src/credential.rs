//! The `Credential` of a signature: `<key id>/<yyyymmdd>/<region>/<service>/aws4_request`.

use std::borrow::Cow;

use crate::scan::for_each_byte;

/// A credential split into its five parts. It keeps the text it was parsed
/// from, so header-mode verification borrows instead of copying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential<'r> {
    raw: Cow<'r, str>,
    // Byte offsets of the four slashes.
    slashes: [usize; 4],
}

impl<'r> Credential<'r> {
    /// `None` unless the text has exactly five slash-delimited parts.
    pub(crate) fn parse(raw: Cow<'r, str>) -> Option<Self> {
        let mut slashes = [0usize; 4];
        let mut count = 0;
        for_each_byte(raw.as_bytes(), b'/', |index| {
            if let Some(slot) = slashes.get_mut(count) {
                *slot = index;
            }
            count += 1;
            // A fifth slash already makes too many parts.
            count <= 4
        });
        (count == 4).then_some(Self { raw, slashes })
    }

    fn part(&self, index: usize) -> &str {
        let start = match index {
            0 => 0,
            _ => self.slashes.get(index - 1).map_or(0, |s| s + 1),
        };
        let end = self.slashes.get(index).copied().unwrap_or(self.raw.len());
        self.raw.get(start..end).unwrap_or_default()
    }

    pub fn access_key_id(&self) -> &str {
        self.part(0)
    }

    /// The `yyyymmdd` date of the scope.
    pub fn date(&self) -> &str {
        self.part(1)
    }

    pub fn region(&self) -> &str {
        self.part(2)
    }

    pub fn service(&self) -> &str {
        self.part(3)
    }

    pub fn terminator(&self) -> &str {
        self.part(4)
    }

    /// `<yyyymmdd>/<region>/<service>/<terminator>`, as in the string to sign.
    pub fn scope(&self) -> &str {
        self.raw.get(self.slashes[0] + 1..).unwrap_or_default()
    }

    /// The whole credential text; unique per key, day, region and service,
    /// which is exactly what a derived signing key depends on.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_parts_are_split_and_the_scope_is_what_follows_the_key() {
        let c = Credential::parse("AKID/20150830/us-east-1/iam/aws4_request".into()).unwrap();
        assert_eq!(c.access_key_id(), "AKID");
        assert_eq!(c.date(), "20150830");
        assert_eq!(c.region(), "us-east-1");
        assert_eq!(c.service(), "iam");
        assert_eq!(c.terminator(), "aws4_request");
        assert_eq!(c.scope(), "20150830/us-east-1/iam/aws4_request");
    }

    #[test]
    fn other_part_counts_are_rejected() {
        for bad in ["", "AKID", "a/b/c/d", "a/b/c/d/e/f", "////x/"] {
            assert!(Credential::parse(bad.into()).is_none(), "{bad}");
        }
        assert!(Credential::parse("////".into()).is_some());
    }
}
