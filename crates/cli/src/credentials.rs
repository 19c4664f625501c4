//! Credentials as the AWS CLI finds them, for the tools that sign requests
//! (`invoke`, `explain`, the analysis tools with `--endpoint-url`).
//!
//! The order is the CLI's: with no profile named, `AWS_ACCESS_KEY_ID` and
//! `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`); else the profile
//! (`--profile`, `AWS_PROFILE`, `default`) from `~/.aws/credentials` and
//! `~/.aws/config` (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`):
//! - `role_arn` with `source_profile` (itself resolved the same way, so
//!   chains work) or `credential_source = Environment`, assumed through STS
//!   with `external_id`, `role_session_name` and `duration_seconds`;
//! - static keys;
//! - `credential_process`, whose JSON answer (`Version: 1`) holds the keys.
//!
//! Why here and not a crate: the signing tools are the only users, and the
//! SDK's credential chain would bring a TLS stack and a second HTTP client.
//! Secrets stay inside [`Credentials`], whose `Debug` leaves them out.

use std::path::PathBuf;

use crate::remote::{self, Outgoing};

/// Keys to sign with.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// How deep `source_profile` chains may go before they are taken for a
/// loop.
const MAX_CHAIN: usize = 8;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn aws_file(variable: &str, default: &str) -> Option<PathBuf> {
    env(variable)
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".aws").join(default)))
}

/// The two files of profiles, as read once.
struct Profiles {
    credentials: String,
    config: String,
}

impl Profiles {
    fn read() -> Profiles {
        let read = |path: Option<PathBuf>| {
            path.and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default()
        };
        Profiles {
            credentials: read(aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials")),
            config: read(aws_file("AWS_CONFIG_FILE", "config")),
        }
    }

    /// `key` of `profile`: the credentials file first, then the config
    /// file's `[profile NAME]` (`[default]` for the default profile).
    fn value(&self, profile: &str, key: &str) -> Option<String> {
        let config_section = if profile == "default" {
            "default".to_owned()
        } else {
            format!("profile {profile}")
        };
        section_value(&self.credentials, profile, key)
            .or_else(|| section_value(&self.config, &config_section, key))
    }

    fn exists(&self, profile: &str) -> bool {
        has_section(&self.credentials, profile)
            || has_section(&self.config, &format!("profile {profile}"))
            || (profile == "default" && has_section(&self.config, "default"))
    }
}

fn sections(text: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut section = "";
    text.lines().filter_map(move |line| {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim();
            None
        } else if line.starts_with('#') || line.starts_with(';') {
            None
        } else {
            Some((section, line))
        }
    })
}

fn has_section(text: &str, name: &str) -> bool {
    text.lines().any(|line| {
        line.trim()
            .strip_prefix('[')
            .and_then(|l| l.strip_suffix(']'))
            .is_some_and(|section| section.trim() == name)
    })
}

/// `key` in `[section]` of an INI file.
fn section_value(text: &str, section: &str, key: &str) -> Option<String> {
    sections(text)
        .filter(|(name, _)| *name == section)
        .find_map(|(_, line)| {
            let (name, value) = line.split_once('=')?;
            (name.trim() == key).then(|| value.trim().to_owned())
        })
}

/// The region a profile names, if any.
pub fn profile_region(profile: Option<&str>) -> Option<String> {
    let name = profile.map(str::to_owned).or_else(|| env("AWS_PROFILE"));
    Profiles::read().value(name.as_deref().unwrap_or("default"), "region")
}

/// Resolves credentials for `profile` (or the environment, then
/// `default`); roles are assumed through the STS at `sts_endpoint`.
pub async fn resolve(profile: Option<&str>, sts_endpoint: &str) -> Result<Credentials, String> {
    let named = profile.map(str::to_owned).or_else(|| env("AWS_PROFILE"));
    if named.is_none()
        && let Some(credentials) = from_environment()
    {
        return Ok(credentials);
    }
    let profiles = Profiles::read();
    let name = named.unwrap_or_else(|| "default".to_owned());
    if !profiles.exists(&name) {
        return Err(format!(
            "no credentials: no AWS_ACCESS_KEY_ID in the environment and no profile {name} in ~/.aws/credentials or ~/.aws/config"
        ));
    }
    from_profile(&profiles, &name, sts_endpoint, 0).await
}

fn from_environment() -> Option<Credentials> {
    Some(Credentials {
        access_key_id: env("AWS_ACCESS_KEY_ID")?,
        secret_access_key: env("AWS_SECRET_ACCESS_KEY")?,
        session_token: env("AWS_SESSION_TOKEN"),
    })
}

fn from_profile<'a>(
    profiles: &'a Profiles,
    name: &'a str,
    sts_endpoint: &'a str,
    depth: usize,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Credentials, String>> + 'a>> {
    Box::pin(async move {
        if depth > MAX_CHAIN {
            return Err(format!(
                "profile {name}: source_profile chain longer than {MAX_CHAIN} (a loop?)"
            ));
        }
        let value = |key: &str| profiles.value(name, key);
        let static_keys = || {
            Some(Credentials {
                access_key_id: value("aws_access_key_id")?,
                secret_access_key: value("aws_secret_access_key")?,
                session_token: value("aws_session_token"),
            })
        };
        if let Some(role_arn) = value("role_arn") {
            let source = match (value("source_profile"), value("credential_source")) {
                (Some(source), _) if source == name => static_keys().ok_or_else(|| {
                    format!("profile {name}: source_profile is itself but it has no keys")
                })?,
                (Some(source), _) => {
                    if !profiles.exists(&source) {
                        return Err(format!("profile {name}: source_profile {source} does not exist"));
                    }
                    from_profile(profiles, &source, sts_endpoint, depth + 1).await?
                }
                (None, Some(origin)) if origin == "Environment" => from_environment()
                    .ok_or_else(|| format!("profile {name}: credential_source Environment, but AWS_ACCESS_KEY_ID is not set"))?,
                (None, Some(origin)) => {
                    return Err(format!("profile {name}: credential_source {origin} is not supported (Environment is)"));
                }
                (None, None) => {
                    return Err(format!("profile {name}: role_arn needs source_profile or credential_source"));
                }
            };
            let session_name =
                value("role_session_name").unwrap_or_else(|| "iamgate-invoke".to_owned());
            return assume_role(
                &source,
                sts_endpoint,
                &role_arn,
                &session_name,
                value("external_id").as_deref(),
                value("duration_seconds").as_deref(),
            )
            .await
            .map_err(|error| format!("profile {name}: assuming {role_arn}: {error}"));
        }
        if let Some(credentials) = static_keys() {
            return Ok(credentials);
        }
        if let Some(command) = value("credential_process") {
            return credential_process(&command)
                .map_err(|error| format!("profile {name}: credential_process: {error}"));
        }
        Err(format!(
            "profile {name} has no keys, role_arn or credential_process"
        ))
    })
}

/// Runs `command` and reads the keys from its JSON answer.
fn credential_process(command: &str) -> Result<Credentials, String> {
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|error| format!("cannot run it: {error}"))?;
    if !output.status.success() {
        return Err(format!("it exited with {}", output.status));
    }
    let answer: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|_| "its output is not JSON".to_owned())?;
    if answer.get("Version").and_then(serde_json::Value::as_i64) != Some(1) {
        return Err("its output is not Version 1".to_owned());
    }
    let text = |key: &str| answer.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    match (text("AccessKeyId"), text("SecretAccessKey")) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials {
            access_key_id,
            secret_access_key,
            session_token: text("SessionToken"),
        }),
        _ => Err("its output has no AccessKeyId and SecretAccessKey".to_owned()),
    }
}

/// The text of the first `<tag>` element of an XML answer.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + xml.get(start..)?.find(&format!("</{tag}>"))?;
    xml.get(start..end)
}

async fn assume_role(
    source: &Credentials,
    sts_endpoint: &str,
    role_arn: &str,
    session_name: &str,
    external_id: Option<&str>,
    duration: Option<&str>,
) -> Result<Credentials, String> {
    let mut params = vec![
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", role_arn),
        ("RoleSessionName", session_name),
    ];
    if let Some(external_id) = external_id {
        params.push(("ExternalId", external_id));
    }
    if let Some(duration) = duration {
        params.push(("DurationSeconds", duration));
    }
    let body = remote::query_string(&params);
    let answer = remote::send(
        &Outgoing::to(sts_endpoint)?
            .method("POST")
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(body.into_bytes()),
        source,
        &profile_region(None).unwrap_or_else(|| "us-east-1".to_owned()),
        "sts",
    )
    .await?;
    let text = String::from_utf8_lossy(&answer.body);
    if answer.status != 200 {
        let message = element(&text, "Message").unwrap_or(&text);
        return Err(format!("{}: {message}", answer.status));
    }
    let field = |tag: &str| {
        element(&text, tag)
            .map(str::to_owned)
            .ok_or_else(|| format!("the STS answer has no {tag}"))
    };
    Ok(Credentials {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: field("SecretAccessKey")?,
        session_token: Some(field("SessionToken")?),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_value_is_read_from_its_own_section_only_and_credentials_win_over_config() {
        let profiles = Profiles {
            credentials: "[default]\naws_access_key_id = A\n[other]\naws_access_key_id=B\n".into(),
            config: "[profile other]\naws_access_key_id = C\nregion = eu-west-1\n# role_arn = x\n"
                .into(),
        };
        assert_eq!(
            profiles.value("other", "aws_access_key_id").as_deref(),
            Some("B")
        );
        assert_eq!(
            profiles.value("other", "region").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(profiles.value("other", "role_arn"), None);
        assert_eq!(profiles.value("none", "aws_access_key_id"), None);
        assert!(profiles.exists("other") && !profiles.exists("none"));
    }

    #[test]
    fn the_first_element_of_an_xml_answer_is_found_by_its_tag() {
        let xml = "<A><AccessKeyId>ASIAX</AccessKeyId><SessionToken>t</SessionToken></A>";
        assert_eq!(element(xml, "AccessKeyId"), Some("ASIAX"));
        assert_eq!(element(xml, "Missing"), None);
    }

    #[test]
    fn a_credential_process_answer_gives_its_keys_and_a_bad_one_says_why() {
        let good = credential_process(
            r#"echo '{"Version": 1, "AccessKeyId": "AKIAPROCESS", "SecretAccessKey": "s", "SessionToken": "t"}'"#,
        )
        .unwrap();
        assert_eq!(
            (good.access_key_id.as_str(), good.session_token.as_deref()),
            ("AKIAPROCESS", Some("t"))
        );
        assert!(
            credential_process("echo nope")
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(credential_process("exit 3").unwrap_err().contains("exited"));
        assert!(
            credential_process(r#"echo '{"Version": 2}'"#)
                .unwrap_err()
                .contains("Version 1")
        );
    }

    #[test]
    fn debug_output_leaves_the_secret_out() {
        let credentials = Credentials {
            access_key_id: "AKIAVISIBLE".into(),
            secret_access_key: "very-secret".into(),
            session_token: Some("token-secret".into()),
        };
        let printed = format!("{credentials:?}");
        assert!(
            printed.contains("AKIAVISIBLE")
                && !printed.contains("secret")
                && !printed.contains("token-")
        );
    }
}
