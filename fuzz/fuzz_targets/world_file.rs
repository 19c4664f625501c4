//! Feeds arbitrary text to the world-file reader and to every section's
//! decoder: none may panic, whatever the YAML (aliases, merge keys, tags,
//! deep nesting) or the sections hold.
#![no_main]

use iamgate_apimodel::config::ApiRegistry;
use iamgate_iam::WorldConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(root) = iamgate_yaml::parse(text) else {
        return;
    };
    let _ = WorldConfig::from_tree(&root, &["apis", "domain_names"]);
    let _ = ApiRegistry::from_tree(&root, &|_| Err("no files here".to_string()));
});
