#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Behaviour of mapping templates, pinned by name: AWS's documented
//! examples first, then Velocity's rules, `$input`, `$util`, overrides,
//! errors and limits.

use iamgate_vtl::{Inputs, Limits, Map, RenderError, Template, Value};

fn render(template: &str, inputs: &Inputs) -> String {
    Template::parse(template)
        .unwrap_or_else(|e| panic!("{template:?} does not parse: {e}"))
        .render(inputs)
        .unwrap_or_else(|e| panic!("{template:?} does not render: {e}"))
        .body
}

fn render_empty(template: &str) -> String {
    render(template, &Inputs::default())
}

fn with_body(body: &str) -> Inputs {
    Inputs {
        body: body.to_owned(),
        ..Inputs::default()
    }
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn render_error(template: &str, inputs: &Inputs) -> RenderError {
    Template::parse(template)
        .unwrap()
        .render(inputs)
        .expect_err("rendering should fail")
}

// ---- AWS's documented examples ----

#[test]
fn hello_from_api_gateway_mock_template_renders_unchanged() {
    let template = "{\n    \"statusCode\": 200,\n    \"message\": \"Hello from API Gateway!\"\n}";
    assert_eq!(render_empty(template), template);
}

#[test]
fn mock_template_reads_path_parameter_as_issue_13_expects() {
    let inputs = Inputs {
        path: pairs(&[("id", "42")]),
        ..Inputs::default()
    };
    assert_eq!(
        render(
            r#"{"statusCode": 200, "id": $input.params().path.id}"#,
            &inputs
        ),
        r#"{"statusCode": 200, "id": 42}"#
    );
}

#[test]
fn pet_store_body_mapping_renders_the_documented_output() {
    let body = r#"[{"id": 1, "type": "dog", "price": 249.99},
                   {"id": 2, "type": "cat", "price": 124.99},
                   {"id": 3, "type": "fish", "price": 0.99}]"#;
    let template = "#set($inputRoot = $input.path('$'))\n[\n#foreach($elem in $inputRoot)\n  {\n    \"description\" : \"Item $elem.id is a $elem.type.\",\n    \"askingPrice\" : $elem.price\n  }#if($foreach.hasNext),#end\n\n#end\n]";
    let expected = "[\n  {\n    \"description\" : \"Item 1 is a dog.\",\n    \"askingPrice\" : 249.99\n  },\n  {\n    \"description\" : \"Item 2 is a cat.\",\n    \"askingPrice\" : 124.99\n  },\n  {\n    \"description\" : \"Item 3 is a fish.\",\n    \"askingPrice\" : 0.99\n  }\n]";
    assert_eq!(render(template, &with_body(body)), expected);
}

#[test]
fn things_example_reads_param_counts_and_escapes_json() {
    let template = "{\n    \"id\" : \"$input.params('id')\",\n    \"count\" : \"$input.path('$.things').size()\",\n    \"things\" : $util.escapeJavaScript($input.json('$.things'))\n}";
    let inputs = Inputs {
        body: r#"{"things": {"1": {}, "2": {}, "3": {}}}"#.into(),
        path: pairs(&[("id", "abc")]),
        ..Inputs::default()
    };
    assert_eq!(
        render(template, &inputs),
        "{\n    \"id\" : \"abc\",\n    \"count\" : \"3\",\n    \"things\" : {\\\"1\\\":{},\\\"2\\\":{},\\\"3\\\":{}}\n}"
    );
}

#[test]
fn all_params_example_produces_path_header_and_querystring_maps() {
    let template = r#"#set($allParams = $input.params())
{
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
    let inputs = Inputs {
        path: pairs(&[("petId", "7")]),
        querystring: pairs(&[("q", "a\"b"), ("limit", "2")]),
        header: pairs(&[("Accept", "*/*")]),
        ..Inputs::default()
    };
    let out = render(template, &inputs);
    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        parsed,
        serde_json::json!({"params": {
            "path": {"petId": "7"},
            "header": {"Accept": "*/*"},
            "querystring": {"q": "a\"b", "limit": "2"}
        }})
    );
}

#[test]
fn context_example_fills_identity_fields() {
    let identity = Value::map([
        ("userArn", "arn:aws:iam::111122223333:user/alice"),
        ("sourceIp", "192.0.2.1"),
    ]);
    let inputs = Inputs {
        context: [
            ("stage", Value::from("prod")),
            ("requestId", Value::from("abc-123")),
            ("identity", identity),
        ]
        .into_iter()
        .collect(),
        ..Inputs::default()
    };
    let template = "{ \"stage\" : \"$context.stage\", \"request_id\" : \"$context.requestId\", \"user_arn\" : \"$context.identity.userArn\", \"source_ip\" : \"$context.identity.sourceIp\" }";
    assert_eq!(
        render(template, &inputs),
        "{ \"stage\" : \"prod\", \"request_id\" : \"abc-123\", \"user_arn\" : \"arn:aws:iam::111122223333:user/alice\", \"source_ip\" : \"192.0.2.1\" }"
    );
}

#[test]
fn parse_json_example_reads_a_stringified_document() {
    let body = r#"{"errorMessage":"{\"key1\":\"var1\",\"key2\":{\"arr\":[1,2,3]}}"}"#;
    let template = "#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))\n{\n   \"errorMessageObjKey2ArrVal\" : $errorMessageObj.key2.arr[0]\n}\n";
    assert_eq!(
        render(template, &with_body(body)),
        "{\n   \"errorMessageObjKey2ArrVal\" : 1\n}\n"
    );
}

#[test]
fn escape_javascript_then_replace_all_restores_single_quotes_as_documented() {
    let inputs = Inputs {
        querystring: pairs(&[("data", "it's \"here\"")]),
        ..Inputs::default()
    };
    assert_eq!(
        render(
            r#"$util.escapeJavaScript($input.params('data')).replaceAll("\\'","'")"#,
            &inputs
        ),
        r#"it's \"here\""#
    );
}

#[test]
fn response_status_override_from_the_documented_tutorial() {
    let template = "#set($inputRoot = $input.path('$'))\n$input.json(\"$\")\n#if($inputRoot.toString().contains(\"error\"))\n#set($context.responseOverride.status = 400)\n#end\n";
    let body =
        r#"{"errors":[{"key":"GetPetRequest.petId","message":"The value is out of range."}]}"#;
    let rendered = Template::parse(template)
        .unwrap()
        .render(&with_body(body))
        .unwrap();
    assert_eq!(rendered.body, format!("{body}\n"));
    assert_eq!(rendered.overrides.response_status.as_deref(), Some("400"));
}

#[test]
fn request_header_override_from_the_documented_tutorial() {
    let template = "#set($header1Override = \"foo\")\n#set($header3Value = \"$input.params('header1')$input.params('header2')\")\n$input.json(\"$\")\n#set($context.requestOverride.header.header3 = $header3Value)\n#set($context.requestOverride.header.header1 = $header1Override)\n";
    let inputs = Inputs {
        body: "{}".into(),
        header: pairs(&[("header1", "header1Val"), ("header2", "header2Val")]),
        ..Inputs::default()
    };
    let rendered = Template::parse(template).unwrap().render(&inputs).unwrap();
    assert_eq!(rendered.body, "{}\n");
    assert_eq!(
        rendered.overrides.request_header,
        pairs(&[("header3", "header1Valheader2Val"), ("header1", "foo")])
    );
}

#[test]
fn stage_variables_read_with_all_three_documented_syntaxes() {
    let inputs = Inputs {
        stage_variables: pairs(&[("url", "example.com")]),
        ..Inputs::default()
    };
    assert_eq!(
        render(
            "$stageVariables.url|$stageVariables['url']|${stageVariables['url']}",
            &inputs
        ),
        "example.com|example.com|example.com"
    );
}

// ---- $input ----

#[test]
fn input_json_returns_json_text_of_the_selected_value() {
    let inputs = with_body(r#"{"a": {"b": [1, "x", true, null, 2.5]}, "s": "q\"uote"}"#);
    assert_eq!(
        render("$input.json('$.a')", &inputs),
        r#"{"b":[1,"x",true,null,2.5]}"#
    );
    assert_eq!(render("$input.json('$.s')", &inputs), r#""q\"uote""#);
    assert_eq!(
        render("$input.json('$')", &inputs),
        r#"{"a":{"b":[1,"x",true,null,2.5]},"s":"q\"uote"}"#
    );
}

#[test]
fn input_json_of_an_empty_body_is_an_empty_object() {
    assert_eq!(render_empty("$input.json('$')"), "{}");
    assert_eq!(render_empty("$input.path('$').size()"), "0");
}

#[test]
fn input_json_of_a_missing_member_renders_nothing() {
    assert_eq!(render("[$input.json('$.nope')]", &with_body("{}")), "[]");
}

#[test]
fn input_body_is_the_raw_payload() {
    assert_eq!(render("$input.body", &with_body("a=1&b=2")), "a=1&b=2");
}

#[test]
fn input_path_returns_values_templates_navigate() {
    let inputs = with_body(r#"{"pets": [{"type": "dog"}, {"type": "cat"}]}"#);
    assert_eq!(
        render(
            "$input.path('$.pets').size() $input.path('$.pets')[1].type $input.path('$.pets[0].type')",
            &inputs
        ),
        "2 cat dog"
    );
}

#[test]
fn input_params_searches_path_then_querystring_then_header() {
    let inputs = Inputs {
        path: pairs(&[("a", "path")]),
        querystring: pairs(&[("a", "query"), ("b", "query")]),
        header: pairs(&[("a", "header"), ("b", "header"), ("c", "header")]),
        ..Inputs::default()
    };
    assert_eq!(
        render(
            "$input.params('a') $input.params('b') $input.params('c')",
            &inputs
        ),
        "path query header"
    );
    assert_eq!(
        render(
            "$input.params().querystring.get('b') $input.params().header.c",
            &inputs
        ),
        "query header"
    );
}

#[test]
fn input_params_of_a_missing_name_is_an_empty_string() {
    assert_eq!(render_empty("[$input.params('nope')]"), "[]");
    assert_eq!(
        render_empty("#if($input.params('nope') == '')empty#end"),
        "empty"
    );
}

#[test]
fn jsonpath_wildcards_deep_scans_and_negative_indexes() {
    let inputs = with_body(r#"{"a": [{"id": 1}, {"id": 2, "b": {"id": 3}}], "n": {"x": 1}}"#);
    assert_eq!(render("$input.json('$.a[*].id')", &inputs), "[1,2]");
    assert_eq!(render("$input.json('$..id')", &inputs), "[1,2,3]");
    assert_eq!(render("$input.json('$.a[-1].id')", &inputs), "2");
    assert_eq!(render("$input.json(\"$['n']['x']\")", &inputs), "1");
    assert_eq!(render("$input.json('$.n.*')", &inputs), "[1]");
    assert_eq!(render("$input.json('$.zz[*]')", &inputs), "[]");
}

#[test]
fn jsonpath_filters_are_refused_not_guessed() {
    let error = render_error("$input.json('$.a[?(@.id)]')", &with_body("{}"));
    assert!(
        matches!(
            error,
            RenderError::Method {
                line: 1,
                column: 1,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn invalid_json_body_fails_only_when_a_template_reads_it_as_json() {
    assert_eq!(render("$input.body", &with_body("not json")), "not json");
    assert!(matches!(
        render_error("$input.json('$')", &with_body("not json")),
        RenderError::InvalidBody(_)
    ));
}

#[test]
fn json_object_key_order_is_kept() {
    let inputs = with_body(r#"{"z": 1, "a": 2, "m": 3, "a": 4}"#);
    assert_eq!(
        render(
            "#foreach($k in $input.path('$').keySet())$k#end $input.json('$')",
            &inputs
        ),
        r#"zam {"z":1,"a":4,"m":3}"#
    );
}

// ---- $util ----

#[test]
fn escape_javascript_escapes_quotes_slashes_controls_and_non_ascii() {
    let cases = [
        ("it's", r"it\'s"),
        ("say \"hi\"", r#"say \"hi\""#),
        (r"back\slash", r"back\\slash"),
        ("</script>", r"<\/script>"),
        ("a\nb\tc\rd\u{8}e\u{c}", r"a\nb\tc\rd\be\f"),
        ("\u{1}\u{1f}", r"\u0001\u001F"),
        ("caf\u{e9}", r"caf\u00E9"),
        ("\u{1F600}", r"\uD83D\uDE00"),
        ("\u{7f}", "\u{7f}"),
        ("", ""),
    ];
    for (input, expected) in cases {
        let inputs = Inputs {
            querystring: pairs(&[("v", input)]),
            ..Inputs::default()
        };
        assert_eq!(
            render("$util.escapeJavaScript($input.params('v'))", &inputs),
            expected,
            "escaping {input:?}"
        );
    }
}

#[test]
fn url_encode_and_decode_follow_java_form_encoding() {
    assert_eq!(
        render_empty("$util.urlEncode('a b&c=d/é*-._~')"),
        "a+b%26c%3Dd%2F%C3%A9*-._%7E"
    );
    assert_eq!(
        render_empty("$util.urlDecode('a+b%26c%3D%C3%A9')"),
        "a b&c=é"
    );
    assert!(matches!(
        render_error("$util.urlDecode('100%')", &Inputs::default()),
        RenderError::Method { .. }
    ));
}

#[test]
fn base64_round_trips_and_rejects_garbage() {
    assert_eq!(
        render_empty("$util.base64Encode('hello, world')"),
        "aGVsbG8sIHdvcmxk"
    );
    assert_eq!(
        render_empty("$util.base64Decode('aGVsbG8sIHdvcmxk')"),
        "hello, world"
    );
    assert!(matches!(
        render_error("$util.base64Decode('***')", &Inputs::default()),
        RenderError::Method { .. }
    ));
}

// ---- Velocity: references ----

#[test]
fn unknown_reference_renders_as_written() {
    assert_eq!(
        render_empty("a $nothing ${nothing} $nothing.deeper.call('x') b"),
        "a $nothing ${nothing} $nothing.deeper.call('x') b"
    );
}

#[test]
fn quiet_reference_renders_nothing_when_unresolved() {
    assert_eq!(render_empty("[$!nothing][$!{nothing}]"), "[][]");
}

#[test]
fn unknown_method_or_property_renders_the_reference_as_written() {
    assert_eq!(
        render_empty("#set($s = 'x')$s.noSuchMethod() $s.noSuchProperty"),
        "$s.noSuchMethod() $s.noSuchProperty"
    );
}

#[test]
fn dollar_and_hash_without_a_name_are_text() {
    assert_eq!(render_empty("cost: $5 # 1 #5 $ #"), "cost: $5 # 1 #5 $ #");
}

#[test]
fn backslash_escapes_a_reference_or_directive() {
    assert_eq!(render_empty(r"#set($a = 1)\$a \#if $a"), "$a #if 1");
}

#[test]
fn braced_reference_separates_a_name_from_following_text() {
    assert_eq!(render_empty("#set($n = 'pet')${n}s"), "pets");
}

#[test]
fn hyphen_belongs_to_the_name_as_in_velocity_1_7() {
    assert_eq!(render_empty("#set($a = 1)$a-b ${a}-b"), "$a-b 1-b");
}

// ---- Velocity: directives ----

#[test]
fn if_elseif_else_choose_the_first_true_branch() {
    let template =
        "#foreach($n in [1, 2, 3])#if($n == 1)one#elseif($n == 2)two#{else}many#end #end";
    assert_eq!(render_empty(template), "one two many ");
}

#[test]
fn only_null_and_false_are_false() {
    assert_eq!(
        render_empty(
            "#set($e = '')#if($e)empty-string-true #end#if($nothing)x#{else}null-false #end#if(!false)not-false#end"
        ),
        "empty-string-true null-false not-false"
    );
}

#[test]
fn foreach_exposes_count_index_has_next_first_last_and_velocity_count() {
    assert_eq!(
        render_empty(
            "#foreach($x in ['a', 'b'])$foreach.count/$foreach.index/$foreach.hasNext/$foreach.first/$foreach.last/$velocityCount $x;#end"
        ),
        "1/0/true/true/false/1 a;2/1/false/false/true/2 b;"
    );
}

#[test]
fn nested_foreach_restores_the_outer_loop_state() {
    assert_eq!(
        render_empty(
            "#foreach($a in [1, 2])#foreach($b in ['x'])$foreach.count$b#end$foreach.count$a,#end[$a]"
        ),
        "1x11,1x22,[$a]"
    );
}

#[test]
fn foreach_over_a_map_visits_values_and_over_a_range_counts() {
    assert_eq!(
        render_empty("#foreach($v in {'a': 1, 'b': 2})$v#end #foreach($i in [3..1])$i#end"),
        "12 321"
    );
}

#[test]
fn break_leaves_the_loop_and_stop_ends_the_template() {
    assert_eq!(
        render_empty("#foreach($i in [1..5])#if($i == 3)#break#end$i#end!#stop\nnever"),
        "12!"
    );
}

#[test]
fn set_to_null_keeps_the_previous_value() {
    assert_eq!(render_empty("#set($a = 1)#set($a = $nothing)$a"), "1");
}

#[test]
fn set_writes_into_a_map_property() {
    assert_eq!(
        render_empty("#set($m = {})#set($m.k = 'v')#set($m['j'] = 2)$m.k$m.j $m"),
        "v2 {k=v, j=2}"
    );
}

#[test]
fn list_add_and_map_put_change_the_variable() {
    assert_eq!(
        render_empty(
            "#set($l = [])#set($ok = $l.add('a'))$l.add('b') $l $l.size()#set($m = {})#set($old = $m.put('k', 1))$m.put('k', 2) $m"
        ),
        "true [a, b] 21 {k=2}"
    );
}

#[test]
fn comments_and_unparsed_blocks_render_nothing_and_verbatim() {
    assert_eq!(
        render_empty("a## line comment\nb#* block\n $x *#c#[[ $raw #if ]]#d"),
        "abc $raw #if d"
    );
}

#[test]
fn set_and_block_directives_eat_their_line_breaks_like_velocity_1_7() {
    let template = "{\n    #set($a = 1)\n  #if($a == 1)\n  \"a\": $a\n  #end\n}";
    assert_eq!(render_empty(template), "{\n    \"a\": 1\n  }");
}

#[test]
fn directive_line_break_gobbling_handles_crlf() {
    assert_eq!(
        render_empty("#set($a = 1)\r\n$a#if(true)\r\nx#end\r\ny"),
        "1xy"
    );
}

// ---- Velocity: expressions ----

#[test]
fn comparison_and_logic_operators_including_word_forms() {
    assert_eq!(
        render_empty(
            "#if(1 < 2 && 2 > 1 && 2 <= 2 && 3 >= 2 && 1 lt 2 and 2 gt 1 && 2 le 2 and 2 ge 2)a#end#if(1 == 2 || 1 eq 1)b#end#if(not (1 ne 1) && !(1 != 1))c#end"
        ),
        "abc"
    );
}

#[test]
fn equality_compares_numbers_by_value_and_other_kinds_by_text() {
    assert_eq!(
        render_empty(
            "#if(1 == 1.0)a#end#if('1' == 1)b#end#if('x' == 'x')c#end#if($nothing == $nada)d#end#if('x' != $nothing)e#end"
        ),
        "abcde"
    );
}

#[test]
fn arithmetic_on_integers_and_doubles() {
    assert_eq!(
        render_empty(
            "#set($a = 7 / 2)#set($b = 7 % 3)#set($c = 1.5 * 2)#set($d = -3 + 10)#set($e = 2 - 5)$a $b $c $d $e"
        ),
        "3 1 3.0 7 -3"
    );
}

#[test]
fn division_by_zero_is_null_so_set_keeps_the_old_value() {
    assert_eq!(render_empty("#set($a = 5)#set($a = 1 / 0)$a"), "5");
}

#[test]
fn plus_concatenates_when_either_side_is_a_string() {
    assert_eq!(render_empty("#set($s = 'n' + 1 + 2)$s"), "n12");
}

#[test]
fn string_literals_interpolate_only_in_double_quotes() {
    assert_eq!(
        render_empty(r#"#set($n = 'x')#set($a = "v=$n ""q""")#set($b = 'v=$n ''q''')$a|$b"#),
        r#"v=x "q"|v=$n 'q'"#
    );
}

#[test]
fn doubles_render_as_java_writes_them() {
    let inputs = with_body(r#"{"a": 100.0, "b": 1e21, "c": 0.0001, "d": 12345678.5, "e": 249.99}"#);
    assert_eq!(
        render(
            "#set($r = $input.path('$'))$r.a $r.b $r.c $r.d $r.e",
            &inputs
        ),
        "100.0 1.0E21 1.0E-4 1.23456785E7 249.99"
    );
}

#[test]
fn maps_and_lists_render_as_java_collections() {
    assert_eq!(
        render_empty("#set($m = {'a': [1, 'x'], 'b': true})$m $m.a"),
        "{a=[1, x], b=true} [1, x]"
    );
}

// ---- methods ----

#[test]
fn string_methods_templates_use() {
    assert_eq!(
        render_empty(
            "#set($s = '  Hello, World  ')$s.trim().toLowerCase()|$s.length()|$s.contains('World')|$s.trim().startsWith('Hello')|$s.trim().endsWith('ld')|$s.trim().substring(7)|$s.trim().substring(0, 5)|$s.indexOf('o')|$s.replace('l', 'L')|$s.trim().split(', ')|$s.trim().toUpperCase()|$s.isEmpty()|$s.trim().charAt(1)"
        ),
        "hello, world|16|true|true|true|World|Hello|6|  HeLLo, WorLd  |[Hello, World]|HELLO, WORLD|false|e"
    );
}

#[test]
fn regex_methods_use_java_replacement_syntax() {
    assert_eq!(
        render_empty(
            r#"#set($s = 'a1b22c')#set($t = 'a,b,,')$s.replaceAll('[0-9]+', '#')|$s.replaceAll('([a-z])([0-9])', '$2$1')|$s.replaceFirst('\d', 'X')|$s.matches('[a-z0-9]+')|$s.matches('a')|$t.split(',')"#
        ),
        "a#b#c|1a2b2c|aXb22c|true|false|[a, b]"
    );
}

#[test]
fn list_and_map_methods_templates_use() {
    assert_eq!(
        render_empty(
            "#set($l = ['a', 'b'])#set($m = {'k': 'v'})$l.size() $l.get(1) $l.contains('a') $l.isEmpty() $m.keySet() $m.values() $m.containsKey('k') $m.size() $m.get('k') $m.empty"
        ),
        "2 b true false [k] [v] true 1 v $m.empty"
    );
}

#[test]
fn parse_int_called_on_a_number_as_templates_do() {
    assert_eq!(
        render_empty("#set($z = 0)#set($n = $z.parseInt('41') + 1)$n"),
        "42"
    );
}

#[test]
fn list_index_out_of_range_is_a_render_error_with_position() {
    let error = render_error(
        "ok\n  $input.path('$.a').get(5)",
        &with_body(r#"{"a": [1]}"#),
    );
    assert_eq!(
        error,
        RenderError::Method {
            line: 2,
            column: 3,
            message: "Index: 5, Size: 1".into()
        }
    );
}

#[test]
fn invalid_regular_expression_is_a_render_error() {
    assert!(matches!(
        render_error("#set($s = 'x')$s.replaceAll('(', '')", &Inputs::default()),
        RenderError::Method { .. }
    ));
}

// ---- overrides ----

#[test]
fn overrides_are_reported_and_readable_back() {
    let template = "#set($context.responseOverride.status = 418)#set($context.responseOverride.header.X-Kind = 'teapot')#set($context.requestOverride.path.id = 'p')#set($context.requestOverride.querystring.q = 1)$context.responseOverride.header.X-Kind";
    let rendered = Template::parse(template)
        .unwrap()
        .render(&Inputs::default())
        .unwrap();
    assert_eq!(rendered.body, "teapot");
    assert_eq!(rendered.overrides.response_status.as_deref(), Some("418"));
    assert_eq!(
        rendered.overrides.response_header,
        pairs(&[("X-Kind", "teapot")])
    );
    assert_eq!(rendered.overrides.request_path, pairs(&[("id", "p")]));
    assert_eq!(rendered.overrides.request_querystring, pairs(&[("q", "1")]));
}

#[test]
fn overriding_the_same_parameter_twice_fails_as_aws_documents() {
    let error = render_error(
        "#set($context.requestOverride.header.h = 'a')#set($context.requestOverride.header.h = 'b')",
        &Inputs::default(),
    );
    assert_eq!(
        error,
        RenderError::OverrideRepeated("$context.requestOverride.header.h".into())
    );
    assert!(matches!(
        render_error(
            "#set($context.responseOverride.status = 400)#set($context.responseOverride.status = 500)",
            &Inputs::default()
        ),
        RenderError::OverrideRepeated(_)
    ));
}

// ---- parse errors ----

#[test]
fn unsupported_directives_are_parse_errors_with_position() {
    for directive in ["macro", "include", "parse", "evaluate", "define"] {
        let error = Template::parse(&format!("ok\n  #{directive}('x')")).unwrap_err();
        assert_eq!((error.line, error.column), (2, 3), "#{directive}");
        assert!(error.message.contains(directive), "{error}");
    }
    assert!(Template::parse("#@block()#end").is_err());
}

#[test]
fn unbalanced_blocks_are_parse_errors() {
    for bad in [
        "#if(true)x",
        "#end",
        "#foreach($a in [1])",
        "#else",
        "#if(true)#else#else#end",
    ] {
        assert!(Template::parse(bad).is_err(), "{bad:?} should not parse");
    }
}

#[test]
fn malformed_directives_report_line_and_column() {
    let error = Template::parse("line one\n#set($a 1)").unwrap_err();
    assert_eq!((error.line, error.column), (2, 9));
    assert_eq!(error.to_string(), "line 2, column 9: expected '=' in #set");
    let error = Template::parse("\"x\": \"$a.b('unterminated)\"").unwrap_err();
    assert_eq!(error.line, 1);
    assert!(Template::parse("#* never closed").is_err());
    assert!(Template::parse("${a.b").is_err());
}

#[test]
fn unknown_directive_is_text() {
    assert_eq!(
        render_empty("#ending #foo(1) #{nope}"),
        "#ending #foo(1) #{nope}"
    );
}

// ---- limits ----

#[test]
fn template_larger_than_the_limit_is_refused() {
    let limits = Limits {
        max_template_bytes: 10,
        ..Limits::default()
    };
    assert!(Template::parse_with_limits("01234567890", limits.clone()).is_err());
    assert!(Template::parse_with_limits("0123456789", limits).is_ok());
}

#[test]
fn deep_nesting_is_a_parse_error_not_a_stack_overflow() {
    let deep = format!("#set($a = {}1{})", "(".repeat(5000), ")".repeat(5000));
    assert!(Template::parse(&deep).is_err());
    let deep_ifs = "#if(true)".repeat(5000);
    assert!(Template::parse(&deep_ifs).is_err());
    let deep_not = format!("#if({}true)#end", "!".repeat(5000));
    assert!(Template::parse(&deep_not).is_err());
}

#[test]
fn doubling_a_string_in_a_loop_hits_a_limit() {
    let error = render_error(
        "#set($s = 'xxxxxxxx')#foreach($i in [1..64])#set($s = \"$s$s\")#end",
        &Inputs::default(),
    );
    assert!(matches!(error, RenderError::Limit(_)), "{error:?}");
}

#[test]
fn huge_ranges_and_nested_loops_hit_a_limit() {
    assert!(matches!(
        render_error(
            "#foreach($i in [1..9000000000000])x#end",
            &Inputs::default()
        ),
        RenderError::Limit(_)
    ));
    assert!(matches!(
        render_error(
            "#foreach($i in [1..1000])#foreach($j in [1..1000])#end#end",
            &Inputs::default()
        ),
        RenderError::Limit("#foreach iterations")
    ));
}

#[test]
fn building_an_ever_deeper_list_hits_the_depth_limit() {
    let error = render_error(
        "#set($l = [])#foreach($i in [1..1000])#set($l = [$l])#end",
        &Inputs::default(),
    );
    assert_eq!(error, RenderError::Limit("value depth"));
}

#[test]
fn output_limit_bounds_the_rendered_body() {
    let limits = Limits {
        max_output_bytes: 100,
        ..Limits::default()
    };
    let template = Template::parse_with_limits("#foreach($i in [1..200])x#end", limits).unwrap();
    assert_eq!(
        template.render(&Inputs::default()),
        Err(RenderError::Limit("output size"))
    );
}

#[test]
fn deeply_nested_json_body_is_refused_by_the_parser() {
    let body = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(
        render_error("$input.json('$')", &with_body(&body)),
        RenderError::InvalidBody(_)
    ));
}

#[test]
fn map_values_build_from_pairs_keep_order() {
    let map: Map = [("b", 1i64), ("a", 2)].into_iter().collect();
    assert_eq!(map.keys().collect::<Vec<_>>(), ["b", "a"]);
}

#[test]
fn lists_built_from_shared_parts_cannot_grow_exponentially() {
    for template in [
        "#set($l = [1])#foreach($i in [1..64])#set($l = [$l, $l])#end$l",
        "#set($m = {})#foreach($i in [1..64])#set($m.k = $m)#set($m.j = $m)#end",
        "#set($l = [1])#foreach($i in [1..64])#set($ok = $l.add($l))#end",
    ] {
        let error = render_error(template, &Inputs::default());
        assert!(
            matches!(error, RenderError::Limit(_)),
            "{template}: {error:?}"
        );
    }
}

#[test]
fn deep_scan_results_are_bounded_like_any_built_list() {
    let body = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let limits = Limits {
        max_output_bytes: 1000,
        ..Limits::default()
    };
    let template = Template::parse_with_limits("$input.json('$..*')", limits).unwrap();
    assert!(matches!(
        template.render(&with_body(&body)),
        Err(RenderError::Limit(_))
    ));
}
