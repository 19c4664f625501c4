//! Rendering cost of a typical integration template: the AWS pet-store
//! body mapping (`#foreach` over `$input.path('$')`) plus the
//! all-parameters passthrough, over a 3-item body and a few parameters.
//! Parsing happens once, outside the timed loop, as the gateway would cache
//! the parsed template.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use iamgate_vtl::{Inputs, Template, Value};

const TEMPLATE: &str = r#"#set($inputRoot = $input.path('$'))
#set($allParams = $input.params())
{
  "items": [
#foreach($elem in $inputRoot)
    {
      "description" : "Item $elem.id is a $elem.type.",
      "askingPrice" : $elem.price
    }#if($foreach.hasNext),#end

#end
  ],
  "caller": "$context.identity.userArn",
  "params" : {
    #foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
    "$type" : {
      #foreach($paramName in $params.keySet())
      "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
      #if($foreach.hasNext),#end
      #end
    }
    #if($foreach.hasNext),#end
    #end
  }
}"#;

const BODY: &str = r#"[{"id": 1, "type": "dog", "price": 249.99},
 {"id": 2, "type": "cat", "price": 124.99},
 {"id": 3, "type": "fish", "price": 0.99}]"#;

fn inputs() -> Inputs {
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    Inputs {
        body: BODY.to_owned(),
        path: vec![pair("petId", "42")],
        querystring: vec![pair("type", "dog"), pair("limit", "3")],
        header: vec![
            pair("Accept", "application/json"),
            pair("User-Agent", "curl/8.5.0"),
        ],
        context: [(
            "identity",
            Value::map([("userArn", "arn:aws:iam::111122223333:user/alice")]),
        )]
        .into_iter()
        .collect(),
        stage_variables: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let template = Template::parse(TEMPLATE).unwrap();
    let inputs = inputs();
    let rendered = template.render(&inputs).unwrap();
    serde_json::from_str::<serde_json::Value>(&rendered.body).expect("the bench renders JSON");
    c.bench_function("render pet-store + params template", |b| {
        b.iter(|| black_box(template.render(black_box(&inputs)).unwrap()))
    });
    c.bench_function("parse pet-store + params template", |b| {
        b.iter(|| black_box(Template::parse(black_box(TEMPLATE)).unwrap()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
