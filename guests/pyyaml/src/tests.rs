//! The loader and dumper against PyYAML. Expected outputs were produced by
//! PyYAML 6.0.3 (`yaml.safe_dump(..., default_flow_style=None,
//! allow_unicode=True, indent=2, width=80)`) after loading the input with a
//! loader carrying Salt's changes, exactly as `top.sls` is produced from
//! `spirotop.sls`; they are frozen here so the tests do not need Python.

use super::*;

/// What SpiroFS writes for project `p`, deployment `d`: the entry `d` of
/// the loaded input under the key `p/d`.
fn salt_top(input: &str) -> String {
    let loaded = load(input).unwrap_or_else(|error| panic!("{input:?} does not load: {error}"));
    let Value::Map(entries) = &loaded else {
        panic!("{input:?} is not a mapping");
    };
    let entry = entries
        .iter()
        .find(|(key, _)| matches!(key, Value::Str(k) if k == "d"))
        .map_or_else(|| Value::map(Vec::new()), |(_, value)| value.clone());
    let top = Value::map(vec![(Value::str("p/d"), entry)]);
    dump(&top, &DumpOptions::salt_safe_dump())
}

fn assert_load_error(input: &str, needle: &str) {
    match load(input) {
        Ok(value) => panic!("{input:?} loaded as {value:?}"),
        Err(error) => {
            let message = error.to_string();
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
            assert!(!message.contains('\n'), "{message:?} is not one line");
        }
    }
}

#[test]
fn quoting_of_strings_that_resolve_to_other_types() {
    assert_eq!(
        salt_top(
            "d: ['yes', 'No', '~', '1.0', '010', '0x1f', '1:30', '2001-12-14', '', 'null', 'True', 'Off', '=', '<<', '0b101', '.5', '+.inf', '.NaN']\n"
        ),
        "p/d: ['yes', 'No', '~', '1.0', '010', '0x1f', '1:30', '2001-12-14', '', 'null', 'True',\n  'Off', '=', '<<', '0b101', '.5', '+.inf', '.NaN']\n"
    );
}

#[test]
fn strings_that_do_not_resolve_stay_plain() {
    assert_eq!(
        salt_top("d: ['1e3', '0o17', '08', 'y', 'n', 'nULL', 'tRUE', '2001-1-1', '._', '1_0a']\n"),
        "p/d: [1e3, 0o17, 08, y, n, nULL, tRUE, 2001-1-1, ._, 1_0a]\n"
    );
}

#[test]
fn timestamps_stay_strings_and_are_quoted_back() {
    assert_eq!(
        salt_top(
            "d:\n  a: 2001-12-14\n  b: 2001-12-14t21:59:43.10-05:00\n  c: 2001-12-14 21:59:43.10 -5\n"
        ),
        "p/d: {a: '2001-12-14', b: '2001-12-14t21:59:43.10-05:00', c: '2001-12-14 21:59:43.10\n    -5'}\n"
    );
}

#[test]
fn leading_and_trailing_spaces_force_quotes() {
    assert_eq!(
        salt_top("d: [' lead', 'trail ', ' both ']\n"),
        "p/d: [' lead', 'trail ', ' both ']\n"
    );
}

#[test]
fn colon_space_and_space_hash_force_quotes_in_block() {
    assert_eq!(
        salt_top("d:\n  - 'a: b'\n  - 'a #b'\n  - 'a#b'\n  - 'a:b'\n  - [x]\n"),
        "p/d:\n- 'a: b'\n- 'a #b'\n- a#b\n- a:b\n- [x]\n"
    );
}

#[test]
fn flow_indicators_force_quotes_only_in_flow() {
    assert_eq!(
        salt_top(
            "d:\n  - 'a,b'\n  - 'a[b'\n  - 'a{b}'\n  - 'a?b'\n  - 'a:b'\n  - [x]\n  - ['a,b', 'a[b', 'a{b}', 'a?b', 'a:b']\n"
        ),
        "p/d:\n- a,b\n- a[b\n- a{b}\n- a?b\n- a:b\n- [x]\n- ['a,b', 'a[b', 'a{b}', 'a?b', 'a:b']\n"
    );
}

#[test]
fn leading_indicators_force_quotes() {
    assert_eq!(
        salt_top(
            "d: ['*', '&a', '!a', '|', '>', '%', '@x', '`x', '\"q', \"'s\", '#h', ',c', '[b', ']b', '{b', '}b']\n"
        ),
        "p/d: ['*', '&a', '!a', '|', '>', '%', '@x', '`x', '\"q', '''s', '#h', ',c', '[b', ']b',\n  '{b', '}b']\n"
    );
}

#[test]
fn dash_question_colon_count_only_before_a_space() {
    assert_eq!(
        salt_top(
            "d:\n  - '-a'\n  - '- a'\n  - '?a'\n  - '? a'\n  - ':a'\n  - ': a'\n  - [x]\n  - ['-a', '?a', ':a']\n"
        ),
        "p/d:\n- -a\n- '- a'\n- ?a\n- '? a'\n- :a\n- ': a'\n- [x]\n- [-a, '?a', ':a']\n"
    );
}

#[test]
fn document_markers_force_quotes() {
    assert_eq!(
        salt_top("d: ['---', '...x', '--- x', '--x']\n"),
        "p/d: ['---', '...x', '--- x', --x]\n"
    );
}

#[test]
fn single_quotes_are_doubled() {
    assert_eq!(
        salt_top("d: [\"it's\", \"'\", \"a''b\"]\n"),
        "p/d: [it's, '''', a''b]\n"
    );
}

#[test]
fn keys_star_and_compound_matchers_block_vs_flow() {
    assert_eq!(
        salt_top(
            "d:\n  '*': [a]\n  'G@os:Debian': [b]\n  'I@role:web and G@os:Debian': [c]\n  x:\n    'G@os:Debian': y\n"
        ),
        "p/d:\n  '*': [a]\n  G@os:Debian: [b]\n  I@role:web and G@os:Debian: [c]\n  x: {'G@os:Debian': y}\n"
    );
}

#[test]
fn non_ascii_is_written_as_is() {
    assert_eq!(
        salt_top("d: [café, 日本語, 😀, 'ünï cödé: x']\n"),
        "p/d: [café, 日本語, 😀, 'ünï cödé: x']\n"
    );
}

#[test]
fn control_characters_force_double_quotes_with_escapes() {
    assert_eq!(
        salt_top(
            "d: [\"\\x07bell\", \"tab\\tx\", \"nul\\0\", \"esc\\e\", \"\\x7F del\", \"\\x9B csi\", \"\\x01\"]\n"
        ),
        "p/d: [\"\\abell\", \"tab\\tx\", \"nul\\0\", \"esc\\e\", \"\\x7F del\", \"\\x9B csi\", \"\\x01\"]\n"
    );
}

#[test]
fn unicode_line_breaks_and_bom() {
    assert_eq!(
        salt_top(
            "d: [\"\\x85nel\", \"line\\u2028sep\", \"para\\u2029sep\", \"\\uFEFFbom\", \"\\xA0nbsp\", \"\\U0001F600\\x01\"]\n"
        ),
        "p/d: ['\u{85}    nel', 'line\u{2028}    sep', 'para\u{2029}    sep', \"\\uFEFFbom\",  nbsp, \"\\U0001F600\\x01\"]\n"
    );
}

#[test]
fn newlines_in_values_use_single_quotes() {
    assert_eq!(
        salt_top(
            "d:\n  k: \"a\\nb\"\n  l: \"a\\n\"\n  m: \"\\na\"\n  n: \"a \\nb\"\n  o: \"a\\n b\"\n  p: \"a\\n\\nb\"\n"
        ),
        "p/d: {k: 'a\n\n    b', l: 'a\n\n    ', m: '\n\n    a', n: \"a \\nb\", o: \"a\\n b\", p: 'a\n\n\n    b'}\n"
    );
}

#[test]
fn multiline_keys_become_complex_keys() {
    assert_eq!(
        salt_top("d:\n  \"a\\nb\": [x, {y: z}]\n  \"c\\n\": 1\n"),
        "p/d:\n  ? 'a\n\n    b'\n  : - x\n    - {y: z}\n  ? 'c\n\n    '\n  : 1\n"
    );
}

#[test]
fn empty_string_key() {
    assert_eq!(
        salt_top("d:\n  '': [x, {y: z}]\n  a: {'': x}\n"),
        "p/d:\n  ? ''\n  : - x\n    - {y: z}\n  a: {? '' : x}\n"
    );
}

#[test]
fn floats() {
    assert_eq!(
        salt_top(
            "d: [1e20, 1.0e+20, 1.0e-7, 1.5e-07, .inf, -.inf, .nan, 1.0, -0.0, 0.0001, 0.00001, 1234567890123456.0, 12345678901234567.0, 3.14159, 1_000.5, 1:30.5, 0.1, 100., .5]\n"
        ),
        "p/d: [1e20, 1.0e+20, 1.0e-07, 1.5e-07, .inf, -.inf, .nan, 1.0, -0.0, 0.0001, 1.0e-05,\n  1234567890123456.0, 1.2345678901234568e+16, 3.14159, 1000.5, 90.5, 0.1, 100.0, 0.5]\n"
    );
}

#[test]
fn integers_salt_style() {
    assert_eq!(
        salt_top(
            "d: [010, 0x1f, 0b101, 1:30, -1:30, 1_000, -010, +12, 00, 0, -0, 0x_1F, 190:20:30]\n"
        ),
        "p/d: [10, 31, 5, 90, -90, 1000, -8, 12, 0, 0, 0, 31, 685230]\n"
    );
}

#[test]
fn booleans_and_nulls() {
    assert_eq!(
        salt_top("d: [yes, No, ON, off, TRUE, False, y, ~, null, NULL, Null]\n"),
        "p/d: [true, false, true, false, true, false, y, null, null, null, null]\n"
    );
}

#[test]
fn empty_values_are_null() {
    assert_eq!(
        salt_top("d:\n  a:\n  b: [x, ]\n  c: {k: }\n"),
        "p/d:\n  a: null\n  b: [x]\n  c: {k: null}\n"
    );
}

#[test]
fn explicit_tags() {
    assert_eq!(
        salt_top(
            "d: [!!str 123, !!int '42', !!float '1', ! 12, !!null '', !!bool 'yes', !!timestamp 2001-12-14, !<tag:yaml.org,2002:str> 1, !!str ]\n"
        ),
        "p/d: ['123', 42, 1.0, 12, null, true, '2001-12-14', '1', '']\n"
    );
}

#[test]
fn tag_directive() {
    assert_eq!(
        salt_top("%TAG !e! tag:yaml.org,2002:\n---\nd: [!e!str 1]\n"),
        "p/d: ['1']\n"
    );
}

#[test]
fn long_plain_value_is_folded_at_width() {
    assert_eq!(
        salt_top(
            "d:\n  k: word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36 word37 word38 word39\n"
        ),
        "p/d: {k: word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11\n    word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23\n    word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35\n    word36 word37 word38 word39}\n"
    );
}

#[test]
fn long_plain_item_in_sequence_is_folded() {
    assert_eq!(
        salt_top(
            "d:\n  - word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36 word37 word38 word39\n  - [x]\n"
        ),
        "p/d:\n- word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12\n  word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24\n  word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36\n  word37 word38 word39\n- [x]\n"
    );
}

#[test]
fn long_plain_in_flow_is_folded() {
    assert_eq!(
        salt_top(
            "d: [word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36 word37 word38 word39]\n"
        ),
        "p/d: [word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12\n    word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24\n    word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36\n    word37 word38 word39]\n"
    );
}

#[test]
fn long_single_quoted_is_folded() {
    assert_eq!(
        salt_top(
            "d:\n  k: 'word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36 word37 word38 word39 '\n"
        ),
        "p/d: {k: 'word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11\n    word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23\n    word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35\n    word36 word37 word38 word39 '}\n"
    );
}

#[test]
fn long_double_quoted_is_folded_with_backslashes() {
    assert_eq!(
        salt_top(
            "d:\n  k: \"word0\\t word1\\t word2\\t word3\\t word4\\t word5\\t word6\\t word7\\t word8\\t word9\\t word10\\t word11\\t word12\\t word13\\t word14\\t word15\\t word16\\t word17\\t word18\\t word19\\t word20\\t word21\\t word22\\t word23\\t word24\\t word25\\t word26\\t word27\\t word28\\t word29\\t word30\\t word31\\t word32\\t word33\\t word34\\t word35\\t word36\\t word37\\t word38\\t word39\"\n"
        ),
        "p/d: {k: \"word0\\t word1\\t word2\\t word3\\t word4\\t word5\\t word6\\t word7\\t word8\\t\\\n    \\ word9\\t word10\\t word11\\t word12\\t word13\\t word14\\t word15\\t word16\\t word17\\t\\\n    \\ word18\\t word19\\t word20\\t word21\\t word22\\t word23\\t word24\\t word25\\t word26\\t\\\n    \\ word27\\t word28\\t word29\\t word30\\t word31\\t word32\\t word33\\t word34\\t word35\\t\\\n    \\ word36\\t word37\\t word38\\t word39\"}\n"
    );
}

#[test]
fn long_double_quoted_run_of_escapes() {
    assert_eq!(
        salt_top(
            "d:\n  k: \"a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01\"\n"
        ),
        "p/d: {k: \"a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01\\\n    a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01\\\n    a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01\\\n    a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01a\\x01\"}\n"
    );
}

#[test]
fn long_double_quoted_spaces_and_escapes() {
    assert_eq!(
        salt_top(
            "d:\n  k: \" \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01\"\n"
        ),
        "p/d: {k: \" \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01\\\n    \\ \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01\\\n    \\ \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01\\\n    \\ \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01 \\x01\"}\n"
    );
}

#[test]
fn long_single_quoted_with_double_spaces() {
    assert_eq!(
        salt_top(
            "d:\n  k: 'a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  '\n"
        ),
        "p/d: {k: 'a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  a  '}\n"
    );
}

#[test]
fn long_flow_sequence_breaks_between_items() {
    assert_eq!(
        salt_top(
            "d: [item00, item01, item02, item03, item04, item05, item06, item07, item08, item09, item10, item11, item12, item13, item14, item15, item16, item17, item18, item19, item20, item21, item22, item23, item24, item25, item26, item27, item28, item29]\n"
        ),
        "p/d: [item00, item01, item02, item03, item04, item05, item06, item07, item08, item09,\n  item10, item11, item12, item13, item14, item15, item16, item17, item18, item19,\n  item20, item21, item22, item23, item24, item25, item26, item27, item28, item29]\n"
    );
}

#[test]
fn long_flow_mapping_breaks_between_items() {
    assert_eq!(
        salt_top(
            "d: {key00: v00, key01: v01, key02: v02, key03: v03, key04: v04, key05: v05, key06: v06, key07: v07, key08: v08, key09: v09, key10: v10, key11: v11, key12: v12, key13: v13, key14: v14, key15: v15, key16: v16, key17: v17, key18: v18, key19: v19}\n"
        ),
        "p/d: {key00: v00, key01: v01, key02: v02, key03: v03, key04: v04, key05: v05, key06: v06,\n  key07: v07, key08: v08, key09: v09, key10: v10, key11: v11, key12: v12, key13: v13,\n  key14: v14, key15: v15, key16: v16, key17: v17, key18: v18, key19: v19}\n"
    );
}

#[test]
fn long_key_then_flow_sequence() {
    assert_eq!(
        salt_top(
            "d:\n  xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx: [a, b]\n"
        ),
        "p/d:\n  xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx: [\n    a, b]\n"
    );
}

#[test]
fn simple_key_length_limit_block() {
    assert_eq!(
        salt_top(
            "d:\n  kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: v\n  jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj: [w]\n"
        ),
        "p/d:\n  ? jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj\n  : [w]\n  kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: v\n"
    );
}

#[test]
fn simple_key_length_limit_flow() {
    assert_eq!(
        salt_top(
            "d: {kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: v, jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj: w}\n"
        ),
        "p/d: {? jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj\n  : w, kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: v}\n"
    );
}

#[test]
fn keys_sort_by_code_point() {
    assert_eq!(
        salt_top("d:\n  b: 1\n  a: 2\n  B: 3\n  é: 4\n  Z: 5\n  _: 6\n  '1': 7\n  a b: 8\n"),
        "p/d: {'1': 7, B: 3, Z: 5, _: 6, a: 2, a b: 8, b: 1, é: 4}\n"
    );
}

#[test]
fn numeric_keys_sort_numerically() {
    assert_eq!(
        salt_top("d:\n  2: v\n  10: b\n  1.5: c\n  true: t\n  -3: m\n  0x11: [n]\n"),
        "p/d:\n  -3: m\n  true: t\n  1.5: c\n  2: v\n  10: b\n  17: [n]\n"
    );
}

#[test]
fn mixed_key_types_keep_their_order() {
    assert_eq!(
        salt_top("d:\n  true: v\n  a: b\n  2: c\n"),
        "p/d: {true: v, a: b, 2: c}\n"
    );
}

#[test]
fn null_key_keeps_order() {
    assert_eq!(
        salt_top("d:\n  null: v\n  a: b\n"),
        "p/d: {null: v, a: b}\n"
    );
}

#[test]
fn merge_key_own_keys_win_and_merged_come_first() {
    assert_eq!(
        salt_top("base: &b\n  x: 1\n  y: [1, 2]\nd:\n  w: 0\n  <<: *b\n  y: 3\n"),
        "p/d: {w: 0, x: 1, y: 3}\n"
    );
}

#[test]
fn merge_list_later_mappings_first() {
    assert_eq!(
        salt_top("a: &a {x: 1}\nb: &b {y: 2}\nd:\n  <<: [*a, *b]\n  w: 0\n"),
        "p/d: {w: 0, x: 1, y: 2}\n"
    );
}

#[test]
fn merge_shares_the_merged_values() {
    assert_eq!(
        salt_top("base: &b\n  x: [1]\nd:\n  <<: *b\n  y: [2]\n  z: [3]\n"),
        "p/d:\n  x: [1]\n  y: [2]\n  z: [3]\n"
    );
}

#[test]
fn value_key_equals() {
    assert_eq!(salt_top("d:\n  =: 1\n"), "p/d: {'=': 1}\n");
}

#[test]
fn aliases_are_shared_nodes() {
    assert_eq!(
        salt_top("list: &l [a, b]\nd:\n  one: *l\n  two: *l\n  three: [*l]\n"),
        "p/d:\n  one: &id001 [a, b]\n  three:\n  - *id001\n  two: *id001\n"
    );
}

#[test]
fn anchors_number_in_written_order() {
    assert_eq!(
        salt_top("m: &m {a: 1}\nl: &l [x]\nd:\n  z: *m\n  a: *l\n  b: *m\n  c: [*l]\n"),
        "p/d:\n  a: &id001 [x]\n  b: &id002 {a: 1}\n  c:\n  - *id001\n  z: *id002\n"
    );
}

#[test]
fn empty_collections_shared() {
    assert_eq!(
        salt_top("e: &e []\nf: &f {}\nd:\n  a: *e\n  b: *e\n  c: *f\n  d2: *f\n"),
        "p/d:\n  a: &id001 []\n  b: *id001\n  c: &id002 {}\n  d2: *id002\n"
    );
}

#[test]
fn shared_scalars_are_not_anchored() {
    assert_eq!(
        salt_top("s: &s str\nd:\n  a: *s\n  b: *s\n"),
        "p/d: {a: str, b: str}\n"
    );
}

#[test]
fn nested_aliases_of_aliases() {
    assert_eq!(
        salt_top("a: &a [1]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd:\n  x: *c\n  y: *b\n  z: *a\n"),
        "p/d:\n  x:\n  - &id002\n    - &id001 [1]\n    - *id001\n  - *id002\n  y: *id002\n  z: *id001\n"
    );
}

#[test]
fn nested_lists_of_mappings() {
    assert_eq!(
        salt_top("d:\n  - a: 1\n    b: [2]\n  - c: {d: [e, {f: g}]}\n  - - h\n    - [i]\n"),
        "p/d:\n- a: 1\n  b: [2]\n- c:\n    d:\n    - e\n    - {f: g}\n- - h\n  - [i]\n"
    );
}

#[test]
fn deep_block_mappings() {
    assert_eq!(
        salt_top("d:\n  a:\n    b:\n      c:\n        - d\n        - e: [f]\n"),
        "p/d:\n  a:\n    b:\n      c:\n      - d\n      - e: [f]\n"
    );
}

#[test]
fn empty_collections() {
    assert_eq!(
        salt_top("d:\n  - []\n  - {}\n  - [[]]\n  - {a: {}}\n"),
        "p/d:\n- []\n- {}\n- - []\n- a: {}\n"
    );
}

#[test]
fn flow_pairs_and_sets() {
    assert_eq!(
        salt_top("d: [[a: b, c], {a, b: c}, [? e : f]]\n"),
        "p/d:\n- - {a: b}\n  - c\n- {a: null, b: c}\n- - {e: f}\n"
    );
}

#[test]
fn complex_keys_in_input() {
    assert_eq!(
        salt_top("d:\n  ? a\n  : b\n  ? c\n"),
        "p/d: {a: b, c: null}\n"
    );
}

#[test]
fn block_scalars_literal() {
    assert_eq!(
        salt_top(
            "d:\n  k: |\n    line one\n    line two\n\n    after blank\n  l: |-\n    strip\n\n  m: |+\n    keep\n\n  n: |2\n     two extra\n    base\n"
        ),
        "p/d: {k: 'line one\n\n    line two\n\n\n    after blank\n\n    ', l: strip, m: 'keep\n\n\n    ', n: ' two extra\n\n    base\n\n    '}\n"
    );
}

#[test]
fn block_scalars_folded() {
    assert_eq!(
        salt_top(
            "d:\n  k: >\n    folded one\n    folded two\n\n    para\n      indented\n    back\n  l: >-\n    a\n    b\n"
        ),
        "p/d: {k: \"folded one folded two\\npara\\n  indented\\nback\\n\", l: a b}\n"
    );
}

#[test]
fn multiline_plain_and_quoted_input() {
    assert_eq!(
        salt_top(
            "d:\n  k: plain\n    continued\n      more\n\n    para\n  l: 'single\n    continued\n\n    para'\n  m: \"double\n    continued \\\n    escaped\"\n"
        ),
        "p/d: {k: 'plain continued more\n\n    para', l: 'single continued\n\n    para', m: double continued escaped}\n"
    );
}

#[test]
fn comments_markers_bom_and_crlf() {
    assert_eq!(
        salt_top("\u{feff}%YAML 1.1\n--- # comment\r\nd: [a]  # trailing\r\n# end\r\n...\r\n"),
        "p/d: [a]\n"
    );
}

#[test]
fn the_root_of_the_dump_is_flow_when_the_entry_is_scalar() {
    assert_eq!(salt_top("d: plain text\n"), "{p/d: plain text}\n");
}

#[test]
fn project_and_deployment_in_the_key() {
    assert_eq!(salt_top("d: x\n"), "{p/d: x}\n");
}

#[test]
fn error_duplicate_keys() {
    assert_load_error("d:\n  a: 1\n  a: 2\n", "found conflicting ID 'a'");
}

#[test]
fn error_duplicate_keys_by_python_equality() {
    assert_load_error("d:\n  1: a\n  true: b\n", "found conflicting ID 'True'");
}

#[test]
fn error_duplicate_keys_int_and_float() {
    assert_load_error("d:\n  1: a\n  1.0: b\n", "conflicting ID");
}

#[test]
fn error_duplicate_keys_from_a_merge_list() {
    assert_load_error(
        "a: &a {x: 1}\nb: &b {x: 2}\nd:\n  <<: [*a, *b]\n",
        "conflicting ID 'x'",
    );
}

#[test]
fn error_empty_flow_entry() {
    assert_load_error("d: [, ]\n", "expected the node content");
}

#[test]
fn error_unclosed_flow_sequence() {
    assert_load_error("d: [a, b\n", "line");
}

#[test]
fn error_unclosed_flow_mapping() {
    assert_load_error("d: {a: b\n", "line");
}

#[test]
fn error_unclosed_quote() {
    assert_load_error("d: 'abc\n", "end of stream");
}

#[test]
fn error_bad_indentation_of_sequence() {
    assert_load_error("d:\n  - a\n - b\n", "expected <block end>");
}

#[test]
fn error_bad_indentation_of_mapping() {
    assert_load_error("d:\n  a: b\n c: d\n", "expected <block end>");
}

#[test]
fn error_mapping_value_in_a_plain_scalar() {
    assert_load_error("d: a: b\n", "mapping values are not allowed here");
}

#[test]
fn error_tab_as_indentation() {
    assert_load_error("d:\n\t- a\n", "'\\t' that cannot start any token");
}

#[test]
fn error_tab_after_a_value_indicator() {
    assert_load_error("d:\t[a]\n", "cannot start any token");
}

#[test]
fn error_alias_to_unknown_anchor() {
    assert_load_error("d: *nowhere\n", "found undefined alias \"nowhere\"");
}

#[test]
fn error_unsupported_recursive_alias() {
    assert_load_error("d: &a [*a]\n", "recursive");
}

#[test]
fn error_duplicate_anchor() {
    assert_load_error("a: &a 1\nb: &a 2\n", "found duplicate anchor \"a\"");
}

#[test]
fn error_unknown_escape() {
    assert_load_error("d: \"\\q\"\n", "unknown escape");
}

#[test]
fn error_short_hex_escape() {
    assert_load_error("d: \"\\x4\"\n", "hexadecimal");
}

#[test]
fn error_two_documents() {
    assert_load_error("d: [a]\n---\ne: [b]\n", "expected a single document");
}

#[test]
fn error_text_after_the_document() {
    assert_load_error("d: [a]\n...\ne: b\n", "expected '<document start>'");
}

#[test]
fn error_list_key() {
    assert_load_error("d:\n  [a]: 1\n", "found unacceptable key");
}

#[test]
fn error_mapping_key() {
    assert_load_error("{a: b}: c\n", "found unacceptable key");
}

#[test]
fn error_reserved_indicator() {
    assert_load_error("d: `x`\n", "cannot start any token");
}

#[test]
fn error_block_scalar_indentation_zero() {
    assert_load_error("d: |0\n  x\n", "indentation indicator");
}

#[test]
fn error_unknown_local_tag() {
    assert_load_error(
        "d: !foo x\n",
        "could not determine a constructor for the tag '!foo'",
    );
}

#[test]
fn error_unsupported_binary_tag() {
    assert_load_error("d: !!binary aGVsbG8=\n", "!!binary");
}

#[test]
fn error_bad_explicit_int() {
    assert_load_error("d: !!int abc\n", "cannot construct an integer");
}

#[test]
fn error_merge_of_a_scalar() {
    assert_load_error("d:\n  <<: 1\n", "for merging");
}

#[test]
fn error_merge_key_as_a_value() {
    assert_load_error("d: [<<]\n", "could not determine a constructor");
}

#[test]
fn error_control_character_in_input() {
    assert_load_error("d: '\u{7}'\n", "unacceptable character #x0007");
}

#[test]
fn error_yaml_version_2() {
    assert_load_error("%YAML 2.0\n---\nd: 1\n", "incompatible YAML document");
}

#[test]
fn error_undefined_tag_handle() {
    assert_load_error("d: !e!str x\n", "undefined tag handle");
}

#[test]
fn error_unsupported_integer_beyond_128_bits() {
    assert_load_error("d: 999999999999999999999999999999999999999999\n", "128-bit");
}

#[test]
fn error_document_separator_in_quoted_scalar() {
    assert_load_error("'a\n---\nb': 1\n", "document separator");
}

// ----- hand-written: bounds, options, building blocks -----

#[test]
fn nesting_is_bounded_without_recursing_without_limit() {
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(load(&ok).is_ok());
    let too_deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    assert_load_error(&too_deep, "nested deeper than 256");
    let mut block = String::new();
    for level in 0..=MAX_DEPTH {
        block.push_str(&" ".repeat(level));
        block.push_str("- \n");
    }
    block.push_str(&" ".repeat(MAX_DEPTH + 1));
    block.push_str("x\n");
    assert_load_error(&block, "nested deeper than 256");
    // A hundred thousand unclosed brackets fail fast, not by stack overflow.
    assert_load_error(&"[".repeat(100_000), "nested deeper than 256");
}

#[test]
fn nesting_through_aliases_is_bounded_too() {
    let mut input = String::from("a0: &a0 x\n");
    for i in 1..=300 {
        input.push_str(&format!("a{i}: &a{i} [*a{}]\n", i - 1));
    }
    assert_load_error(&input, "counting through aliases");
}

#[test]
fn billion_laughs_stays_small_because_aliases_are_shared() {
    let mut input = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..=9 {
        let refs = vec![format!("*l{}", i - 1); 10].join(", ");
        input.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
    }
    input.push_str("d: *l9\n");
    let out = salt_top(&input);
    // Python writes each level once and then aliases: 91 lines, not 10^10.
    assert_eq!(out.lines().count(), 91, "{out}");
    assert!(
        out.starts_with("p/d:\n- &id009\n  - &id008\n    - &id007\n"),
        "{out}"
    );
    assert!(
        out.contains("- &id001 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"),
        "{out}"
    );
    assert!(out.ends_with("- *id009\n- *id009\n"), "{out}");
}

#[test]
fn merged_entries_are_bounded() {
    let keys: Vec<String> = (0..1000).map(|i| format!("k{i}: {i}")).collect();
    let mut input = format!("base: &base {{{}}}\n", keys.join(", "));
    for i in 0..200 {
        input.push_str(&format!("m{i}: {{<<: *base}}\n"));
    }
    assert_load_error(&input, "merge keys produce more than");
}

#[test]
fn empty_and_comment_only_streams_are_null() {
    for input in ["", "\n\n", "# nothing\n", "---\n", "...\n", "--- ~\n"] {
        assert!(matches!(load(input), Ok(Value::Null)), "{input:?}");
    }
}

#[test]
fn pyyaml_default_options_write_block_style_and_escape_non_ascii() {
    let value = load("b: [1, {c: x y}]\na: {k: [1, 2]}\né: ü\n").unwrap();
    assert_eq!(
        dump(&value, &DumpOptions::pyyaml_defaults()),
        "a:\n  k:\n  - 1\n  - 2\nb:\n- 1\n- c: x y\n\"\\xE9\": \"\\xFC\"\n"
    );
}

#[test]
fn unsorted_keys_wider_indent_and_narrow_width() {
    let value = load("b: [1, {c: x y}]\na: {k: [1, 2]}\n").unwrap();
    let options = DumpOptions {
        indent: 4,
        width: 20,
        default_flow_style: None,
        allow_unicode: false,
        sort_keys: false,
    };
    assert_eq!(
        dump(&value, &options),
        "b:\n- 1\n- {c: x y}\na:\n    k: [1, 2]\n"
    );
}

#[test]
fn root_scalars_end_the_document_explicitly_when_plain() {
    let options = DumpOptions::pyyaml_defaults();
    assert_eq!(dump(&Value::str("abc"), &options), "abc\n...\n");
    assert_eq!(dump(&Value::str("yes"), &options), "'yes'\n");
    assert_eq!(dump(&Value::Null, &options), "null\n...\n");
    assert_eq!(dump(&Value::Float(1.5), &options), "1.5\n...\n");
    assert_eq!(dump(&Value::seq(Vec::new()), &options), "[]\n");
}

#[test]
fn floats_use_python_repr() {
    for (value, text) in [
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (0.0001, "0.0001"),
        (1e-5, "1e-05"),
        (1.5e-7, "1.5e-07"),
        (123.456, "123.456"),
        (-2.5e300, "-2.5e+300"),
        (5e-324, "5e-324"),
        (0.1 + 0.2, "0.30000000000000004"),
        (9.223372036854776e18, "9.223372036854776e+18"),
        (-0.0, "-0.0"),
    ] {
        assert_eq!(python_float_repr(value), text);
    }
    let options = DumpOptions::salt_safe_dump();
    assert_eq!(dump(&Value::Float(1e22), &options), "1.0e+22\n...\n");
    assert_eq!(
        dump(&Value::Float(f64::NEG_INFINITY), &options),
        "-.inf\n...\n"
    );
}

#[test]
fn error_positions_are_one_based() {
    let error = load("a: 1\nb: [x\n").unwrap_err();
    assert_eq!(error.mark().map(|m| (m.line, m.column)), Some((2, 0)));
    assert!(
        error.to_string().starts_with("line 3, column 1: "),
        "{error}"
    );
}
