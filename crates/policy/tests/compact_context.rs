#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

//! A context packed for a decision record comes back exactly as it was.

use iamgate_policy::{PrincipalIdentity, RequestContext};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    // Empty texts and non-ASCII ones included: neither may shift the rest.
    "[a-zA-Z0-9:/*é]{0,12}"
}

fn principal() -> impl Strategy<Value = PrincipalIdentity> {
    (
        0..4usize,
        (text(), text(), text(), text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        any::<bool>(),
        proptest::collection::vec((text(), text()), 0..4),
    )
        .prop_map(
            |(kind, (account, path, name, session), role_id, provider, boundary, tags)| {
                let mut principal = match kind {
                    0 => PrincipalIdentity::anonymous(),
                    1 => PrincipalIdentity::root(&account),
                    2 => PrincipalIdentity::user(&account, "/", &name, &path),
                    _ => PrincipalIdentity::role_session(
                        &account,
                        &path,
                        &name,
                        role_id.as_deref().unwrap_or("AROA"),
                        &session,
                    ),
                };
                principal.provider = provider;
                principal.has_permissions_boundary = boundary;
                principal.tags = tags;
                principal
            },
        )
}

proptest! {
    #[test]
    fn a_compact_context_expands_to_the_context_it_was_packed_from(
        principal in principal(),
        action in text(),
        resource in proptest::option::of(text()),
        resource_account in proptest::option::of(text()),
        singles in proptest::collection::vec((text(), text()), 0..6),
        multis in proptest::collection::vec((text(), proptest::collection::vec(text(), 0..3)), 0..3),
    ) {
        let mut context = RequestContext::new(principal, &action, resource.as_deref());
        if let Some(account) = &resource_account {
            context = context.with_resource_account(account);
        }
        for (key, value) in &singles {
            context = context.with_key(key, value);
        }
        for (key, values) in &multis {
            context = context.with_multi_key(&format!("multi:{key}"), values);
        }
        prop_assert_eq!(context.to_compact().expand(), context);
    }
}
