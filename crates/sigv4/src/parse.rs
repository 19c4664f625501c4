//! Finding and parsing the signature parameters, in AWS's order of checks.
//!
//! A request carries its signature either in the `Authorization` header or,
//! presigned, in `X-Amz-*` query parameters. Both forms are reduced to the
//! same [`AuthParams`]; the checks that follow do not care which it was.

use std::borrow::Cow;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::encoding::percent_decode_str;
use crate::error::{FailureKind, SigV4Error, Surface, missing_token_message};
use crate::request::{HttpRequest, SigningHeaders};
use crate::scan::{find_byte, split_byte, split_once_byte};
use crate::tunables::{KeyValuePairMessageStyle, Tunables};

pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Where the signature was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`
    Header,
    /// Presigned URL: `X-Amz-Algorithm`, `X-Amz-Credential`, … in the query.
    Query,
}

/// The signature parameters, whichever form carried them. Query values are
/// already percent-decoded.
#[derive(Debug, Clone)]
pub(crate) struct AuthParams<'r> {
    pub mode: AuthMode,
    pub credential: Cow<'r, str>,
    pub signed_headers: Cow<'r, str>,
    pub signature: Cow<'r, str>,
    pub timestamp: Cow<'r, str>,
    /// `X-Amz-Expires` as sent (query mode only).
    pub expires: Option<Cow<'r, str>>,
    pub session_token: Option<Cow<'r, str>>,
}

/// Locates the signature and parses it: checks F0 to F4 of the catalogue.
/// `found` holds the request's signing headers ([`HttpRequest::signing_headers`]).
pub(crate) fn parse_auth<'r>(
    request: &HttpRequest<'r>,
    found: &SigningHeaders<'r>,
    surface: Surface,
    tunables: &Tunables,
) -> Result<AuthParams<'r>, SigV4Error> {
    match (found.authorization, request.has_query_algorithm()) {
        (Some(_), true) => Err(SigV4Error::new(
            FailureKind::BothAuthenticationForms,
            surface,
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
        )),
        (None, false) => Err(SigV4Error::new(
            FailureKind::MissingAuthenticationToken,
            surface,
            missing_token_message(surface),
        )),
        (Some(header), false) => parse_header_mode(found, header, surface, tunables),
        (None, true) => parse_query_mode(request, surface, tunables),
    }
}

fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    // `from_utf8` checks ASCII (what headers hold) much faster than the
    // chunked scan `from_utf8_lossy` does; the result is the same.
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

fn parse_header_mode<'r>(
    found: &SigningHeaders<'r>,
    raw_header: &'r [u8],
    surface: Surface,
    tunables: &Tunables,
) -> Result<AuthParams<'r>, SigV4Error> {
    // Header values are ASCII in practice; anything else cannot match a
    // signature but must still produce AWS's messages, hence the lossy view.
    let header = match lossy(raw_header) {
        Cow::Borrowed(text) => text,
        Cow::Owned(text) => return parse_header_value(found, &text, surface, tunables).map(own),
    };
    parse_header_value(found, header, surface, tunables)
}

fn own(params: AuthParams<'_>) -> AuthParams<'static> {
    let own = |text: Cow<'_, str>| Cow::Owned(text.into_owned());
    AuthParams {
        mode: params.mode,
        credential: own(params.credential),
        signed_headers: own(params.signed_headers),
        signature: own(params.signature),
        timestamp: own(params.timestamp),
        expires: params.expires.map(own),
        session_token: params.session_token.map(own),
    }
}

/// One of the three parameters of an `Authorization` header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Slot<'h> {
    #[default]
    Absent,
    Once(&'h str),
    /// Given more than once: not one value, so none.
    Repeated,
}

impl<'h> Slot<'h> {
    fn fill(&mut self, value: &'h str) {
        *self = match self {
            Slot::Absent => Slot::Once(value),
            Slot::Once(_) | Slot::Repeated => Slot::Repeated,
        };
    }

    fn once(self) -> Option<&'h str> {
        match self {
            Slot::Once(value) => Some(value),
            Slot::Absent | Slot::Repeated => None,
        }
    }
}

/// An `Authorization` header split into its algorithm and parameters: the
/// one parse that both routing ([`crate::peek_service`]) and verification
/// read, so the two can never see different credentials.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HeaderParams<'h> {
    /// The header with blanks trimmed from its ends.
    header: &'h str,
    algorithm: &'h str,
    credential: Slot<'h>,
    signed_headers: Slot<'h>,
    signature: Slot<'h>,
}

impl<'h> HeaderParams<'h> {
    /// The `Credential` value, if it was given exactly once.
    pub(crate) fn credential(&self) -> Option<&'h str> {
        self.credential.once()
    }
}

/// Splits an `Authorization` header (spec sigv4 §3, steps 1–3): the first
/// space ends the algorithm; the rest is `key=value` pieces separated by
/// commas, with spaces (only spaces: SDKs send `", "`) around them.
///
/// A piece is refused, and returned as the error, when it has no `=` (F2,
/// AWS's text) or when its key is none of `Credential`, `SignedHeaders`
/// and `Signature` (case-sensitive) — a trailing `, Foo=bar`, or a piece
/// led by a tab, is not a header any client sends, and refusing it is
/// fail-closed where AWS's answer is not documented [inferred; AWS's
/// key=value text is used]. A parameter given twice counts as not given
/// (AWS's "requires 'Credential' parameter" text), so no reader can pick
/// the first while another picks the last.
pub(crate) fn split_header(header: &str) -> Result<HeaderParams<'_>, &str> {
    let header = trim_blanks(header);
    let (algorithm, rest) = match find_byte(header.as_bytes(), b' ') {
        Some(space) => (
            header.get(..space).unwrap_or_default(),
            header.get(space + 1..).unwrap_or_default(),
        ),
        None => (header, ""),
    };
    let mut params = HeaderParams {
        header,
        algorithm,
        ..HeaderParams::default()
    };
    for piece in split_byte(rest, b',')
        .map(|piece| piece.trim_matches(' '))
        .filter(|piece| !piece.is_empty())
    {
        let Some((key, value)) = split_once_byte(piece, b'=') else {
            return Err(piece);
        };
        match key {
            "Credential" => params.credential.fill(value),
            "SignedHeaders" => params.signed_headers.fill(value),
            "Signature" => params.signature.fill(value),
            _ => return Err(piece),
        }
    }
    Ok(params)
}

fn parse_header_value<'h, 'r: 'h>(
    found: &SigningHeaders<'r>,
    header: &'h str,
    surface: Surface,
    tunables: &Tunables,
) -> Result<AuthParams<'h>, SigV4Error> {
    let params = split_header(header)
        .map_err(|piece| malformed_pair(piece, trim_blanks(header), surface, tunables))?;
    let header = params.header;
    let credential = params.credential.once();
    let signed_headers = params.signed_headers.once();
    let signature = params.signature.once();

    let timestamp = found.x_amz_date.or(found.date);
    let mut missing = String::new();
    for (absent, sentence) in [
        (
            credential.is_none(),
            "Authorization header requires 'Credential' parameter. ",
        ),
        (
            signature.is_none(),
            "Authorization header requires 'Signature' parameter. ",
        ),
        (
            signed_headers.is_none(),
            "Authorization header requires 'SignedHeaders' parameter. ",
        ),
        (
            timestamp.is_none(),
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        ),
    ] {
        if absent {
            missing.push_str(sentence);
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(timestamp)) =
        (credential, signed_headers, signature, timestamp)
    else {
        missing.push_str("Authorization=");
        missing.push_str(header);
        return Err(SigV4Error::new(
            FailureKind::MissingParameters,
            surface,
            missing,
        ));
    };

    check_algorithm(params.algorithm, surface)?;
    Ok(AuthParams {
        mode: AuthMode::Header,
        credential: Cow::Borrowed(credential),
        signed_headers: Cow::Borrowed(signed_headers),
        signature: Cow::Borrowed(signature),
        timestamp: lossy(timestamp),
        expires: None,
        session_token: found.security_token.map(lossy),
    })
}

/// `text.trim_matches([' ', '\t'])`, byte by byte: both are ASCII, so the
/// ends stay character boundaries.
fn trim_blanks(text: &str) -> &str {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let bytes = text.as_bytes();
    let start = bytes.iter().position(|b| !blank(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !blank(b))
        .map_or(start, |last| last + 1);
    text.get(start..end).unwrap_or_default()
}

fn malformed_pair(piece: &str, header: &str, surface: Surface, tunables: &Tunables) -> SigV4Error {
    let message = match tunables.key_value_pair_message_style {
        KeyValuePairMessageStyle::Hashed => {
            let digest = Sha256::digest(header.as_bytes());
            let encoded = base64::engine::general_purpose::STANDARD.encode(digest);
            format!(
                "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '{encoded}'."
            )
        }
        KeyValuePairMessageStyle::Legacy => format!(
            "'{piece}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
        ),
    };
    SigV4Error::new(FailureKind::MalformedKeyValuePair, surface, message)
}

fn check_algorithm(algorithm: &str, surface: Surface) -> Result<(), SigV4Error> {
    if algorithm == ALGORITHM {
        return Ok(());
    }
    // SigV4a (AWS4-ECDSA-P256-SHA256) lands here too: it is not supported, and
    // saying so plainly beats a signature mismatch.
    Err(SigV4Error::new(
        FailureKind::UnsupportedAlgorithm,
        surface,
        format!("Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now). "),
    ))
}

fn parse_query_mode<'r>(
    request: &HttpRequest<'r>,
    surface: Surface,
    _tunables: &Tunables,
) -> Result<AuthParams<'r>, SigV4Error> {
    let param = |name: &str| request.raw_query_param(name).map(percent_decode_str);
    let algorithm = param("X-Amz-Algorithm");
    let credential = param("X-Amz-Credential");
    let signature = param("X-Amz-Signature");
    let signed_headers = param("X-Amz-SignedHeaders");
    let timestamp = param("X-Amz-Date");

    let mut missing = String::new();
    for (absent, name) in [
        (algorithm.is_none(), "X-Amz-Algorithm"),
        (credential.is_none(), "X-Amz-Credential"),
        (signature.is_none(), "X-Amz-Signature"),
        (signed_headers.is_none(), "X-Amz-SignedHeaders"),
        (timestamp.is_none(), "X-Amz-Date"),
    ] {
        if absent {
            missing.push_str("AWS query-string parameters must include '");
            missing.push_str(name);
            missing.push_str("'. ");
        }
    }
    let (Some(algorithm), Some(credential), Some(signature), Some(signed_headers), Some(timestamp)) =
        (algorithm, credential, signature, signed_headers, timestamp)
    else {
        missing.push_str("Re-examine the query-string parameters.");
        return Err(SigV4Error::new(
            FailureKind::MissingParameters,
            surface,
            missing,
        ));
    };

    check_algorithm(&algorithm, surface)?;
    Ok(AuthParams {
        mode: AuthMode::Query,
        credential,
        signed_headers,
        signature,
        timestamp,
        expires: param("X-Amz-Expires"),
        session_token: param("X-Amz-Security-Token"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_blanks_is_trimming_spaces_and_tabs() {
        for text in [
            "",
            " ",
            "\t \t",
            "a",
            " a b ",
            "\ta\t",
            " \u{a0}x\u{a0} ",
            "\n a \n",
        ] {
            assert_eq!(
                trim_blanks(text),
                text.trim_matches([' ', '\t']),
                "{text:?}"
            );
        }
    }
}
