#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Mapping templates end to end: REST APIs built with the AWS CLI against
//! a running `iamgate serve` — a MOCK whose response template reads a path
//! parameter and the signed caller's ARN, a non-proxy HTTP integration
//! with request and response templates against a loopback backend — and
//! the refusals that leave the stored API as it was (an unparsable
//! template, through Put and through Update).

mod support;

use serde_json::{Value, json};
use support::{AwsCli, Keys, Server, ServerOptions, http, sign_execute_api, start_echo_backend};

const WORLD: &str = r#"
accounts:
  - id: "123456789012"
    root_access_key: { id: AKIAEXAMPLEMAPROOT01, secret: "exampleMappingRootSecretKey0000000000001" }
    users:
      - name: alice
        access_keys: [{ id: AKIAEXAMPLEMAPALICE1, secret: "exampleMappingAliceSecretKey000000000001" }]
        policies:
          invoke:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [execute-api:Invoke]
                Resource: ["arn:aws:execute-api:us-east-1:123456789012:*"]
"#;

fn root() -> Keys {
    Keys::new(
        "AKIAEXAMPLEMAPROOT01",
        "exampleMappingRootSecretKey0000000000001",
    )
}

fn alice() -> Keys {
    Keys::new(
        "AKIAEXAMPLEMAPALICE1",
        "exampleMappingAliceSecretKey000000000001",
    )
}

fn start() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("world.yaml");
    std::fs::write(&config, WORLD).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(config),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    (server, dir)
}

/// An API being built with the CLI as the account's root.
struct Builder<'a> {
    cli: &'a AwsCli,
    api: String,
}

impl Builder<'_> {
    fn run(&self, args: &[&str]) -> support::CliRun {
        self.cli.run(&root(), args)
    }

    /// A resource `path_part` under `parent`; its id.
    fn resource(&self, parent: &str, path_part: &str) -> String {
        self.run(&[
            "apigateway",
            "create-resource",
            "--rest-api-id",
            &self.api,
            "--parent-id",
            parent,
            "--path-part",
            path_part,
        ])
        .json()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `apigateway OPERATION --rest-api-id … --resource-id … --http-method … EXTRA`.
    fn on(&self, operation: &str, resource: &str, method: &str, extra: &[&str]) -> support::CliRun {
        self.run(
            &[
                &[
                    "apigateway",
                    operation,
                    "--rest-api-id",
                    &self.api,
                    "--resource-id",
                    resource,
                    "--http-method",
                    method,
                ][..],
                extra,
            ]
            .concat(),
        )
    }

    fn deploy(&self) {
        self.run(&[
            "apigateway",
            "create-deployment",
            "--rest-api-id",
            &self.api,
            "--stage-name",
            "prod",
            "--variables",
            "colour=blue",
        ])
        .json();
    }
}

fn new_api<'a>(cli: &'a AwsCli, name: &str) -> (Builder<'a>, String) {
    let api = cli
        .run(&root(), &["apigateway", "create-rest-api", "--name", name])
        .json();
    let builder = Builder {
        cli,
        api: api["id"].as_str().unwrap().to_owned(),
    };
    let root_id = api["rootResourceId"].as_str().unwrap().to_owned();
    (builder, root_id)
}

/// A request to stage `prod` of `api`, signed by `keys` when given.
fn invoke(
    server: &Server,
    api: &str,
    method: &str,
    path: &str,
    keys: Option<&Keys>,
    headers: &[(&str, &str)],
    body: &str,
) -> support::HttpResponse {
    let host = format!("{api}.execute-api.us-east-1.amazonaws.com");
    let target = format!("/prod{path}");
    let mut all: Vec<(String, String)> = match keys {
        Some(keys) => sign_execute_api(keys, method, &host, &target, headers),
        None => {
            let mut plain = vec![("host".to_owned(), host.clone())];
            plain.extend(
                headers
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
            );
            plain
        }
    };
    if !body.is_empty() {
        all.push(("content-length".into(), body.len().to_string()));
    }
    http(server.port, method, &target, &all, body.as_bytes()).unwrap()
}

const PET_TEMPLATE: &str = r#"{"id": $input.params('id'), "caller": "$context.identity.userArn", "colour": "$stageVariables.colour"}"#;

#[test]
fn a_mock_built_with_the_aws_cli_answers_with_the_path_parameter_and_the_callers_arn() {
    let (server, _dir) = start();
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let (api, root_id) = new_api(&cli, "mapping-mock");
    let pets = api.resource(&root_id, "pets");
    let pet = api.resource(&pets, "{id}");
    api.on(
        "put-method",
        &pet,
        "GET",
        &["--authorization-type", "AWS_IAM"],
    )
    .json();
    let integration = api
        .on(
            "put-integration",
            &pet,
            "GET",
            &[
                "--type",
                "MOCK",
                "--request-templates",
                r#"{"application/json": "{\"statusCode\": 200}"}"#,
            ],
        )
        .json();
    assert_eq!(integration["passthroughBehavior"], "WHEN_NO_MATCH");
    api.on(
        "put-method-response",
        &pet,
        "GET",
        &[
            "--status-code",
            "200",
            "--response-parameters",
            "method.response.header.X-Pet=false",
        ],
    )
    .json();
    let templates = json!({ "application/json": PET_TEMPLATE }).to_string();
    let stored = api
        .on(
            "put-integration-response",
            &pet,
            "GET",
            &[
                "--status-code",
                "200",
                "--selection-pattern",
                "",
                "--response-templates",
                &templates,
                "--response-parameters",
                r#"{"method.response.header.X-Pet": "'yes'"}"#,
            ],
        )
        .json();
    assert_eq!(
        stored["responseTemplates"]["application/json"],
        PET_TEMPLATE
    );
    api.deploy();

    let answer = invoke(
        &server,
        &api.api,
        "GET",
        "/pets/42",
        Some(&alice()),
        &[],
        "",
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body,
        r#"{"id": 42, "caller": "arn:aws:iam::123456789012:user/alice", "colour": "blue"}"#
    );
    assert_eq!(answer.header("X-Pet"), Some("yes"));
    assert_eq!(answer.header("Content-Type"), Some("application/json"));

    // UpdateIntegrationResponse and UpdateMethodResponse with AWS's paths.
    let patch = json!([
        {"op": "replace", "path": "/responseTemplates/application~1json", "value": "{\"pet\": \"$input.params().path.id\"}"},
        {"op": "add", "path": "/responseParameters/method.response.header.X-Stage", "value": "stageVariables.colour"},
        {"op": "replace", "path": "/selectionPattern", "value": "2\\d\\d"},
    ])
    .to_string();
    let updated = api
        .on(
            "update-integration-response",
            &pet,
            "GET",
            &["--status-code", "200", "--patch-operations", &patch],
        )
        .json();
    assert_eq!(updated["selectionPattern"], "2\\d\\d");
    assert_eq!(
        updated["responseParameters"]["method.response.header.X-Stage"],
        "stageVariables.colour"
    );
    let patch = json!([{"op": "add", "path": "/responseParameters/method.response.header.X-Stage", "value": "false"}]).to_string();
    let method_response = api
        .on(
            "update-method-response",
            &pet,
            "GET",
            &["--status-code", "200", "--patch-operations", &patch],
        )
        .json();
    assert_eq!(
        method_response["responseParameters"],
        json!({"method.response.header.X-Pet": false, "method.response.header.X-Stage": false})
    );
    api.deploy();
    let answer = invoke(&server, &api.api, "GET", "/pets/7", Some(&alice()), &[], "");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, r#"{"pet": "7"}"#);
    assert_eq!(answer.header("X-Stage"), Some("blue"));

    // Unsigned: the method is AWS_IAM.
    let answer = invoke(&server, &api.api, "GET", "/pets/7", None, &[], "");
    assert_eq!(answer.status, 403);
}

#[test]
fn an_unparsable_template_is_refused_and_leaves_the_stored_api_unchanged() {
    let (server, _dir) = start();
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let (api, root_id) = new_api(&cli, "mapping-refusals");
    api.on(
        "put-method",
        &root_id,
        "GET",
        &["--authorization-type", "NONE"],
    )
    .json();
    api.on(
        "put-integration",
        &root_id,
        "GET",
        &[
            "--type",
            "MOCK",
            "--request-templates",
            r#"{"application/json": "{\"statusCode\": 200}"}"#,
        ],
    )
    .json();
    let good = json!({ "application/json": "{\"ok\": true}" }).to_string();
    api.on(
        "put-integration-response",
        &root_id,
        "GET",
        &["--status-code", "200", "--response-templates", &good],
    )
    .json();
    let get_integration = || api.on("get-integration", &root_id, "GET", &[]).json();
    let before = get_integration();

    // PutIntegrationResponse with a template that does not parse.
    let bad = json!({ "application/json": "#if($input.body) never closed" }).to_string();
    api.on(
        "put-integration-response",
        &root_id,
        "GET",
        &["--status-code", "200", "--response-templates", &bad],
    )
    .assert_error(
        "BadRequestException",
        "Invalid mapping template specified for content type 'application/json': line 1",
    );
    // UpdateIntegrationResponse to one.
    let patch = json!([{"op": "replace", "path": "/responseTemplates/application~1json", "value": "#foreach($x in $y)"}]).to_string();
    api.on(
        "update-integration-response",
        &root_id,
        "GET",
        &["--status-code", "200", "--patch-operations", &patch],
    )
    .assert_error("BadRequestException", "Invalid mapping template specified");
    // PutIntegration and UpdateIntegration with a request template that does not parse.
    api.on(
        "put-integration",
        &root_id,
        "GET",
        &[
            "--type",
            "MOCK",
            "--request-templates",
            r##"{"application/json": "#macro(x)#end"}"##,
        ],
    )
    .assert_error("BadRequestException", "Invalid mapping template specified");
    let patch =
        json!([{"op": "add", "path": "/requestTemplates/text~1plain", "value": "$input.json("}])
            .to_string();
    api.on(
        "update-integration",
        &root_id,
        "GET",
        &["--patch-operations", &patch],
    )
    .assert_error("BadRequestException", "Invalid mapping template specified");
    // A selection pattern that is no regular expression.
    api.on(
        "put-integration-response",
        &root_id,
        "GET",
        &["--status-code", "400", "--selection-pattern", "4(\\d"],
    )
    .assert_error("BadRequestException", "Invalid selection pattern specified");

    assert_eq!(get_integration(), before, "nothing was stored");
    api.deploy();
    let answer = invoke(&server, &api.api, "GET", "/", None, &[], "");
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, r#"{"ok": true}"#)
    );
}

#[test]
fn a_non_proxy_http_integration_built_with_the_aws_cli_maps_request_and_response() {
    let (server, _dir) = start();
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let backend = start_echo_backend();
    let (api, root_id) = new_api(&cli, "mapping-http");
    let orders = api.resource(&root_id, "orders");
    let order = api.resource(&orders, "{id}");
    api.on(
        "put-method",
        &order,
        "POST",
        &["--authorization-type", "NONE"],
    )
    .json();
    let request_templates = json!({
        "application/json": "{\"item\": $input.json('$.item'), \"id\": \"$input.params('id')\", \"colour\": \"$stageVariables.colour\"}"
    })
    .to_string();
    let request_parameters = json!({
        "integration.request.path.id": "method.request.path.id",
        "integration.request.querystring.via": "'iamgate'",
    })
    .to_string();
    let integration = api
        .on(
            "put-integration",
            &order,
            "POST",
            &[
                "--type",
                "HTTP",
                "--integration-http-method",
                "PUT",
                "--uri",
                &format!("http://127.0.0.1:{backend}/created/{{id}}"),
                "--passthrough-behavior",
                "NEVER",
                "--request-templates",
                &request_templates,
                "--request-parameters",
                &request_parameters,
            ],
        )
        .json();
    assert_eq!(integration["type"], "HTTP");
    assert_eq!(integration["passthroughBehavior"], "NEVER");
    api.on(
        "put-method-response",
        &order,
        "POST",
        &["--status-code", "201"],
    )
    .json();
    let response_templates = json!({
        "application/json": "#set($sent = $util.parseJson($input.path('$.body')))\n{\"backend\": \"$input.path('$.method') $input.path('$.target')\", \"item\": \"$sent.item.name\", \"id\": \"$sent.id\", \"colour\": \"$sent.colour\"}"
    })
    .to_string();
    api.on(
        "put-integration-response",
        &order,
        "POST",
        &[
            "--status-code",
            "201",
            "--selection-pattern",
            "2\\d\\d",
            "--response-templates",
            &response_templates,
            "--response-parameters",
            r#"{"method.response.header.X-Backend": "integration.response.header.x-backend", "method.response.header.X-Sent-Type": "integration.response.body.contentType"}"#,
        ],
    )
    .json();
    api.deploy();

    let answer = invoke(
        &server,
        &api.api,
        "POST",
        "/orders/7",
        None,
        &[("content-type", "application/json")],
        r#"{"item": {"name": "tea"}}"#,
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        answer.body,
        r#"{"backend": "PUT /created/7?via=iamgate", "item": "tea", "id": "7", "colour": "blue"}"#
    );
    assert_eq!(answer.header("X-Backend"), Some("echo"));
    assert_eq!(answer.header("X-Sent-Type"), Some("application/json"));

    // NEVER: a Content-Type without a template is AWS's 415.
    let answer = invoke(
        &server,
        &api.api,
        "POST",
        "/orders/7",
        None,
        &[("content-type", "text/plain")],
        "tea",
    );
    assert_eq!(answer.status, 415, "{}", answer.body);
    assert_eq!(answer.body, r#"{"message":"Unsupported Media Type"}"#);
    let value: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(value["message"], "Unsupported Media Type");
}
