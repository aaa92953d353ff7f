use super::*;

fn salt(value: &Value) -> String {
    dump(value, &DumpOptions::salt_safe_dump())
}

#[test]
fn loads_and_dumps_a_simple_mapping() {
    let value = load("a: 1\nb: [x, y]\n").unwrap();
    assert_eq!(salt(&value), "a: 1\nb: [x, y]\n");
}
