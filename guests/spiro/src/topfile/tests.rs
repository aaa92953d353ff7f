//! The normative fixtures F1–F8 of specs/spiro.md 9.3, byte for byte.

use super::*;

fn render(project: &str, deployment: &str, spirotop: &str) -> Result<Option<String>, String> {
    render_topfile(
        project,
        deployment,
        false,
        Spirotop::File(spirotop.as_bytes()),
    )
}

fn written(project: &str, deployment: &str, spirotop: &str) -> String {
    render(project, deployment, spirotop)
        .expect("renders")
        .expect("writes a top file")
}

#[test]
fn f1_the_deployment_entry_is_written_sorted_with_flow_leaves() {
    let input = "\
prod:
  'web*':
    - webserver
  'G@os:Debian':
    - match: compound
    - common
staging:
  '*':
    - base
";
    assert_eq!(
        written("foo", "prod", input),
        "\
foo/prod:
  G@os:Debian:
  - {match: compound}
  - common
  web*: [webserver]
"
    );
}

#[test]
fn f2_a_missing_entry_is_an_empty_mapping() {
    assert_eq!(
        written("foo", "dev", "prod: {'*': [base]}"),
        "foo/dev: {}\n"
    );
}

#[test]
fn f3_a_null_entry_stays_null_and_the_root_is_flow() {
    assert_eq!(written("foo", "prod", "prod:\n"), "{foo/prod: null}\n");
}

#[test]
fn f4_quoting_of_star_and_indentless_sequences() {
    let input = "\
prod:
  '*':
    - base
    - users
  'db*':
    - match: glob
    - postgres
  'N@edge':
    - match: nodegroup
    - edge.proxy
";
    assert_eq!(
        written("acme", "prod", input),
        "\
acme/prod:
  '*': [base, users]
  N@edge:
  - {match: nodegroup}
  - edge.proxy
  db*:
  - {match: glob}
  - postgres
"
    );
}

#[test]
fn f5_strings_that_would_load_as_something_else_are_quoted() {
    let input = "\
prod:
  '*':
    - 'yes'
    - '1.0'
    - ''
    - 'null'
    - café
    - 'a: b'
    - '#hash'
";
    assert_eq!(
        written("p", "prod", input),
        "p/prod:\n  '*': ['yes', '1.0', '', 'null', café, 'a: b', '#hash']\n"
    );
}

#[test]
fn f6_flow_lines_break_only_between_items_past_the_width() {
    let input = "\
prod:
  'minion-with-a-rather-long-name-number-one.example.com,minion-two.example.com':
    - match: list
    - state.one
  '*':
    - aaaaaaaaaaaaaaaaaaaa
    - bbbbbbbbbbbbbbbbbbbb
    - cccccccccccccccccccc
    - dddddddddddddddddddd
";
    let expected = "\
p/prod:
  '*': [aaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccc, dddddddddddddddddddd]
  minion-with-a-rather-long-name-number-one.example.com,minion-two.example.com:
  - {match: list}
  - state.one
";
    assert_eq!(written("p", "prod", input), expected);
    // 95 characters plus the newline: past 80, because the width is only
    // checked between items.
    assert_eq!(expected.lines().nth(1).map(str::len), Some(95));
}

#[test]
fn f7_nothing_is_written_when_top_sls_exists_or_the_input_is_falsy() {
    let spirotop = Spirotop::File(b"prod: {'*': [base]}");
    assert_eq!(render_topfile("foo", "prod", true, spirotop), Ok(None));
    for falsy in [
        "",
        "{}",
        "null",
        "[]",
        "0",
        "false",
        "# only a comment\n",
        "''",
        "0.0",
        "~",
    ] {
        assert_eq!(render("foo", "prod", falsy), Ok(None), "input {falsy:?}");
    }
    assert_eq!(
        render_topfile("foo", "prod", false, Spirotop::Absent),
        Ok(None)
    );
}

#[test]
fn f8_a_truthy_non_mapping_is_an_error_naming_what_it_is() {
    for (input, kind) in [
        ("- a", "a list"),
        ("abc", "a string"),
        ("5", "an integer"),
        ("1.5", "a float"),
        ("yes", "a boolean"),
    ] {
        let error = render("foo", "prod", input).expect_err(input);
        assert_eq!(
            error,
            format!("spirotop.sls must be a mapping of deployment names, but it is {kind}")
        );
    }
}

#[test]
fn keys_compare_as_loaded() {
    assert_eq!(
        written("p", "1", "1: {'*': [a]}\n'2': {'*': [b]}"),
        "p/1: {}\n"
    );
    assert_eq!(
        written("p", "2", "1: {'*': [a]}\n'2': {'*': [b]}"),
        "p/2:\n  '*': [b]\n"
    );
}

#[test]
fn a_directory_or_invalid_utf8_or_bad_yaml_is_an_error_on_one_line() {
    assert_eq!(
        render_topfile("p", "d", false, Spirotop::NotAFile),
        Err("spirotop.sls is not a regular file".to_string())
    );
    let error = render_topfile("p", "d", false, Spirotop::File(b"d: [caf\xe9]")).unwrap_err();
    assert!(error.contains("not valid UTF-8"), "{error}");
    for bad in [
        "d: [a",
        "d: 1\nd: 2",
        "\"a\nb\": 1\n\"a\nb\": 2",
        "d:\n\t- x",
        "d: *nowhere",
    ] {
        let error = render("p", "d", bad).unwrap_err();
        assert!(error.starts_with("spirotop.sls: line "), "{error}");
        assert!(!error.contains('\n') && !error.ends_with('\n'), "{error:?}");
    }
}

#[test]
fn the_existing_top_file_wins_even_over_a_broken_spirotop() {
    assert_eq!(render_topfile("p", "d", true, Spirotop::NotAFile), Ok(None));
    assert_eq!(
        render_topfile("p", "d", true, Spirotop::File(b"\xff")),
        Ok(None)
    );
}
