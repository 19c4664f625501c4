//! The IAM policy language (work in progress).
