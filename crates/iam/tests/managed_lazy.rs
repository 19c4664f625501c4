#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Using one AWS-managed policy inflates one block of the embedded
//! catalogue, and looking policies up by ARN inflates none: a deployment
//! pays for the few policies it uses, not for all 1,582. In a test binary
//! of its own, so that no other test has touched the catalogue first.

use iamgate_iam::managed::{
    BLOCK, aws_managed_policies, aws_managed_policy, aws_managed_policy_count,
    aws_managed_policy_index, inflated_blocks,
};

#[test]
fn one_policy_inflates_one_block_and_lookups_by_arn_none() {
    assert_eq!(inflated_blocks(), 0);
    for name in ["ReadOnlyAccess", "AWSLambdaExecute", "AdministratorAccess"] {
        let arn = format!("arn:aws:iam::aws:policy/{name}");
        assert!(aws_managed_policy_index(&arn).is_some(), "{name}");
    }
    assert!(aws_managed_policy_index("arn:aws:iam::aws:policy/Nope").is_none());
    assert_eq!(inflated_blocks(), 0, "an existence check inflates nothing");

    let read_only = aws_managed_policy("arn:aws:iam::aws:policy/ReadOnlyAccess").unwrap();
    assert!(read_only.default_document().unwrap().contains("\"Allow\""));
    assert_eq!(inflated_blocks(), 1);
    // Again: the block is kept, not inflated a second time.
    aws_managed_policy("arn:aws:iam::aws:policy/ReadOnlyAccess").unwrap();
    assert_eq!(inflated_blocks(), 1);

    // Listing every policy inflates every block.
    assert_eq!(aws_managed_policies().count(), aws_managed_policy_count());
    assert_eq!(
        inflated_blocks(),
        aws_managed_policy_count().div_ceil(BLOCK)
    );
}
