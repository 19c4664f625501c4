#![allow(clippy::unwrap_used)]

//! Entities whose inline policies are the same hold one copy of the texts
//! (the memory a principal costs: docs/benchmarks.md), and changing one
//! entity's policies leaves the others' as they were.

use std::collections::BTreeMap;

use iamgate_iam::World;
use iamgate_iam::records::{AccessKeyRecord, AnyRecord, UserRecord};
use iamgate_iam::world::{RecordChange, UnsealError};

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}"#;

fn unseal(record: &AccessKeyRecord) -> Result<String, UnsealError> {
    Ok(record.secret.expose().to_owned())
}

fn user(name: &str, policy: &str) -> AnyRecord {
    AnyRecord::User(UserRecord {
        account: "111111111111".to_owned(),
        name: name.to_owned(),
        path: "/".to_owned(),
        id: format!("AIDA{name:0>17}"),
        created_at: 0,
        tags: Vec::new(),
        permissions_boundary: None,
        // Each record read on its own, as the store hands them over.
        inline_policies: BTreeMap::from([("invoke".to_owned(), policy.to_owned())]).into(),
        attached_policies: Vec::new(),
        groups: Vec::new(),
    })
}

fn texts_of<'w>(world: &'w World, name: &str) -> &'w iamgate_iam::records::InlinePolicies {
    &world
        .user("111111111111", name)
        .unwrap()
        .record
        .inline_policies
}

#[test]
fn users_with_the_same_inline_policies_share_one_copy_and_a_change_copies_only_its_own() {
    let mut world =
        World::from_records([user("alice", POLICY), user("bob", POLICY)], None, &unseal);
    assert!(texts_of(&world, "alice").ptr_eq(texts_of(&world, "bob")));

    let other = POLICY.replace("Allow", "Deny");
    world.apply([RecordChange::Put(user("bob", &other))], &unseal);
    assert!(!texts_of(&world, "alice").ptr_eq(texts_of(&world, "bob")));
    assert_eq!(texts_of(&world, "alice")["invoke"], POLICY);
    assert_eq!(texts_of(&world, "bob")["invoke"], other);
}
