//! The world file's `api_keys:` and `usage_plans:` sections, checked with
//! the rules the control plane uses ([`crate::usage`]), so a key or plan
//! one front door refuses cannot come in through the other.
//!
//! ```yaml
//! api_keys:
//!   - name: partner
//!     account: "123456789012"
//!     region: us-east-1
//!     value: "partner-key-value-0000000001"   # 20 to 128 characters
//!     enabled: true                           # default true
//! usage_plans:
//!   - name: gold
//!     account: "123456789012"
//!     region: us-east-1
//!     api_stages:
//!       - api: a1b2c3d4e5
//!         stage: prod
//!         throttle: { "/pets/GET": { rate_limit: 5, burst_limit: 10 } }
//!     throttle: { rate_limit: 10, burst_limit: 20 }
//!     quota: { limit: 1000, period: DAY, offset: 0 }
//!     keys: [partner]                         # names of api_keys
//! ```
//!
//! Ids are derived from the account and name, so the same declaration
//! always yields the same documents. A key value in the world file is a
//! secret like an access key's: keep the file private.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use iamgate_yaml::{ConfigError, Decoder, Node};

use crate::config::{optional, present, required};
use crate::registry::stable_id;
use crate::usage::{
    ApiKeyRecord, PlanStage, Throttle, UsagePlanRecord, key_value, method_throttle_key, quota,
    throttle,
};

/// The id of a declared key.
pub fn declared_key_id(account: &str, name: &str) -> String {
    stable_id(&format!("{account}#apikey#{name}"), 10)
}

/// The id of a declared plan.
pub fn declared_plan_id(account: &str, name: &str) -> String {
    stable_id(&format!("{account}#usageplan#{name}"), 6)
}

type Pos = (u32, u32);

/// The two sections of a world file already read into a tree (creation
/// times 0: the writer keeps stored ones); every problem at its line.
pub fn from_tree(
    root: &Node,
) -> Result<(Vec<ApiKeyRecord>, Vec<UsagePlanRecord>), Vec<ConfigError>> {
    let mut decoder = Decoder::default();
    let mut problems: Vec<(String, Pos, String)> = Vec::new();
    let mut keys: Vec<ApiKeyRecord> = Vec::new();
    // (account, name) of the keys and plans so far: a file of many keys
    // is checked in linear time.
    let mut key_names: HashSet<(String, String)> = HashSet::new();
    let mut plan_names: HashSet<(String, String)> = HashSet::new();
    let list = decoder.list(present(root, "api_keys"), "api_keys");
    for (index, node) in list.iter().enumerate() {
        let path = format!("api_keys[{index}]");
        let Some(fields) = decoder.fields(
            node,
            &path,
            &[
                "name",
                "account",
                "region",
                "value",
                "enabled",
                "description",
            ],
        ) else {
            continue;
        };
        let name = required(&mut decoder, &fields, "name");
        let account = required(&mut decoder, &fields, "account");
        let region = optional(&mut decoder, &fields, "region");
        let value = required(&mut decoder, &fields, "value");
        let enabled = optional(&mut decoder, &fields, "enabled");
        let description = optional(&mut decoder, &fields, "description");
        let (Some((name, name_at)), Some((account, _)), Some((value, value_at))) =
            (name, account, value)
        else {
            continue;
        };
        if let Err(invalid) = key_value(&value) {
            problems.push((path.clone(), value_at, invalid.0));
        }
        let enabled = match enabled {
            None => true,
            Some((text, at)) => match text.as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    problems.push((path.clone(), at, "enabled must be true or false".into()));
                    false
                }
            },
        };
        if !key_names.insert((account.clone(), name.clone())) {
            problems.push((
                path.clone(),
                name_at,
                format!("key '{name}' declared twice"),
            ));
        }
        keys.push(ApiKeyRecord {
            id: declared_key_id(&account, &name),
            account,
            region: region.map_or_else(|| "us-east-1".to_owned(), |(r, _)| r),
            name,
            description: description.map(|(d, _)| d),
            value,
            enabled,
            customer_id: None,
            created_at: 0,
            last_updated: 0,
            stage_keys: Vec::new(),
            tags: BTreeMap::new(),
        });
    }
    let mut plans: Vec<UsagePlanRecord> = Vec::new();
    let list = decoder.list(present(root, "usage_plans"), "usage_plans");
    for (index, node) in list.iter().enumerate() {
        let path = format!("usage_plans[{index}]");
        let Some(fields) = decoder.fields(
            node,
            &path,
            &[
                "name",
                "account",
                "region",
                "description",
                "api_stages",
                "throttle",
                "quota",
                "keys",
            ],
        ) else {
            continue;
        };
        let name = required(&mut decoder, &fields, "name");
        let account = required(&mut decoder, &fields, "account");
        let region = optional(&mut decoder, &fields, "region");
        let description = optional(&mut decoder, &fields, "description");
        let plan_throttle = fields.get("throttle").and_then(|node| {
            throttle_of(&mut decoder, node, &fields.path("throttle"), &mut problems)
        });
        let plan_quota = fields.get("quota").and_then(|node| {
            let at_path = fields.path("quota");
            let quota_fields = decoder.fields(node, &at_path, &["limit", "period", "offset"])?;
            let limit = required(&mut decoder, &quota_fields, "limit");
            let period = required(&mut decoder, &quota_fields, "period");
            let offset = optional(&mut decoder, &quota_fields, "offset");
            let ((limit, at), (period, _)) = (limit?, period?);
            let limit = limit.parse::<i64>().ok();
            let offset = offset.and_then(|(o, _)| o.parse::<i64>().ok());
            quota(limit, Some(&period), offset)
                .map_err(|invalid| problems.push((at_path.clone(), at, invalid.0)))
                .ok()
        });
        let mut api_stages: Vec<PlanStage> = Vec::new();
        let stages_path = fields.path("api_stages");
        for (stage_index, node) in decoder
            .list(fields.get("api_stages"), &stages_path)
            .iter()
            .enumerate()
        {
            let stage_path = format!("{stages_path}[{stage_index}]");
            let Some(stage_fields) =
                decoder.fields(node, &stage_path, &["api", "stage", "throttle"])
            else {
                continue;
            };
            let api = required(&mut decoder, &stage_fields, "api");
            let stage = required(&mut decoder, &stage_fields, "stage");
            let mut throttles = BTreeMap::new();
            let throttle_path = stage_fields.path("throttle");
            for (key_node, value) in
                decoder.map_entries(stage_fields.get("throttle"), &throttle_path)
            {
                let key = key_node.scalar_text().unwrap_or_default();
                let at = (key_node.line, key_node.column);
                if let Err(invalid) = method_throttle_key(&key) {
                    problems.push((throttle_path.clone(), at, invalid.0));
                    continue;
                }
                if let Some(found) = throttle_of(
                    &mut decoder,
                    value,
                    &format!("{throttle_path}.{key}"),
                    &mut problems,
                ) {
                    throttles.insert(key, found);
                }
            }
            if let (Some((api_id, _)), Some((stage, _))) = (api, stage) {
                api_stages.push(PlanStage {
                    api_id,
                    stage,
                    throttle: throttles,
                });
            }
        }
        let mut named_keys = Vec::new();
        let keys_path = fields.path("keys");
        for node in decoder.list(fields.get("keys"), &keys_path) {
            if let Some(text) = node.scalar_text() {
                named_keys.push((text, (node.line, node.column)));
            }
        }
        let (Some((name, name_at)), Some((account, _))) = (name, account) else {
            continue;
        };
        let mut plan_keys = BTreeSet::new();
        for (key_name, at) in named_keys {
            if key_names.contains(&(account.clone(), key_name.clone())) {
                plan_keys.insert(declared_key_id(&account, &key_name));
            } else {
                problems.push((
                    keys_path.clone(),
                    at,
                    format!("no api_keys entry of account {account} is named '{key_name}'"),
                ));
            }
        }
        if !plan_names.insert((account.clone(), name.clone())) {
            problems.push((
                path.clone(),
                name_at,
                format!("plan '{name}' declared twice"),
            ));
        }
        plans.push(UsagePlanRecord {
            id: declared_plan_id(&account, &name),
            account,
            region: region.map_or_else(|| "us-east-1".to_owned(), |(r, _)| r),
            name,
            description: description.map(|(d, _)| d),
            api_stages,
            throttle: plan_throttle,
            quota: plan_quota,
            keys: plan_keys,
            tags: BTreeMap::new(),
        });
    }
    let mut errors = decoder.errors;
    errors.extend(
        problems
            .into_iter()
            .map(|(path, (line, column), message)| ConfigError {
                path,
                line,
                column,
                code: None,
                message,
                document_position: None,
            }),
    );
    if errors.is_empty() {
        Ok((keys, plans))
    } else {
        Err(errors)
    }
}

/// `{ rate_limit: 5, burst_limit: 10 }`.
fn throttle_of(
    decoder: &mut Decoder,
    node: &Node,
    path: &str,
    problems: &mut Vec<(String, Pos, String)>,
) -> Option<Throttle> {
    let fields = decoder.fields(node, path, &["rate_limit", "burst_limit"])?;
    let rate = required(decoder, &fields, "rate_limit");
    let burst = required(decoder, &fields, "burst_limit");
    let ((rate, at), (burst, _)) = (rate?, burst?);
    let rate = rate.parse::<f64>().ok();
    let burst = burst.parse::<i64>().ok();
    if rate.is_none() || burst.is_none() {
        problems.push((
            path.to_owned(),
            at,
            "rate_limit and burst_limit must be numbers".into(),
        ));
        return None;
    }
    throttle(rate, burst)
        .map_err(|invalid| problems.push((path.to_owned(), at, invalid.0)))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<(Vec<ApiKeyRecord>, Vec<UsagePlanRecord>), Vec<String>> {
        let root = iamgate_yaml::parse(text).map_err(|e| vec![e.message])?;
        from_tree(&root).map_err(|errors| errors.into_iter().map(|e| e.message).collect())
    }

    #[test]
    fn declared_keys_and_plans_get_stable_ids_and_the_plan_names_its_keys() {
        let text = r#"
api_keys:
  - { name: partner, account: "123456789012", value: "partner-key-value-0000000001" }
usage_plans:
  - name: gold
    account: "123456789012"
    api_stages: [{ api: a1b2c3d4e5, stage: prod, throttle: { "/pets/GET": { rate_limit: 5, burst_limit: 10 } } }]
    throttle: { rate_limit: 10, burst_limit: 20 }
    quota: { limit: 1000, period: WEEK, offset: 1 }
    keys: [partner]
"#;
        let (keys, plans) = read(text).unwrap();
        assert_eq!(keys.len(), 1);
        assert!(keys[0].enabled);
        assert_eq!(keys[0].id, declared_key_id("123456789012", "partner"));
        let plan = &plans[0];
        assert!(plan.keys.contains(&keys[0].id));
        assert_eq!(plan.quota.map(|q| q.limit), Some(1000));
        assert_eq!(
            plan.api_stages[0]
                .throttle
                .get("/pets/GET")
                .map(|t| t.burst_limit),
            Some(10)
        );
    }

    #[test]
    fn a_short_key_value_or_an_unknown_key_name_rejects_the_file() {
        let text = r#"
api_keys:
  - { name: partner, account: "123456789012", value: "short" }
usage_plans:
  - { name: gold, account: "123456789012", keys: [nobody] }
"#;
        let errors = read(text).unwrap_err();
        assert!(
            errors.iter().any(|e| e.contains("at least 20 characters")),
            "{errors:?}"
        );
        assert!(errors.iter().any(|e| e.contains("'nobody'")), "{errors:?}");
        // The refusal never quotes the value.
        assert!(errors.iter().all(|e| !e.contains("short")), "{errors:?}");
    }
}
