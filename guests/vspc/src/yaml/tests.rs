//! Loading whole documents: typing, tags, anchors, merges, and the refusals.

use super::*;

/// The loaded document as Python's `repr` would show it.
fn loaded(text: &str) -> String {
    match load(text.as_bytes()) {
        Ok(Value::Str(s)) => python_str_repr(&s),
        Ok(value) => value.python_str(),
        Err(error) => panic!("{text:?} was refused: {error}"),
    }
}

fn refused(text: &[u8]) -> String {
    match load(text) {
        Ok(value) => panic!(
            "{:?} was accepted as {}",
            String::from_utf8_lossy(text),
            value.python_str()
        ),
        Err(error) => error.message,
    }
}

#[test]
fn empty_and_comment_only_files_are_null() {
    assert_eq!(loaded(""), "None");
    assert_eq!(loaded("# nothing here\n\n# at all\n"), "None");
    assert_eq!(loaded("---\n"), "None");
    assert_eq!(loaded("--- # c\n...\n"), "None");
}

#[test]
fn yaml_1_1_typing_of_plain_scalars() {
    let document = "[y, n, 1e3, 08, 09, 10.0.0.5, 010, 0x1A, 1_000, 190:20:30, 1.0e+3, yes, No, off, ~, null, '', 2020-01-01, -0b11, .inf]";
    assert_eq!(
        loaded(document),
        "['y', 'n', '1e3', '08', '09', '10.0.0.5', 8, 26, 1000, 685230, 1.0e+3, True, False, False, None, None, '', datetime.date('2020-01-01'), -3, .inf]"
    );
}

#[test]
fn quoted_and_block_scalars_are_strings() {
    assert_eq!(
        loaded("['010', \"yes\", '~', \"\"]"),
        "['010', 'yes', '~', '']"
    );
    assert_eq!(
        loaded("a: |\n  010\nb: >-\n  yes\n"),
        "{'a': '010\\n', 'b': 'yes'}"
    );
    assert_eq!(
        loaded("k: ssh-ed25519 AAAA\n  test\n"),
        "{'k': 'ssh-ed25519 AAAA test'}"
    );
}

#[test]
fn explicit_tags() {
    assert_eq!(
        loaded("[!!str 10, !!int '10', !!float '1', !!bool 'On', !!null x, !!binary aGk=]"),
        "['10', 10, 1, True, None, b'hi']"
    );
    assert_eq!(loaded("!!map {a: !!seq [b]}"), "{'a': ['b']}");
    assert_eq!(loaded("!<tag:yaml.org,2002:str> 12"), "'12'");
    assert_eq!(loaded("[! 12, ! '12', ! x]"), "[12, 12, 'x']");
    assert_eq!(
        loaded("[!!timestamp 2020-1-2]"),
        "[datetime.date('2020-01-02')]"
    );
    for document in [
        "!!omap [a: 1]",
        "!!pairs [a: 1]",
        "!!set {a}",
        "!!python/tuple [1]",
        "!!python/object:os.system x",
        "!foo x",
        "!foo [x]",
        "!!str [x]",
        "!!map [x]",
        "!!seq {a: 1}",
        "!!seq x",
        "!!int abc",
        "!!binary é",
        "%TAG !e! tag:example.com,2000:\n--- !e!x 1",
    ] {
        assert!(!refused(document.as_bytes()).is_empty(), "{document}");
    }
    assert!(
        refused(b"!!omap [a: 1]")
            .starts_with("could not determine a constructor for the tag 'tag:yaml.org,2002:omap'")
    );
}

#[test]
fn mappings_keep_file_order() {
    assert_eq!(loaded("z: 1\na: 2\nm: 3\n"), "{'z': 1, 'a': 2, 'm': 3}");
}

#[test]
fn anchors_and_aliases() {
    assert_eq!(
        loaded("a: &x [1, {b: c}]\nd: *x\n"),
        "{'a': [1, {'b': 'c'}], 'd': [1, {'b': 'c'}]}"
    );
    assert_eq!(
        loaded("a: &x 1\nb: &x 2\nc: *x\n"),
        "{'a': 1, 'b': 2, 'c': 2}",
        "an anchor may be redefined"
    );
    assert!(refused(b"a: *nowhere\n").contains("unknown anchor"));
    assert!(refused(b"a: &x [1, *x]\n").contains("recursive"));
    assert!(refused(b"a: &x {b: *x}\n").contains("recursive"));
}

#[test]
fn merge_keys_with_pyyaml_semantics() {
    let document = "
base: &b {x: 1, y: 2}
other: &o {y: 3, z: 4}
m1: {<<: *b, x: 9}
m2: {<<: [*b, *o]}
m3:
  z: 0
  <<: *b
  w: 5
m4: {<<: {a: 1, <<: {b: 2, a: 0}}}
";
    assert_eq!(
        loaded(document),
        "{'base': {'x': 1, 'y': 2}, 'other': {'y': 3, 'z': 4}, 'm1': {'x': 9, 'y': 2}, 'm2': {'y': 2, 'z': 4, 'x': 1}, 'm3': {'x': 1, 'y': 2, 'z': 0, 'w': 5}, 'm4': {'b': 2, 'a': 1}}"
    );
    assert_eq!(
        loaded("'<<': 1\n"),
        "{'<<': 1}",
        "a quoted << is an ordinary key"
    );
    assert_eq!(loaded("=: 1\n"), "{'=': 1}");
    assert!(refused(b"a: {<<: 1}").contains("expected a mapping or list of mappings for merging"));
    assert!(refused(b"a: {<<: [1]}").contains("expected a mapping for merging"));
    assert!(refused(b"a: {<<: {b: 1}, <<: {c: 2}}").contains("duplicate key '<<'"));
    assert!(refused(b"a: =\n").contains("tag:yaml.org,2002:value"));
    assert!(refused(b"x: [<<]\n").contains("tag:yaml.org,2002:merge"));
    assert!(refused(b"x: <<\n").contains("tag:yaml.org,2002:merge"));
}

#[test]
fn duplicate_keys_are_refused() {
    assert!(refused(b"a: 1\na: 2\n").starts_with("duplicate key 'a'"));
    assert!(refused(b"metadata:\n  region: x\n  region: y\n").contains("duplicate key 'region'"));
    assert!(refused(b"{1: a, 1.0: b}").contains("duplicate key"));
    assert!(refused(b"{true: a, 1: b}").contains("duplicate key"));
    assert!(refused(b"{0x10: a, 16: b}").contains("duplicate key"));
    assert!(refused(b"{~: a, null: b}").contains("duplicate key"));
    assert!(
        refused(b"{2001-12-14t21:59:43.10-05:00: a, 2001-12-15 2:59:43.1: b}")
            .contains("duplicate key")
    );
    assert_eq!(
        loaded("{1: a, '1': b, .nan: c, .NaN: d}"),
        "{1: 'a', '1': 'b', .nan: 'c', .NaN: 'd'}"
    );
    assert_eq!(
        loaded("{2020-01-01: a, 2020-01-01 0:00:00: b}"),
        "{datetime.date('2020-01-01'): 'a', datetime.datetime('2020-01-01 00:00:00'): 'b'}",
        "a date is not a datetime"
    );
    // Overriding a merged key is what merges are for.
    assert_eq!(
        loaded("b: &b {x: 1}\nc: {<<: *b, x: 2}\n"),
        "{'b': {'x': 1}, 'c': {'x': 2}}"
    );
}

#[test]
fn unhashable_keys_are_refused() {
    assert!(refused(b"? [a]\n: b\n").contains("unhashable"));
    assert!(refused(b"{{a: 1}: b}").contains("unhashable"));
}

#[test]
fn one_document_only() {
    assert_eq!(loaded("---\na: 1\n"), "{'a': 1}");
    assert_eq!(loaded("a: 1\n...\n"), "{'a': 1}");
    assert!(refused(b"a: 1\n---\nb: 2\n").contains("single document"));
    assert!(refused(b"---\n---\n").contains("single document"));
}

#[test]
fn syntax_errors() {
    assert!(!refused(b"a:\n\tb: c\n").is_empty(), "tab indentation");
    assert!(!refused(b"a: [b, c\n").is_empty(), "unclosed flow sequence");
    assert!(!refused(b"a: 'b\n").is_empty(), "unclosed quote");
    assert!(!refused(b"a: b: c\n").is_empty());
    assert!(!refused(b"- a\nb: c\n").is_empty());
}

#[test]
fn characters_and_encoding() {
    assert_eq!(
        loaded("\u{FEFF}a: b\n"),
        "{'a': 'b'}",
        "a leading BOM is dropped"
    );
    assert_eq!(
        loaded("a: \"\\x01\\u0085\"\n"),
        "{'a': '\\x01\\x85'}",
        "escapes may produce any character"
    );
    assert!(refused(b"a: \xff\n").contains("UTF-8"));
    assert!(refused(b"a: b\x01\n").contains("#x0001"));
    assert!(refused(b"a: b\x7f\n").contains("#x007f"));
    assert!(refused("a: b\u{85}c\n".as_bytes()).contains("#x0085"));
    assert!(refused("a: b\u{2028}c\n".as_bytes()).contains("#x2028"));
    assert!(refused("a: \u{FFFE}\n".as_bytes()).contains("#xfffe"));
    assert_eq!(loaded("a: h\u{f4}st \u{1F600}\n"), "{'a': 'hôst 😀'}");
}

#[test]
fn impossible_dates_are_refused() {
    assert!(refused(b"a: 2021-02-29\n").contains("day is out of range"));
    assert_eq!(loaded("a: '2021-02-29'\n"), "{'a': '2021-02-29'}");
}

#[test]
fn billion_laughs_is_refused_without_expanding() {
    let mut document = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
    let mut previous = "a";
    for name in names {
        document.push_str(&format!("{name}: &{name} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"));
        previous = name;
    }
    let started = std::time::Instant::now();
    assert!(refused(document.as_bytes()).contains("aliases are expanded"));
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    // A few levels stay well within the bound and load normally.
    assert!(
        loaded("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n").starts_with("{'a': ['x', 'x'], 'b'")
    );
}

#[test]
fn repeated_merges_of_a_big_mapping_are_bounded() {
    let big: Vec<String> = (0..20_000).map(|i| format!("k{i}: {i}")).collect();
    let mut document = format!("big: &big {{{}}}\nm: {{<<: [", big.join(", "));
    document.push_str(&vec!["*big"; 100].join(", "));
    document.push_str("]}\n");
    assert!(refused(document.as_bytes()).contains("aliases are expanded"));
}

#[test]
fn nesting_depth_is_bounded() {
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    refused(deep.as_bytes());
    let deep_blocks = format!("{}x\n", "- ".repeat(100));
    assert!(refused(deep_blocks.as_bytes()).contains("nesting deeper"));
    let fine = format!("{}{}", "[".repeat(60), "]".repeat(60));
    assert!(load(fine.as_bytes()).is_ok());
    // Aliases cannot stack anchored depth beyond the bound either.
    let anchored = format!(
        "a: &a {}x{}\nb: {}*a{}\n",
        "[".repeat(40),
        "]".repeat(40),
        "[".repeat(40),
        "]".repeat(40)
    );
    assert!(refused(anchored.as_bytes()).contains("nesting deeper"));
}
