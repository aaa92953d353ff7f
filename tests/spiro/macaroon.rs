//! spiro's macaroons against the normative vectors of spec 8.10 and the
//! strict parsing of 13.4 (every malformed token is refused, none crashes).

use postern::workflows::spiro::macaroon::{Macaroon, TokenError};

const KEY: &[u8] = &[b'k'; 64];
const IDENTIFIER: &[u8] = b"ABCDEFGHIJKLMNOPQRST";
const T1_CAVEAT: &str =
    r#"{"not_before": 1600000000.0, "not_after": 1600003600.0, "project_allow": ["myproj"]}"#;
const DENY_SECRET: &str = r#"{"project_deny": ["secret"]}"#;
const T3_CAVEAT: &str = r#"{"not_before": 1600000000.0}"#;

const T1: &str = "MDAwZWxvY2F0aW9uIAowMDI0aWRlbnRpZmllciBBQkNERUZHSElKS0xNTk9QUVJTVAowMDVkY2lkIHsibm90X2JlZm9yZSI6IDE2MDAwMDAwMDAuMCwgIm5vdF9hZnRlciI6IDE2MDAwMDM2MDAuMCwgInByb2plY3RfYWxsb3ciOiBbIm15cHJvaiJdfQowMDJmc2lnbmF0dXJlIECfjdsH_ZY2o5b7XwLyeX3mFQ97nJaqr-8-Z_dEfVRCCg";
const T2: &str = "MDAwZWxvY2F0aW9uIAowMDI0aWRlbnRpZmllciBBQkNERUZHSElKS0xNTk9QUVJTVAowMDVkY2lkIHsibm90X2JlZm9yZSI6IDE2MDAwMDAwMDAuMCwgIm5vdF9hZnRlciI6IDE2MDAwMDM2MDAuMCwgInByb2plY3RfYWxsb3ciOiBbIm15cHJvaiJdfQowMDI1Y2lkIHsicHJvamVjdF9kZW55IjogWyJzZWNyZXQiXX0KMDAyZnNpZ25hdHVyZSCicikMm9QcOQKfFQ9LLatPLwavclju-IO-VtBtz1u88Ao";
const T3: &str = "MDAwZWxvY2F0aW9uIAowMDI0aWRlbnRpZmllciBBQkNERUZHSElKS0xNTk9QUVJTVAowMDI1Y2lkIHsibm90X2JlZm9yZSI6IDE2MDAwMDAwMDAuMH0KMDAyZnNpZ25hdHVyZSCnur5cMs1kVHH2_gfmyxEVDt3hnM-Wj1IR6h6_M42p7wo";
const T4: &str = "MDAwZWxvY2F0aW9uIAowMDI0aWRlbnRpZmllciBBQkNERUZHSElKS0xNTk9QUVJTVAowMDI1Y2lkIHsibm90X2JlZm9yZSI6IDE2MDAwMDAwMDAuMH0KMDAyNWNpZCB7InByb2plY3RfZGVueSI6IFsic2VjcmV0Il19CjAwMmZzaWduYXR1cmUgeMCC4styD9P762jqwgr8XFI8YdRlAh2UHhDrgGN7CEUK";
const WRONG_KEY: &str = "MDAwZWxvY2F0aW9uIAowMDI0aWRlbnRpZmllciBBQkNERUZHSElKS0xNTk9QUVJTVAowMDI1Y2lkIHsibm90X2JlZm9yZSI6IDE2MDAwMDAwMDAuMH0KMDAyZnNpZ25hdHVyZSBKo73JiOEvqV8nUBn8Yw1UviCLA3RRPxQ_XUJOxmjo-wo";
const UNKNOWN_PREDICATE: &str = "MDAwZWxvY2F0aW9uIAowMDI0aWRlbnRpZmllciBBQkNERUZHSElKS0xNTk9QUVJTVAowMDJmY2lkIHsibm90X2JlZm9yZSI6IDE2MDAwMDAwMDAuMCwgImZvbyI6IDF9CjAwMmZzaWduYXR1cmUg1ckL03uCPWHNNfjlzfhE1YUUUQoXaPN-5HprxSWo04sK";
const PYMACAROONS: &str = "MDAxY2xvY2F0aW9uIGh0dHA6Ly9teWJhbmsvCjAwMjZpZGVudGlmaWVyIHdlIHVzZWQgb3VyIHNlY3JldCBrZXkKMDAxNmNpZCB0ZXN0ID0gY2F2ZWF0CjAwMmZzaWduYXR1cmUgGXusegRK8zMyhluSZuJtSTvdZopmDkTYjOGpmMI9vWcK";

const NOW: f64 = 1600000001.0;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check(token: &str, now: f64, project: Option<&str>) -> Result<(), TokenError> {
    Macaroon::parse(token)?.verify(KEY, now, project)
}

#[test]
fn minting_reproduces_the_vectors_byte_for_byte() {
    let t1 = Macaroon::mint(KEY, b"", IDENTIFIER, &[T1_CAVEAT.as_bytes()]).unwrap();
    assert_eq!(t1.serialize(), T1);
    assert_eq!(t1.to_bytes().len(), 190);
    assert_eq!(
        hex(&t1.signature),
        "409f8ddb07fd9636a396fb5f02f2797de6150f7b9c96aaafef3e67f7447d5442"
    );
    let t2 = t1.attenuate(DENY_SECRET.as_bytes()).unwrap();
    assert_eq!(t2.serialize(), T2);
    assert_eq!(t2.to_bytes().len(), 227);
    let t3 = Macaroon::mint(KEY, b"", IDENTIFIER, &[T3_CAVEAT.as_bytes()]).unwrap();
    assert_eq!(t3.serialize(), T3);
    assert_eq!(
        t3.attenuate(DENY_SECRET.as_bytes()).unwrap().serialize(),
        T4
    );
    let wrong = Macaroon::mint(&[b'j'; 64], b"", IDENTIFIER, &[T3_CAVEAT.as_bytes()]).unwrap();
    assert_eq!(wrong.serialize(), WRONG_KEY);
    let bank = Macaroon::mint(
        b"this is our super secret key; only we should know it",
        b"http://mybank/",
        b"we used our secret key",
        &[b"test = caveat"],
    )
    .unwrap();
    assert_eq!(bank.serialize(), PYMACAROONS);
    assert_eq!(
        hex(&bank.signature),
        "197bac7a044af33332865b9266e26d493bdd668a660e44d88ce1a998c23dbd67"
    );
}

#[test]
fn parsing_round_trips_the_vectors() {
    for token in [T1, T2, T3, T4, WRONG_KEY, UNKNOWN_PREDICATE, PYMACAROONS] {
        assert_eq!(Macaroon::parse(token).unwrap().serialize(), token);
    }
    let t2 = Macaroon::parse(T2).unwrap();
    assert_eq!(t2.location, b"");
    assert_eq!(t2.identifier, IDENTIFIER);
    assert_eq!(t2.caveats, [T1_CAVEAT.as_bytes(), DENY_SECRET.as_bytes()]);
}

#[test]
fn t1_and_t2_hold_for_myproj_between_their_strict_bounds() {
    for token in [T1, T2] {
        assert_eq!(check(token, NOW, None), Ok(()));
        assert_eq!(check(token, NOW, Some("myproj")), Ok(()));
        assert_eq!(check(token, 1600000000.0, None), Err(TokenError::Caveat));
        assert_eq!(check(token, 1600003600.0, None), Err(TokenError::Caveat));
        assert_eq!(check(token, 1700000000.0, None), Err(TokenError::Caveat));
        assert_eq!(check(token, NOW, Some("other")), Err(TokenError::Project));
        assert_eq!(check(token, NOW, Some("secret")), Err(TokenError::Project));
        // A token outside its time bounds is a 401 whatever the project.
        assert_eq!(
            check(token, 1700000000.0, Some("other")),
            Err(TokenError::Caveat)
        );
    }
}

#[test]
fn root_tokens_hold_for_every_project_after_not_before() {
    for project in [None, Some("myproj"), Some("anything")] {
        assert_eq!(check(T3, NOW, project), Ok(()));
        assert_eq!(check(T3, 2000000000.0, project), Ok(()));
        assert_eq!(check(T3, 1600000000.0, project), Err(TokenError::Caveat));
    }
    assert_eq!(check(T4, NOW, None), Ok(()));
    assert_eq!(check(T4, NOW, Some("myproj")), Ok(()));
    assert_eq!(check(T4, NOW, Some("secret")), Err(TokenError::Project));
}

#[test]
fn wrong_keys_unknown_predicates_and_foreign_caveats_are_refused() {
    assert_eq!(check(WRONG_KEY, NOW, None), Err(TokenError::Signature));
    assert_eq!(check(UNKNOWN_PREDICATE, NOW, None), Err(TokenError::Caveat));
    let bank = Macaroon::parse(PYMACAROONS).unwrap();
    assert_eq!(
        bank.verify(
            b"this is our super secret key; only we should know it",
            NOW,
            None
        ),
        Err(TokenError::Caveat),
        "a caveat that is not JSON is never satisfied"
    );
    // A tampered caveat breaks the chain.
    let mut tampered = Macaroon::parse(T1).unwrap();
    tampered.caveats[0] = T1_CAVEAT.replace("myproj", "other").into_bytes();
    assert_eq!(
        tampered.verify(KEY, NOW, Some("other")),
        Err(TokenError::Signature)
    );
}

#[test]
fn caveats_are_checked_as_stored_and_typed_strictly() {
    let verify = |caveat: &str, project: Option<&str>| {
        Macaroon::mint(KEY, b"", IDENTIFIER, &[caveat.as_bytes()])
            .unwrap()
            .verify(KEY, NOW, project)
    };
    // Any formatting a holder chose; the last of a repeated key wins.
    assert_eq!(verify(r#"{ "not_before":1600000000 }"#, None), Ok(()));
    assert_eq!(
        verify(r#"{"not_before": 1700000000, "not_before": 1}"#, None),
        Ok(())
    );
    assert_eq!(verify("{}", Some("any")), Ok(()));
    for unsatisfied in [
        r#"{"not_before": "1600000000"}"#,
        r#"{"not_before": true}"#,
        r#"{"project_allow": "myproj"}"#,
        r#"{"project_deny": [1]}"#,
        "[1, 2]",
        "not json",
    ] {
        assert_eq!(
            verify(unsatisfied, Some("myproj")),
            Err(TokenError::Caveat),
            "{unsatisfied}"
        );
    }
    let not_utf8 = Macaroon::mint(KEY, b"", IDENTIFIER, &[b"{\"\xff\": 1}"]).unwrap();
    assert_eq!(not_utf8.verify(KEY, NOW, None), Err(TokenError::Caveat));
    // No caveats: valid for every project, forever (as the original).
    let bare = Macaroon::mint(KEY, b"", IDENTIFIER, &[]).unwrap();
    assert_eq!(bare.verify(KEY, 4e9, Some("x")), Ok(()));
}

#[test]
fn either_base64_alphabet_with_or_without_padding_is_accepted() {
    use base64::Engine as _;
    let raw = Macaroon::parse(T1).unwrap().to_bytes();
    let standard = base64::engine::general_purpose::STANDARD.encode(&raw);
    assert!(standard.contains(['+', '/']) && standard.ends_with('='));
    assert_eq!(check(&standard, NOW, Some("myproj")), Ok(()));
    assert_eq!(check(&format!("{T1}=="), NOW, Some("myproj")), Ok(()));
}

#[test]
fn malformed_tokens_are_refusals_never_crashes() {
    use base64::Engine as _;
    let b64 = |raw: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let signature = [7u8; 32];
    let with_signature = |prefix: &[u8]| {
        let mut raw = prefix.to_vec();
        raw.extend_from_slice(b"002fsignature ");
        raw.extend_from_slice(&signature);
        raw.push(b'\n');
        b64(&raw)
    };
    let cases: Vec<(&str, String)> = vec![
        ("MDAw (original: struct.error)", "MDAw".into()),
        ("!!!! (original: IndexError)", "!!!!".into()),
        ("abc", "abc".into()),
        ("QA", "QA".into()),
        ("empty", String::new()),
        ("whitespace inside", T1.replacen('A', "A ", 1)),
        ("v2", b64(&[0x02, 0x01, 0x00])),
        ("vid before any cid", with_signature(b"000elocation \n0024identifier ABCDEFGHIJKLMNOPQRST\n0008vid \n")),
        ("cl packet", with_signature(b"000elocation \n0024identifier ABCDEFGHIJKLMNOPQRST\n0007cl \n")),
        ("unknown key", with_signature(b"000elocation \n0024identifier ABCDEFGHIJKLMNOPQRST\n0008foo \n")),
        ("repeated identifier", with_signature(b"000elocation \n0024identifier ABCDEFGHIJKLMNOPQRST\n0024identifier ABCDEFGHIJKLMNOPQRST\n")),
        ("identifier first", with_signature(b"0024identifier ABCDEFGHIJKLMNOPQRST\n000elocation \n")),
        ("no LF", with_signature(b"000elocation  0024identifier ABCDEFGHIJKLMNOPQRST\n")),
        ("no space", with_signature(b"000elocationXX\n0024identifier ABCDEFGHIJKLMNOPQRST\n")),
        ("length below 7", b64(b"0003abc")),
        ("length past the end", b64(b"0fffsignature \n")),
        ("not hex", b64(b"00zzlocation \n")),
        ("short signature", b64(b"000elocation \n0024identifier ABCDEFGHIJKLMNOPQRST\n0010signature 12\n")),
        ("bytes after the signature", {
            let mut raw = Macaroon::parse(T1).unwrap().to_bytes();
            raw.extend_from_slice(b"000elocation \n");
            b64(&raw)
        }),
        ("no signature", b64(b"000elocation \n0024identifier ABCDEFGHIJKLMNOPQRST\n")),
    ];
    for (what, token) in cases {
        assert!(
            matches!(
                Macaroon::parse(&token),
                Err(TokenError::Base64 | TokenError::Format(_))
            ),
            "{what}: {:?}",
            Macaroon::parse(&token)
        );
    }
}
