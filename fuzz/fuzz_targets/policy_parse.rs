//! Feeds arbitrary bytes to the policy parser as every kind of policy, then
//! evaluates whatever document comes out: neither may panic.
#![no_main]

use iamgate_policy::{NamedPolicy, PolicyDocument, PolicyKind, PolicySet, PrincipalIdentity, RequestContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in PolicyKind::ALL {
        let outcome = PolicyDocument::parse_lenient(text, kind);
        if let Some(document) = outcome.document {
            let set = PolicySet {
                identity: vec![NamedPolicy::new("fuzz", document)],
                ..PolicySet::default()
            };
            let who = PrincipalIdentity::user("111122223333", "/", "alice", "AIDAFUZZ0000000000000");
            let ctx = RequestContext::new(who, "s3:GetObject", Some("arn:aws:s3:::bucket/key"))
                .with_key("aws:SourceIp", "10.0.0.1")
                .with_multi_key("aws:TagKeys", &["a", "b"]);
            let _ = set.compile().evaluate(&ctx);
        }
    }
});
