//! Worlds for the tests, read from world-file YAML as `iamgate serve
//! --config` reads it (IAM sections and `apis:`), with nothing stored.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use iamgate_apimodel::config::ApiRegistry;
use iamgate_iam::World;
use iamgate_iam::WorldConfig;
use iamgate_iam::config::fresh_stamp;

pub fn load(yaml: &str) -> (World, ApiRegistry) {
    let config = WorldConfig::parse_with_sections(yaml, &["apis", "domain_names"])
        .unwrap_or_else(|e| panic!("world: {e:?}"));
    let records = config
        .to_records(&mut |entity| fresh_stamp(entity, 1_700_000_000))
        .expect("stamps");
    let world = World::from_records(records, None, &|key| Ok(key.secret.expose().to_owned()));
    let apis = ApiRegistry::from_world_file(yaml).unwrap_or_else(|e| panic!("apis: {e:?}"));
    (world, apis)
}
