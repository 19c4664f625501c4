//! Query protocol responses: a small XML writer and AWS's two envelopes.
//!
//! Responses are written straight into a `String`: the documents are small,
//! built once, and a writer that cannot fail keeps every operation free of
//! I/O error plumbing. Nesting goes through closures ([`XmlWriter::nest`]),
//! so an element can never be left open or closed twice.
//!
//! Shapes follow AWS (Smithy's "AWS query protocol"): `<Op>Response` with
//! an optional `<Op>Result` and `<ResponseMetadata><RequestId>`, lists as
//! `<Name><member>…</member></Name>` and an empty list as `<Name/>`,
//! timestamps as ISO 8601 UTC. Errors use `<ErrorResponse>` with
//! `<Type>Sender</Type>` (4xx) or `<Type>Receiver</Type>` (5xx).
//!
//! Text is escaped with quick-xml. Characters XML 1.0 cannot carry at all
//! (most C0 controls, lone surrogates cannot occur in `str`) are replaced
//! with U+FFFD rather than producing a document clients refuse to parse;
//! a carriage return is written as `&#xD;` so parsers do not normalise it
//! away.

use std::borrow::Cow;

use crate::error::AwsError;
use crate::time::Timestamp;

/// XML namespace of STS responses.
pub const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// XML namespace of IAM responses.
pub const IAM_NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// `Content-Type` of Query protocol responses.
pub const CONTENT_TYPE: &str = "text/xml";

/// Builds an XML document into a string.
#[derive(Debug, Default, Clone)]
pub struct XmlWriter {
    out: String,
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes `text` for element content or a double-quoted attribute value.
pub fn escape_text(text: &str) -> Cow<'_, str> {
    let needs_cleanup = text.chars().any(|c| c == '\r' || !is_xml_char(c));
    if !needs_cleanup {
        return quick_xml::escape::escape(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c == '\r' {
            out.push_str("&#xD;");
        } else if !is_xml_char(c) {
            out.push('\u{FFFD}');
        } else {
            let mut buf = [0u8; 4];
            out.push_str(&quick_xml::escape::escape(&*c.encode_utf8(&mut buf)));
        }
    }
    Cow::Owned(out)
}

impl XmlWriter {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            self.out.push_str(&escape_text(value));
            self.out.push('"');
        }
        self.out.push('>');
    }

    /// `<name attrs…>…</name>` with the content written by `content`;
    /// `<name attrs…/>` when it writes nothing.
    pub fn nest_with_attrs(
        &mut self,
        name: &str,
        attrs: &[(&str, &str)],
        content: impl FnOnce(&mut Self),
    ) {
        self.open(name, attrs);
        let after_open = self.out.len();
        content(self);
        if self.out.len() == after_open {
            self.out.pop();
            self.out.push_str("/>");
        } else {
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
    }

    /// `<name>…</name>` with the content written by `content`; `<name/>`
    /// when it writes nothing.
    pub fn nest(&mut self, name: &str, content: impl FnOnce(&mut Self)) {
        self.nest_with_attrs(name, &[], content);
    }

    /// Escaped character data inside the current element.
    pub fn text(&mut self, text: &str) {
        self.out.push_str(&escape_text(text));
    }

    /// `<name>text</name>` (`<name/>` for empty text).
    pub fn element(&mut self, name: &str, text: &str) {
        self.nest(name, |w| w.text(text));
    }

    /// `<name attrs…>text</name>`.
    pub fn element_with_attrs(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.nest_with_attrs(name, attrs, |w| w.text(text));
    }

    /// `<name>text</name>` when `text` is `Some`; nothing otherwise.
    pub fn optional_element(&mut self, name: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.element(name, text);
        }
    }

    /// `<name>true</name>` / `<name>false</name>`.
    pub fn bool_element(&mut self, name: &str, value: bool) {
        self.element(name, if value { "true" } else { "false" });
    }

    /// `<name>42</name>`.
    pub fn int_element(&mut self, name: &str, value: i64) {
        self.element(name, &value.to_string());
    }

    /// `<name>2026-11-21T16:12:15Z</name>`.
    pub fn timestamp_element(&mut self, name: &str, value: Timestamp) {
        self.element(name, &value.to_iso8601());
    }

    /// `<name><member>…</member>…</name>`, or `<name/>` for no items;
    /// `member` writes the content of one `<member>`.
    pub fn list<T>(
        &mut self,
        name: &str,
        items: impl IntoIterator<Item = T>,
        mut member: impl FnMut(&mut Self, T),
    ) {
        self.nest(name, |w| {
            for item in items {
                w.nest("member", |w| member(w, item));
            }
        });
    }

    /// A list of strings: `<name><member>a</member>…</name>`.
    pub fn string_list<'s>(&mut self, name: &str, items: impl IntoIterator<Item = &'s str>) {
        self.list(name, items, |w, item| w.text(item));
    }

    /// The document so far.
    pub fn as_str(&self) -> &str {
        &self.out
    }

    /// The finished document.
    pub fn into_string(self) -> String {
        self.out
    }
}

fn response_metadata(w: &mut XmlWriter, request_id: &str) {
    w.nest("ResponseMetadata", |w| w.element("RequestId", request_id));
}

/// `<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata>…` with the
/// result's members written by `result`.
pub fn render_response(
    namespace: &str,
    operation: &str,
    request_id: &str,
    result: impl FnOnce(&mut XmlWriter),
) -> String {
    let mut w = XmlWriter::new();
    w.nest_with_attrs(
        &format!("{operation}Response"),
        &[("xmlns", namespace)],
        |w| {
            w.nest(&format!("{operation}Result"), result);
            response_metadata(w, request_id);
        },
    );
    w.into_string()
}

/// The response of an operation without output (`DeleteUser`,
/// `PutRolePolicy`): only `ResponseMetadata`.
pub fn render_response_without_result(
    namespace: &str,
    operation: &str,
    request_id: &str,
) -> String {
    let mut w = XmlWriter::new();
    w.nest_with_attrs(
        &format!("{operation}Response"),
        &[("xmlns", namespace)],
        |w| {
            response_metadata(w, request_id);
        },
    );
    w.into_string()
}

/// The Query error envelope for `error`.
pub fn render_error(namespace: &str, error: &AwsError, request_id: &str) -> String {
    render_error_with(
        namespace,
        &error.code,
        Some(&error.message),
        error.sender_fault,
        request_id,
        |_| {},
    )
}

/// The Query error envelope with members beyond `Message` (modelled error
/// structures); `extra` writes them inside `<Error>` after `<Code>`.
pub fn render_error_with(
    namespace: &str,
    code: &str,
    message: Option<&str>,
    sender_fault: bool,
    request_id: &str,
    extra: impl FnOnce(&mut XmlWriter),
) -> String {
    let mut w = XmlWriter::new();
    w.nest_with_attrs("ErrorResponse", &[("xmlns", namespace)], |w| {
        w.nest("Error", |w| {
            w.element("Type", if sender_fault { "Sender" } else { "Receiver" });
            w.element("Code", code);
            w.optional_element("Message", message);
            extra(w);
        });
        w.element("RequestId", request_id);
    });
    w.into_string()
}

/// A policy document as IAM returns it: URL-encoded per RFC 3986
/// (`{"Version":…` → `%7B%22Version%22%3A…`).
pub fn encode_policy_document(document: &str) -> String {
    crate::form::rfc3986_encode(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_caller_identity_envelope() {
        let xml = render_response(
            STS_NAMESPACE,
            "GetCallerIdentity",
            "ec50e120-c591-4731-834b-efd0856b5b9d",
            |w| {
                w.element("Arn", "arn:aws:iam::738054984624:user/eduardo.valdes");
                w.element("UserId", "AIDAJ465PRJTNHYBY4JVY");
                w.element("Account", "738054984624");
            },
        );
        assert_eq!(
            xml,
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <GetCallerIdentityResult><Arn>arn:aws:iam::738054984624:user/eduardo.valdes</Arn>\
             <UserId>AIDAJ465PRJTNHYBY4JVY</UserId><Account>738054984624</Account></GetCallerIdentityResult>\
             <ResponseMetadata><RequestId>ec50e120-c591-4731-834b-efd0856b5b9d</RequestId></ResponseMetadata>\
             </GetCallerIdentityResponse>"
        );
    }

    #[test]
    fn operation_without_output_has_no_result_element() {
        let xml = render_response_without_result(IAM_NAMESPACE, "DeleteUser", "r");
        assert_eq!(
            xml,
            "<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
             <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>"
        );
    }

    #[test]
    fn lists_use_member_and_empty_lists_self_close() {
        let mut w = XmlWriter::new();
        w.string_list("Users", []);
        w.string_list("Keys", ["a", "b"]);
        w.list("Roles", [1, 2], |w, n| w.int_element("N", n));
        assert_eq!(
            w.into_string(),
            "<Users/><Keys><member>a</member><member>b</member></Keys>\
             <Roles><member><N>1</N></member><member><N>2</N></member></Roles>"
        );
    }

    #[test]
    fn scalars_render_as_aws_does() {
        let mut w = XmlWriter::new();
        w.bool_element("IsTruncated", true);
        w.timestamp_element("CreateDate", Timestamp::from_epoch_seconds(1_795_277_535));
        w.optional_element("Marker", None);
        w.element("Empty", "");
        assert_eq!(
            w.as_str(),
            "<IsTruncated>true</IsTruncated><CreateDate>2026-11-21T16:12:15Z</CreateDate><Empty/>"
        );
    }

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut w = XmlWriter::new();
        w.element_with_attrs("M", &[("a", "x\"<y")], "a<b & 'c' > \"d\"");
        let xml = w.into_string();
        assert!(xml.starts_with("<M a=\"x&quot;&lt;y\">"), "{xml}");
        assert!(xml.contains("a&lt;b &amp; "), "{xml}");
        assert!(!xml.contains("<b"), "{xml}");
    }

    #[test]
    fn characters_xml_cannot_carry_are_replaced() {
        assert_eq!(escape_text("a\u{1}b\rc\td"), "a\u{FFFD}b&#xD;c\td");
        assert_eq!(escape_text("\u{FFFE}"), "\u{FFFD}");
    }

    #[test]
    fn error_envelope_sender_and_receiver() {
        let e = AwsError::access_denied(
            "User: arn:aws:iam::123456789012:user/aws-user is not authorized",
        );
        assert_eq!(
            render_error(STS_NAMESPACE, &e, "c6104cbe-af31-11e0-8154-cbc7ccf896c7"),
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
             <Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/aws-user is not authorized</Message>\
             </Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
        );
        let xml = AwsError::service_failure("boom & bust").to_query_xml(IAM_NAMESPACE, "r");
        assert!(xml.contains(
            "<Type>Receiver</Type><Code>ServiceFailure</Code><Message>boom &amp; bust</Message>"
        ));
    }

    #[test]
    fn policy_documents_are_rfc3986_encoded() {
        assert_eq!(
            encode_policy_document("{\"Version\":\"2012-10-17\",\"Statement\":[]}"),
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"
        );
    }
}
