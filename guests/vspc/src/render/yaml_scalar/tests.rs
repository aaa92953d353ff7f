use super::*;

fn item(text: &str) -> String {
    let mut out = String::new();
    write_search_item(&mut out, text);
    out
}

#[test]
fn examples_of_the_spec() {
    let examples = [
        ("example.com", "    - example.com"),
        ("", "    - ''"),
        ("yes", "    - 'yes'"),
        ("No", "    - 'No'"),
        ("off", "    - 'off'"),
        ("y", "    - y"),
        ("null", "    - 'null'"),
        ("~", "    - '~'"),
        ("1", "    - '1'"),
        ("010", "    - '010'"),
        ("0x1F", "    - '0x1F'"),
        ("1_000", "    - '1_000'"),
        ("190:20:30", "    - '190:20:30'"),
        ("08", "    - 08"),
        ("1.5", "    - '1.5'"),
        (".inf", "    - '.inf'"),
        ("1e3", "    - 1e3"),
        ("2020-01-01", "    - '2020-01-01'"),
        ("=", "    - '='"),
        ("<<", "    - '<<'"),
        ("!", "    - '!'"),
        ("a b", "    - a b"),
        (" lead", "    - ' lead'"),
        ("trail ", "    - 'trail '"),
        ("#x", "    - '#x'"),
        ("a #x", "    - 'a #x'"),
        ("a#x", "    - a#x"),
        ("x: y", "    - 'x: y'"),
        ("a:", "    - 'a:'"),
        ("x:y", "    - x:y"),
        (":a", "    - :a"),
        ("- y", "    - '- y'"),
        ("--- x", "    - '--- x'"),
        ("-y", "    - -y"),
        ("a,b", "    - a,b"),
        ("[x]", "    - '[x]'"),
        ("'q'", "    - '''q'''"),
        ("it's", "    - it's"),
        ("tab\there", "    - \"tab\\there\""),
        ("exämple.com", "    - \"ex\\xE4mple.com\""),
        ("\u{A0}x", "    - \"\\_x\""),
        ("€", "    - \"\\u20AC\""),
        ("😀", "    - \"\\U0001F600\""),
        ("a\nb", "    - 'a\n\n      b'"),
        ("a \nb", "    - \"a \\nb\""),
        ("\u{1}", "    - \"\\x01\""),
        ("back\\slash", "    - back\\slash"),
    ];
    for (text, expected) in examples {
        assert_eq!(item(text), expected, "{text:?}");
    }
}

#[test]
fn folding_example_of_the_spec() {
    let text = ["word"; 20].join(" ");
    let expected = format!(
        "    - {}\n      {}",
        ["word"; 16].join(" "),
        ["word"; 4].join(" ")
    );
    assert_eq!(item(&text), expected);
}

#[test]
fn resolution_follows_pyyaml_3_12() {
    // PyYAML 3.12 reads `._` as a float (6.0 does not), so it must be quoted.
    assert_eq!(item("._"), "    - '._'");
}

#[test]
fn escapes_of_double_quoted_scalars() {
    let cases = [
        ('\0', "\\0"),
        ('\u{7}', "\\a"),
        ('\u{8}', "\\b"),
        ('\u{b}', "\\v"),
        ('\u{c}', "\\f"),
        ('\r', "\\r"),
        ('\u{1b}', "\\e"),
        ('\u{7f}', "\\x7F"),
        ('\u{85}', "\\N"),
        ('\u{2028}', "\\L"),
        ('\u{2029}', "\\P"),
        ('\u{feff}', "\\uFEFF"),
        ('\u{10FFFF}', "\\U0010FFFF"),
    ];
    for (ch, escaped) in cases {
        assert_eq!(
            item(&format!("{ch}\"\\")),
            format!("    - \"{escaped}\\\"\\\\\""),
            "{ch:?}"
        );
    }
}

include!("pyyaml_vectors.rs");

#[test]
fn matches_pyyaml_on_generated_strings() {
    for (text, expected) in PYYAML_VECTORS {
        assert_eq!(item(text), *expected, "{text:?}");
    }
}
