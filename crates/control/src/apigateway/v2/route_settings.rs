//! A stage's `defaultRouteSettings` and `routeSettings` throttles
//! (`throttlingBurstLimit`, `throttlingRateLimit`), kept in the stage's
//! `throttles` (`$default` for the default, route keys for the others) and
//! enforced per stage by the data plane (docs/api-keys.md). The other
//! members (logging, metrics) are accepted and not kept.

use std::collections::BTreeMap;

use iamgate_apimodel::usage::{Throttle, throttle};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::apigateway::call::{ApiError, refused};

/// The key of `defaultRouteSettings` in a stage's throttles.
pub(super) const DEFAULT_ROUTE: &str = "$default";

/// A `RouteSettings` as given.
#[derive(Deserialize, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct RouteSettingsInput {
    throttling_burst_limit: Option<i64>,
    throttling_rate_limit: Option<f64>,
}

/// Sets the throttle of `key` from `input`; a member not given keeps its
/// value (AWS's account defaults, 10000 a second and a burst of 5000,
/// when there was none). Settings without either member remove it.
pub(super) fn apply(
    throttles: &mut BTreeMap<String, Throttle>,
    key: &str,
    input: &RouteSettingsInput,
) -> Result<(), ApiError> {
    if input.throttling_burst_limit.is_none() && input.throttling_rate_limit.is_none() {
        throttles.remove(key);
        return Ok(());
    }
    let old = throttles.get(key).copied().unwrap_or(Throttle {
        rate_limit: 10_000.0,
        burst_limit: 5_000,
    });
    let new = throttle(
        Some(input.throttling_rate_limit.unwrap_or(old.rate_limit)),
        Some(
            input
                .throttling_burst_limit
                .unwrap_or(i64::from(old.burst_limit)),
        ),
    )
    .map_err(refused)?;
    throttles.insert(key.to_owned(), new);
    Ok(())
}

fn settings_json(throttle: Option<&Throttle>) -> Value {
    let mut settings = json!({"detailedMetricsEnabled": false});
    if let (Some(throttle), Some(object)) = (throttle, settings.as_object_mut()) {
        object.insert("throttlingBurstLimit".into(), json!(throttle.burst_limit));
        object.insert("throttlingRateLimit".into(), json!(throttle.rate_limit));
    }
    settings
}

/// `defaultRouteSettings` as a stage answers it.
pub(super) fn default_json(throttles: &BTreeMap<String, Throttle>) -> Value {
    settings_json(throttles.get(DEFAULT_ROUTE))
}

/// `routeSettings` as a stage answers it.
pub(super) fn routes_json(throttles: &BTreeMap<String, Throttle>) -> Value {
    let routes: serde_json::Map<String, Value> = throttles
        .iter()
        .filter(|(key, _)| key.as_str() != DEFAULT_ROUTE)
        .map(|(key, throttle)| (key.clone(), settings_json(Some(throttle))))
        .collect();
    Value::Object(routes)
}
