#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Property tests: parsing and rendering never panic, whatever the template
//! or body; text without `$` or `#` renders to itself.

use iamgate_vtl::{Inputs, Limits, Template};
use proptest::prelude::*;

/// Fragments that exercise the grammar far more often than random text.
fn template_soup() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "$",
        "$!",
        "${",
        "}",
        "#",
        "##",
        "#*",
        "*#",
        "#[[",
        "]]#",
        "#set(",
        "#if(",
        "#elseif(",
        "#else",
        "#end",
        "#foreach(",
        " in ",
        "#break",
        "#stop",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "'",
        "\"",
        "\\",
        ".",
        ",",
        ":",
        "..",
        "=",
        "==",
        "!",
        "&&",
        "||",
        "+",
        "-",
        "*",
        "/",
        "%",
        "<",
        ">",
        "a",
        "x",
        "1",
        "-2",
        "3.5",
        "true",
        "null",
        " ",
        "\n",
        "\r\n",
        "$a",
        "$x.y",
        "$input.json('$')",
        "$input.path('$.a')",
        "$input.params()",
        "$input.params('p')",
        "$util.escapeJavaScript(",
        "$util.parseJson(",
        "$util.urlDecode(",
        "$util.base64Decode(",
        "$context.requestOverride.header.h",
        "$context.responseOverride.status",
        ".size()",
        ".get(0)",
        ".add(1)",
        ".put('k', 1)",
        ".split(',')",
        ".replaceAll('a', '$1')",
        ".substring(1, 9)",
        "[1..3]",
        "$foreach.hasNext",
        "é",
        "😀",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|parts| parts.concat())
}

fn inputs(body: String) -> Inputs {
    Inputs {
        body,
        path: vec![("p".into(), "1".into())],
        ..Inputs::default()
    }
}

fn small_limits() -> Limits {
    Limits {
        max_work: 200_000,
        max_iterations: 1_000,
        max_output_bytes: 64 * 1024,
        ..Limits::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parsing_and_rendering_grammar_soup_never_panics(template in template_soup(), body in template_soup()) {
        if let Ok(parsed) = Template::parse_with_limits(&template, small_limits()) {
            let _ = parsed.render(&inputs(body));
            let _ = parsed.render(&inputs(r#"{"a": [1, {"b": "c"}], "d": "x"}"#.into()));
        }
    }

    #[test]
    fn parsing_and_rendering_arbitrary_text_never_panics(template in any::<String>(), body in any::<String>()) {
        if let Ok(parsed) = Template::parse_with_limits(&template, small_limits()) {
            let _ = parsed.render(&inputs(body));
        }
    }

    #[test]
    fn text_without_dollar_or_hash_renders_to_itself(text in "[^$#]*") {
        let rendered = Template::parse(&text).unwrap().render(&Inputs::default()).unwrap();
        prop_assert_eq!(rendered.body, text);
    }
}
