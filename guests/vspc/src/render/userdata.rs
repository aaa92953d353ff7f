//! RESPONSE_USERDATA (spec 9.3): the user data with Python's `str.strip()`.

/// Python's `str.isspace()`: Rust's `char::is_whitespace` lacks U+001C–U+001F (which Python
/// counts as separators) and has nothing else extra for these purposes, so it is spelled out.
fn is_python_space(ch: char) -> bool {
    matches!(ch,
        '\t'..='\r' | '\u{1C}'..=' ' | '\u{85}' | '\u{A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}'
        | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}')
}

pub fn userdata_body(userdata: &str) -> &str {
    userdata.trim_matches(is_python_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_python_whitespace() {
        assert_eq!(userdata_body("#cloud-config\n{}"), "#cloud-config\n{}");
        assert_eq!(
            userdata_body("\n\t #cloud-config\nx: 1\n\n"),
            "#cloud-config\nx: 1"
        );
        assert_eq!(
            userdata_body("\u{1c}\u{1d}\u{1e}\u{1f}\u{b}\u{c}x\u{85}\u{a0}\u{3000}\u{2007}"),
            "x"
        );
        assert_eq!(userdata_body("   "), "");
        assert_eq!(userdata_body(""), "");
        assert_eq!(
            userdata_body("\u{200b}x\u{180e}"),
            "\u{200b}x\u{180e}",
            "not spaces for Python"
        );
        assert_eq!(userdata_body(" a b "), "a b");
    }

    #[test]
    fn the_set_is_pythons() {
        let python: Vec<u32> = vec![
            0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000,
            0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028,
            0x2029, 0x202f, 0x205f, 0x3000,
        ];
        let ours: Vec<u32> = (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|&c| is_python_space(c))
            .map(u32::from)
            .collect();
        assert_eq!(ours, python);
    }
}
