//! The client certificate of a mutual-TLS request, as API Gateway hands it
//! on: to mapping templates as `$context.identity.clientCert`, to Lambda
//! proxy events as `requestContext.identity.clientCert` (payload 1.0) and
//! `requestContext.authentication.clientCert` (payload 2.0).
//!
//! Why the gateway only carries it: the certificate is checked against the
//! custom domain name's truststore during the TLS handshake, which is the
//! server's. What reaches the pipeline is a certificate that chained to the
//! truststore, already reduced to the text fields AWS gives; a connection
//! whose certificate did not is refused before any phase runs
//! ([`crate::pipeline::Exchange::refuse_mutual_tls`]).

use iamgate_vtl::Value;

/// A verified client certificate's fields, in API Gateway's text forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    /// The certificate as the client sent it, PEM-encoded.
    pub pem: String,
    /// RFC 4514 (`CN=client,O=Example`).
    pub subject_dn: String,
    pub issuer_dn: String,
    /// Hexadecimal bytes joined by colons (`0a:1b:…`).
    pub serial_number: String,
    /// OpenSSL's date form (`May 28 12:30:02 2019 GMT`).
    pub not_before: String,
    pub not_after: String,
}

impl ClientCert {
    /// The `clientCert` object of a Lambda proxy event.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "clientCertPem": self.pem,
            "subjectDN": self.subject_dn,
            "issuerDN": self.issuer_dn,
            "serialNumber": self.serial_number,
            "validity": {
                "notBefore": self.not_before,
                "notAfter": self.not_after,
            },
        })
    }

    /// `$context.identity.clientCert` of a mapping template.
    pub fn to_template_value(&self) -> Value {
        Value::map([
            ("clientCertPem", Value::from(self.pem.clone())),
            ("subjectDN", Value::from(self.subject_dn.clone())),
            ("issuerDN", Value::from(self.issuer_dn.clone())),
            ("serialNumber", Value::from(self.serial_number.clone())),
            (
                "validity",
                Value::map([
                    ("notBefore", Value::from(self.not_before.clone())),
                    ("notAfter", Value::from(self.not_after.clone())),
                ]),
            ),
        ])
    }
}
