#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! A world updated change by change equals the world built whole from the
//! records those changes leave: the reverse indexes that say which compiled
//! entries a change makes stale (attached policies, boundaries, group
//! members, a user's keys, AWS-managed policies overridden and restored)
//! miss nothing.

use std::collections::BTreeMap;

use iamgate_iam::World;
use iamgate_iam::records::{
    AccessKeyRecord, AccessKeyStatus, AccountRecord, AnyRecord, GroupRecord, ManagedPolicyRecord,
    PolicyVersionRecord, RoleRecord, SecretText, UserRecord,
};
use iamgate_iam::world::{RecordChange, UnsealError};
use proptest::prelude::*;

const ACCOUNTS: [&str; 2] = ["111111111111", "222222222222"];
const NAMES: [&str; 3] = ["a", "b", "C"];
/// An embedded AWS-managed policy, which a stored `aws` record overrides.
const AWS_POLICY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const ALLOW: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
const BROKEN: &str = r#"{"Version":"2012-10-17","Statement":"#;

fn unseal(record: &AccessKeyRecord) -> Result<String, UnsealError> {
    if record.secret.expose() == "unsealable" {
        return Err("damaged".into());
    }
    Ok(record.secret.expose().to_owned())
}

fn policy_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:policy/{name}")
}

fn document() -> impl Strategy<Value = String> {
    prop_oneof![4 => Just(ALLOW.to_owned()), 1 => Just(BROKEN.to_owned())]
}

/// Policies an identity may attach: stored ones (present or not), and an
/// AWS-managed one.
fn attachable(account: &'static str) -> impl Strategy<Value = Vec<String>> {
    let choices: Vec<String> = NAMES
        .iter()
        .map(|name| policy_arn(account, name))
        .chain([AWS_POLICY.to_owned()])
        .collect();
    proptest::sample::subsequence(choices, 0..=2)
}

fn inline() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map("[ab]", document(), 0..=1)
}

fn boundary(account: &'static str) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(attachable(account).prop_map(|list| {
        list.into_iter()
            .next()
            .unwrap_or_else(|| AWS_POLICY.to_owned())
    }))
}

fn name() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(NAMES.to_vec())
}

fn account() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(ACCOUNTS.to_vec())
}

fn record() -> impl Strategy<Value = AnyRecord> {
    let user = (account(), name(), proptest::bool::ANY).prop_flat_map(|(account, name, moved)| {
        (
            attachable(account),
            inline(),
            boundary(account),
            proptest::sample::subsequence(NAMES.to_vec(), 0..=2),
        )
            .prop_map(move |(attached, inline, boundary, groups)| {
                AnyRecord::User(UserRecord {
                    account: account.to_owned(),
                    name: name.to_owned(),
                    path: if moved { "/moved/" } else { "/" }.to_owned(),
                    id: format!("AIDA{account}{name}{moved}"),
                    created_at: 0,
                    tags: Vec::new(),
                    permissions_boundary: boundary,
                    inline_policies: inline.into(),
                    attached_policies: attached,
                    groups: groups.into_iter().map(str::to_owned).collect(),
                })
            })
    });
    let group = (account(), name()).prop_flat_map(|(account, name)| {
        (attachable(account), inline()).prop_map(move |(attached, inline)| {
            AnyRecord::Group(GroupRecord {
                account: account.to_owned(),
                name: name.to_owned(),
                path: "/".to_owned(),
                id: format!("AGPA{account}{name}"),
                created_at: 0,
                inline_policies: inline.into(),
                attached_policies: attached,
            })
        })
    });
    let role = (account(), name()).prop_flat_map(|(account, name)| {
        (attachable(account), boundary(account), document()).prop_map(
            move |(attached, boundary, trust)| {
                AnyRecord::Role(RoleRecord {
                    account: account.to_owned(),
                    name: name.to_owned(),
                    path: "/".to_owned(),
                    id: format!("AROA{account}{name}"),
                    created_at: 0,
                    trust_policy: trust
                        .replace("s3:*", "sts:AssumeRole")
                        .replace(r#""Resource":"*""#, r#""Principal":{"AWS":"111111111111"}"#),
                    description: None,
                    max_session_duration: 3600,
                    permissions_boundary: boundary,
                    tags: Vec::new(),
                    inline_policies: Default::default(),
                    attached_policies: attached,
                })
            },
        )
    });
    let policy = (
        prop_oneof![account().prop_map(str::to_owned), Just("aws".to_owned())],
        name(),
        document(),
    )
        .prop_map(|(account, name, text)| {
            let name = if account == "aws" {
                "ReadOnlyAccess"
            } else {
                name
            };
            AnyRecord::ManagedPolicy(ManagedPolicyRecord {
                account: account.clone(),
                name: name.to_owned(),
                path: "/".to_owned(),
                id: format!("ANPA{account}{name}"),
                created_at: 0,
                description: None,
                default_version_id: "v1".to_owned(),
                versions: vec![PolicyVersionRecord {
                    version_id: "v1".to_owned(),
                    document: text,
                    created_at: 0,
                }],
                tags: Vec::new(),
            })
        });
    let key = (
        account(),
        proptest::option::of(name()),
        0..3u8,
        proptest::bool::ANY,
        prop_oneof![3 => Just("secret"), 1 => Just("unsealable")],
    )
        .prop_map(|(account, user, n, active, secret)| {
            AnyRecord::AccessKey(AccessKeyRecord {
                // Key ids are unique across accounts, as AWS's are.
                id: format!("AKIA{}{n}", &account[..1]),
                account: account.to_owned(),
                user: user.map(str::to_owned),
                secret: SecretText::new(secret),
                status: if active {
                    AccessKeyStatus::Active
                } else {
                    AccessKeyStatus::Inactive
                },
                created_at: 0,
            })
        });
    let account_record = account().prop_map(|id| {
        AnyRecord::Account(AccountRecord {
            id: id.to_owned(),
            created_at: 0,
        })
    });
    prop_oneof![user, group, role, policy, key, account_record]
}

#[derive(Debug, Clone)]
enum Step {
    Put(Box<AnyRecord>),
    /// Deletes the n-th record present (modulo their number).
    Delete(usize),
}

fn steps() -> impl Strategy<Value = Vec<Vec<Step>>> {
    let step = prop_oneof![
        3 => record().prop_map(|record| Step::Put(Box::new(record))),
        1 => any::<usize>().prop_map(Step::Delete),
    ];
    // Changes come in batches, as one store transaction reports them.
    proptest::collection::vec(proptest::collection::vec(step, 1..4), 1..25)
}

type Address = (String, String, String);

fn address(record: &AnyRecord) -> Address {
    (
        record.kind().to_owned(),
        record.scope().to_owned(),
        record.key(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_world_updated_change_by_change_equals_the_world_built_whole(batches in steps()) {
        let mut present: BTreeMap<Address, AnyRecord> = BTreeMap::new();
        let mut world = World::from_records(Vec::new(), None, &unseal);
        for batch in batches {
            let mut changes = Vec::new();
            for step in batch {
                match step {
                    Step::Put(record) => {
                        present.insert(address(&record), (*record).clone());
                        changes.push(RecordChange::Put(*record));
                    }
                    Step::Delete(n) if !present.is_empty() => {
                        let (kind, scope, key) = present.keys().nth(n % present.len()).cloned().unwrap();
                        present.remove(&(kind.clone(), scope.clone(), key.clone()));
                        changes.push(RecordChange::Delete { kind, scope, key });
                    }
                    Step::Delete(_) => {}
                }
            }
            let before = world.clone();
            let before_described = before.describe();
            world.apply(changes, &unseal);
            let whole = World::from_records(present.values().cloned(), None, &unseal);
            let (updated, built) = (world.describe(), whole.describe());
            let only_updated: Vec<&String> = updated.iter().filter(|l| !built.contains(l)).collect();
            let only_built: Vec<&String> = built.iter().filter(|l| !updated.contains(l)).collect();
            prop_assert!(
                only_updated.is_empty() && only_built.is_empty(),
                "only in the updated world: {only_updated:#?}\nonly in the world built whole: {only_built:#?}"
            );
            // The previous snapshot is untouched by the update.
            prop_assert_eq!(before.describe(), before_described);
        }
    }
}

#[test]
fn a_snapshot_taken_before_an_update_keeps_its_view() {
    let user = |attached: Vec<String>| {
        AnyRecord::User(UserRecord {
            account: ACCOUNTS[0].to_owned(),
            name: "alice".to_owned(),
            path: "/".to_owned(),
            id: "AIDAALICE".to_owned(),
            created_at: 0,
            tags: Vec::new(),
            permissions_boundary: None,
            inline_policies: Default::default(),
            attached_policies: attached,
            groups: Vec::new(),
        })
    };
    let before = World::from_records([user(Vec::new())], None, &unseal);
    let mut after = before.clone();
    after.apply(
        [RecordChange::Put(user(vec![AWS_POLICY.to_owned()]))],
        &unseal,
    );
    let statements = |world: &World| -> usize {
        let user = world.user(ACCOUNTS[0], "alice").unwrap();
        let caller = iamgate_iam::Caller::User(user.clone());
        let policies = world.caller_policies(&caller);
        policies.identity.iter().map(|set| set.len()).sum()
    };
    assert_eq!(statements(&before), 0);
    assert!(statements(&after) > 0);
    after.apply(
        [RecordChange::Delete {
            kind: "user".to_owned(),
            scope: ACCOUNTS[0].to_owned(),
            key: "alice".to_owned(),
        }],
        &unseal,
    );
    assert!(after.user(ACCOUNTS[0], "alice").is_none());
    assert!(before.user(ACCOUNTS[0], "alice").is_some());
}
