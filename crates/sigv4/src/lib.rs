//! AWS Signature Version 4 verification (work in progress).
