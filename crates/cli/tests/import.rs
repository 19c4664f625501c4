#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! `iamgate import` end to end: a setup read out of a running server with
//! the AWS CLI's own read-only commands (IAM details, roles, GetExport,
//! ExportApi),
//! imported, and served again, must read out the same and decide the same;
//! what would be refused writes nothing.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::{AwsCli, Keys, Server, ServerOptions, http, sign_execute_api};

const ROOT_1: (&str, &str) = (
    "AKIAIMPORTROOT000001",
    "importRootSecretKey000000000000000000001",
);
const ROOT_2: (&str, &str) = (
    "AKIAIMPORTROOT000002",
    "importRootSecretKey000000000000000000002",
);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/import")
        .join(name)
}

fn iamgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(args)
        .output()
        .unwrap()
}

/// The details without what differs from one creation to the next.
fn comparable(value: &Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "CreateDate" | "UpdateDate" | "RoleLastUsed")
                })
                .map(|(k, v)| (k.clone(), comparable(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(comparable).collect()),
        other => other.clone(),
    }
}

/// The key on a `{ id: …, secret: "…" }` line of the world file.
fn key_on(line: &str) -> Keys {
    let id = line
        .split("id: ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    let secret = line
        .split("secret: \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    Keys::new(id, secret)
}

/// The root key `--with-test-keys` wrote for `account`.
fn imported_root(world: &str, account: &str) -> Keys {
    let mut lines = world.lines();
    lines
        .find(|line| line.contains(&format!("- id: \"{account}\"")))
        .unwrap();
    let line = lines.next().unwrap();
    assert!(line.contains("root_access_key"), "{line}");
    key_on(line)
}

/// The key `--with-test-keys` wrote for the user named `name`.
fn imported_user_key(world: &str, name: &str) -> Keys {
    let start = world.find(&format!("- name: \"{name}\"")).unwrap();
    key_on(
        world[start..]
            .lines()
            .find(|line| line.contains("access_keys:"))
            .unwrap(),
    )
}

fn who_can(world: &Path, action: &str, resource: &str) -> Value {
    let output = iamgate(&[
        "who-can",
        "--world",
        world.to_str().unwrap(),
        "--action",
        action,
        "--resource",
        resource,
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_setup_read_out_with_the_aws_cli_and_imported_reads_out_the_same_and_decides_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let original = fixture("world.yaml");
    let server = Server::start(&ServerOptions {
        config: Some(original.clone()),
        data_dir: dir.path().join("a"),
        ..ServerOptions::default()
    });
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let saved = dir.path().join("saved");
    std::fs::create_dir(&saved).unwrap();
    let mut details = Vec::new();
    for (n, (id, secret)) in [ROOT_1, ROOT_2].into_iter().enumerate() {
        let keys = Keys::new(id, secret);
        let run = cli.run(&keys, &["iam", "get-account-authorization-details"]);
        std::fs::write(saved.join(format!("details-{n}.json")), &run.stdout).unwrap();
        details.push(run.json());
        let roles = cli.run(&keys, &["iam", "list-roles"]);
        std::fs::write(saved.join(format!("roles-{n}.json")), &roles.stdout).unwrap();
    }
    let export = saved.join("rtapi00001-prod.json");
    cli.run(
        &Keys::new(ROOT_1.0, ROOT_1.1),
        &[
            "apigateway",
            "get-export",
            "--rest-api-id",
            "rtapi00001",
            "--stage-name",
            "prod",
            "--export-type",
            "oas30",
            "--parameters",
            "extensions=apigateway",
            "--accepts",
            "application/json",
            export.to_str().unwrap(),
        ],
    )
    .json();
    let http_export = saved.join("rthttp0001.json");
    let exported = cli.run(
        &Keys::new(ROOT_1.0, ROOT_1.1),
        &[
            "apigatewayv2",
            "export-api",
            "--api-id",
            "rthttp0001",
            "--specification",
            "OAS30",
            "--output-type",
            "JSON",
            "--stage-name",
            "$default",
            http_export.to_str().unwrap(),
        ],
    );
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    // Custom domain names and their mappings, as apigateway and
    // apigatewayv2 list them; a mappings output is saved under its
    // domain's name.
    let root_1 = Keys::new(ROOT_1.0, ROOT_1.1);
    let save = |file: &str, args: &[&str]| {
        let run = cli.run(&root_1, args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        std::fs::write(saved.join(file), &run.stdout).unwrap();
    };
    save("domain-names.json", &["apigateway", "get-domain-names"]);
    save(
        "mappings-api.example.com.json",
        &[
            "apigateway",
            "get-base-path-mappings",
            "--domain-name",
            "api.example.com",
        ],
    );
    save(
        "v2-domain-names.json",
        &["apigatewayv2", "get-domain-names"],
    );
    save(
        "api-mappings-http.example.com.json",
        &[
            "apigatewayv2",
            "get-api-mappings",
            "--domain-name",
            "http.example.com",
        ],
    );

    let imported = dir.path().join("imported/world.yaml");
    std::fs::create_dir(imported.parent().unwrap()).unwrap();
    let output = iamgate(&[
        "import",
        "--output",
        imported.to_str().unwrap(),
        "--with-test-keys",
        // The HTTP API's export names no account, and two are imported.
        "--account",
        "111111111111",
        saved.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // Key ids are printed once; the secrets are only in the file.
    let world = std::fs::read_to_string(&imported).unwrap();
    let alice = imported_user_key(&world, "alice");
    assert!(stderr.contains(&format!(
        "test key {} for arn:aws:iam::111111111111:user/dev/alice",
        alice.id
    )));
    assert!(!stderr.contains(&alice.secret));
    // What list-roles adds to the details.
    assert!(world.contains("max_session_duration: 7200"), "{world}");
    assert!(world.contains("description: \"assumed by the other account's CI user\""));

    // Served again, the same read-only commands read out the same setup,
    // unique ids included.
    let again = Server::start(&ServerOptions {
        config: Some(imported.clone()),
        data_dir: dir.path().join("b"),
        ..ServerOptions::default()
    });
    let cli_again = cli.with_endpoint(&again.endpoint());
    for (account, before) in ["111111111111", "222222222222"].iter().zip(&details) {
        let keys = imported_root(&world, account);
        let after = cli_again
            .run(&keys, &["iam", "get-account-authorization-details"])
            .json();
        assert_eq!(comparable(&after), comparable(before), "account {account}");
        assert!(!before["UserDetailList"].as_array().unwrap().is_empty());
    }
    let role = cli_again
        .run(
            &imported_root(&world, "111111111111"),
            &["iam", "get-role", "--role-name", "deployer"],
        )
        .json();
    assert_eq!(role["Role"]["MaxSessionDuration"], 7200);

    // The same decisions, offline.
    for (action, resource) in [
        (
            "sts:AssumeRole",
            "arn:aws:iam::111111111111:role/ci/deployer",
        ),
        ("s3:GetObject", "arn:aws:s3:::bucket/report.csv"),
        ("s3:DeleteObject", "arn:aws:s3:::bucket/report.csv"),
        (
            "execute-api:Invoke",
            "arn:aws:execute-api:us-east-1:111111111111:abc123/prod/GET/",
        ),
        ("iam:GetUser", "arn:aws:iam::111111111111:user/bob"),
    ] {
        let before = who_can(&original, action, resource);
        let after = who_can(&imported, action, resource);
        assert_eq!(after, before, "{action} on {resource}");
    }

    for (api, stage, route) in [
        ("rtapi00001", "prod", "GET /items/42"),
        ("rtapi00001", "prod", "GET /health"),
        ("rthttp0001", "$default", "GET /status"),
    ] {
        let who = |world: &Path| {
            let output = iamgate(&[
                "who-can",
                "--world",
                world.to_str().unwrap(),
                "--api",
                api,
                "--stage",
                stage,
                "--route",
                route,
                "--json",
            ]);
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            serde_json::from_slice::<Value>(&output.stdout).unwrap()
        };
        assert_eq!(who(&imported), who(&original), "{route}");
    }

    // And live, with the test keys: the exported API lets in the user of
    // its own account whose policies allow it, not the other account's user
    // whose own policies do not; a user calls STS as itself; and the
    // cross-account role is assumed with its external id.
    let host = "rtapi00001.execute-api.us-east-1.amazonaws.com";
    let ci_key = imported_user_key(&world, "ci");
    for (keys, status) in [(&alice, 200), (&ci_key, 403)] {
        let signed = sign_execute_api(keys, "GET", host, "/prod/items/42", &[]);
        let answer = http(again.port, "GET", "/prod/items/42", &signed, b"").unwrap();
        assert_eq!(answer.status, status, "{}", answer.body);
        if status == 200 {
            assert_eq!(
                (answer.body.as_str(), answer.header("x-kind")),
                (r#"{"ok": true}"#, Some("item"))
            );
        }
    }
    // The custom domain routes the same: its base path to the REST API's
    // stage, and the domain names read out the same.
    let signed = sign_execute_api(&alice, "GET", "api.example.com", "/shop/items/42", &[]);
    let answer = http(again.port, "GET", "/shop/items/42", &signed, b"").unwrap();
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, r#"{"ok": true}"#),
        "{world}"
    );
    for (args, list) in [
        (&["apigateway", "get-domain-names"][..], "items"),
        (&["apigatewayv2", "get-domain-names"][..], "Items"),
        (
            &[
                "apigateway",
                "get-base-path-mappings",
                "--domain-name",
                "api.example.com",
            ][..],
            "items",
        ),
        (
            &[
                "apigatewayv2",
                "get-api-mappings",
                "--domain-name",
                "http.example.com",
            ][..],
            "Items",
        ),
    ] {
        let keys = imported_root(&world, "111111111111");
        let before = cli.run(&root_1, args).json();
        let after = cli_again.run(&keys, args).json();
        let names = |v: &Value| {
            let mut items: Vec<Value> = v[list]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| {
                    let mut item = item.clone();
                    if let Some(o) = item.as_object_mut() {
                        o.remove("certificateUploadDate");
                    }
                    item
                })
                .collect();
            items.sort_by_key(ToString::to_string);
            items
        };
        assert!(!names(&before).is_empty(), "{args:?}");
        assert_eq!(names(&after), names(&before), "{args:?}");
    }

    let caller = cli_again
        .run(&alice, &["sts", "get-caller-identity"])
        .json();
    assert_eq!(caller["Arn"], "arn:aws:iam::111111111111:user/dev/alice");
    let ci = imported_user_key(&world, "ci");
    let assumed = cli_again.run(
        &ci,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            "arn:aws:iam::111111111111:role/ci/deployer",
            "--role-session-name",
            "build",
            "--external-id",
            "build-42",
        ],
    );
    assert_eq!(
        assumed.json()["AssumedRoleUser"]["Arn"],
        "arn:aws:sts::111111111111:assumed-role/deployer/build"
    );
    cli_again
        .run(
            &ci,
            &[
                "sts",
                "assume-role",
                "--role-arn",
                "arn:aws:iam::111111111111:role/ci/deployer",
                "--role-session-name",
                "build",
            ],
        )
        .assert_error("AccessDenied", "sts:AssumeRole");
}

#[test]
fn a_rest_api_export_is_imported_beside_the_world_file_and_served() {
    let dir = tempfile::tempdir().unwrap();
    let details = dir.path().join("details.json");
    std::fs::write(
        &details,
        r#"{"UserDetailList":[{"Path":"/","UserName":"ci","UserId":"AIDAEXAMPLECIUSER0001","Arn":"arn:aws:iam::222222222222:user/ci","UserPolicyList":[{"PolicyName":"invoke","PolicyDocument":"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22execute-api%3AInvoke%22%2C%22Resource%22%3A%22*%22%7D%5D%7D"}],"GroupList":[],"AttachedManagedPolicies":[]}],"GroupDetailList":[],"RoleDetailList":[],"Policies":[]}"#,
    )
    .unwrap();
    let world = dir.path().join("out/world.yaml");
    std::fs::create_dir(world.parent().unwrap()).unwrap();
    let export = fixture("rest-api-export.json");
    // The export names no account: its resource policy's ARNs do (not the
    // details' one account, 222222222222).
    let args = [
        "import",
        "--output",
        world.to_str().unwrap(),
        "--with-test-keys",
        details.to_str().unwrap(),
        export.to_str().unwrap(),
    ];
    let output = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(world.with_file_name("a1b2c3d4e5.openapi.json").is_file());
    let text = std::fs::read_to_string(&world).unwrap();
    assert!(text.contains("account: \"111111111111\""), "{text}");
    let server = Server::start(&ServerOptions {
        config: Some(world.clone()),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    let host = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
    let open = http(
        server.port,
        "GET",
        "/prod/health",
        &[("host".into(), host.into())],
        b"",
    )
    .unwrap();
    assert_eq!((open.status, open.body.as_str()), (200, r#"{"ok": true}"#));
    // The imported resource policy lets anyone read /health and the other
    // account's user in.
    let ci = imported_user_key(&text, "ci");
    let signed = sign_execute_api(&ci, "GET", host, "/prod/items", &[]);
    let items = http(server.port, "GET", "/prod/items", &signed, b"").unwrap();
    assert_eq!(items.status, 200, "{}", items.body);
}

#[test]
fn an_import_the_world_file_would_refuse_writes_nothing_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let details = dir.path().join("details.json");
    std::fs::write(
        &details,
        r#"{"UserDetailList":[{"Path":"/","UserName":"ops","UserId":"AIDAEXAMPLEOPSUSER001","Arn":"arn:aws:iam::111111111111:user/ops","UserPolicyList":[],"GroupList":[],"AttachedManagedPolicies":[{"PolicyName":"NotAPolicy","PolicyArn":"arn:aws:iam::aws:policy/NotAnAwsManagedPolicy"}]}]}"#,
    )
    .unwrap();
    let world = dir.path().join("world.yaml");
    let output = iamgate(&[
        "import",
        "--output",
        world.to_str().unwrap(),
        details.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(stderr.contains("PolicyNotAttachable"), "{stderr}");
    assert!(!world.exists());
    assert!(!dir.path().join("world.yaml.partial").exists());

    let stray = dir.path().join("stray.json");
    std::fs::write(&stray, r#"{"Buckets": []}"#).unwrap();
    let output = iamgate(&["import", stray.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains(&format!(
        "{}: not an output iamgate imports",
        stray.display()
    )));
}

/// `iamgate import --endpoint-url` as the account's root, with
/// credentials from the environment.
fn import_into(server: &Server, keys: &Keys, paths: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .arg("import")
        .args(["--endpoint-url", &server.endpoint()])
        .args(paths)
        .env("AWS_ACCESS_KEY_ID", &keys.id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap()
}

const LOAD_DETAILS: &str = r#"{"UserDetailList":[{"Path":"/ops/","UserName":"ops","UserId":"AIDAEXAMPLEOPSUSER001","Arn":"arn:aws:iam::111111111111:user/ops/ops","GroupList":["readers"],"UserPolicyList":[{"PolicyName":"invoke","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}}],"AttachedManagedPolicies":[{"PolicyName":"ReadIam","PolicyArn":"arn:aws:iam::111111111111:policy/ReadIam"}],"Tags":[{"Key":"team","Value":"ops"}]}],
 "GroupDetailList":[{"Path":"/","GroupName":"readers","GroupId":"AGPAEXAMPLEREADERS001","Arn":"arn:aws:iam::111111111111:group/readers","GroupPolicyList":[],"AttachedManagedPolicies":[{"PolicyName":"ReadIam","PolicyArn":"arn:aws:iam::111111111111:policy/ReadIam"}]}],
 "RoleDetailList":[{"Path":"/","RoleName":"app","RoleId":"AROAEXAMPLEAPPROLE001","Arn":"arn:aws:iam::111111111111:role/app","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]},"RolePolicyList":[],"AttachedManagedPolicies":[]}],
 "Policies":[{"PolicyName":"ReadIam","PolicyId":"ANPAEXAMPLEREADIAM001","Arn":"arn:aws:iam::111111111111:policy/ReadIam","Path":"/","DefaultVersionId":"v1","PolicyVersionList":[{"Document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]},"VersionId":"v1","IsDefaultVersion":true}]}]}"#;

#[test]
fn an_import_is_loaded_into_a_running_server_through_its_own_apis() {
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = dir.path().join("bootstrap.yaml");
    std::fs::write(
        &bootstrap,
        format!(
            "accounts:\n  - id: \"111111111111\"\n    root_access_key: {{ id: {}, secret: \"{}\" }}\n  - id: \"222222222222\"\n    root_access_key: {{ id: {}, secret: \"{}\" }}\n",
            ROOT_1.0, ROOT_1.1, ROOT_2.0, ROOT_2.1
        ),
    )
    .unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(bootstrap),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    let root = Keys::new(ROOT_1.0, ROOT_1.1);
    let saved = dir.path().join("saved");
    std::fs::create_dir(&saved).unwrap();
    std::fs::write(saved.join("details.json"), LOAD_DETAILS).unwrap();
    std::fs::copy(fixture("rest-api-export.json"), saved.join("export.json")).unwrap();
    std::fs::write(
        saved.join("domain-names.json"),
        r#"{"items":[{"domainName":"load.example.com","regionalDomainName":"d-abcdefghij.execute-api.us-east-1.amazonaws.com","endpointConfiguration":{"types":["REGIONAL"]}}]}"#,
    )
    .unwrap();
    std::fs::write(
        saved.join("mappings-load.example.com.json"),
        r#"{"items":[{"basePath":"(none)","restApiId":"a1b2c3d4e5","stage":"prod"}]}"#,
    )
    .unwrap();

    // Another account's outputs are refused before anything is sent.
    let other = dir.path().join("other.json");
    std::fs::write(
        &other,
        LOAD_DETAILS
            .replace("111111111111", "222222222222")
            .replace("EXAMPLE", "ANOTHER"),
    )
    .unwrap();
    let refused = import_into(&server, &root, &[&saved, &other]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("nothing was sent") && stderr.contains("account 222222222222"),
        "{stderr}"
    );

    let output = import_into(&server, &root, &[&saved]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains(ROOT_1.1));

    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let details = cli
        .run(&root, &["iam", "get-account-authorization-details"])
        .json();
    let user = &details["UserDetailList"][0];
    assert_eq!(user["Arn"], "arn:aws:iam::111111111111:user/ops/ops");
    assert_eq!(user["GroupList"][0], "readers");
    assert_eq!(user["UserPolicyList"][0]["PolicyName"], "invoke");
    assert_eq!(user["Tags"][0]["Value"], "ops");
    assert_eq!(
        user["AttachedManagedPolicies"][0]["PolicyArn"],
        "arn:aws:iam::111111111111:policy/ReadIam"
    );
    assert_eq!(details["RoleDetailList"][0]["RoleName"], "app");
    // The API has a new id; its custom domain serves it, and its resource
    // policy still speaks of it.
    let apis = cli.run(&root, &["apigateway", "get-rest-apis"]).json();
    let id = apis["items"][0]["id"].as_str().unwrap().to_owned();
    assert_ne!(id, "a1b2c3d4e5");
    assert!(
        stderr.contains(&format!("API a1b2c3d4e5 is {id}")),
        "{stderr}"
    );
    let health = http(
        server.port,
        "GET",
        "/health",
        &[("host".into(), "load.example.com".into())],
        b"",
    )
    .unwrap();
    assert_eq!(
        (health.status, health.body.as_str()),
        (200, r#"{"ok": true}"#)
    );

    // Loading again: the server refuses the first call; nothing before it.
    let again = import_into(&server, &root, &[&saved]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success());
    assert!(
        stderr.contains("iam CreatePolicy ReadIam was refused: 409 EntityAlreadyExists")
            && stderr.contains("nothing was applied before it"),
        "{stderr}"
    );
    // Refused midway (the other account already has the role): what was
    // applied before is listed.
    let root_2 = Keys::new(ROOT_2.0, ROOT_2.1);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sts:AssumeRole"}]}"#;
    let made = cli.run(
        &root_2,
        &[
            "iam",
            "create-role",
            "--role-name",
            "app",
            "--assume-role-policy-document",
            trust,
        ],
    );
    assert_eq!(made.code, 0, "{}", made.stderr);
    let midway = import_into(&server, &root_2, &[&other]);
    let stderr = String::from_utf8_lossy(&midway.stderr);
    assert!(!midway.status.success(), "{stderr}");
    assert!(
        stderr.contains("iam CreateRole app was refused: 409 EntityAlreadyExists")
            && stderr.contains("stay applied")
            && stderr.contains("  iam CreateUser ops"),
        "{stderr}"
    );
}
