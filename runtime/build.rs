//! Builds the guests in `../guests` for `wasm32-wasip2` with a nested cargo
//! (its own target directory, so host and guest builds never fight over
//! flags), embeds the built-in guests, and tells cargo to rerun only when a
//! guest's sources (from cargo's dep-info), the WIT or the SDK change.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

/// (module name, package, artifact stem). Embedded in the binary.
const BUILTIN: &[(&str, &str, &str)] = &[
    ("vspc", "postern-guest-vspc", "postern_guest_vspc"),
    ("cvproxy", "postern-guest-cvproxy", "postern_guest_cvproxy"),
    ("spiro", "postern-guest-spiro", "postern_guest_spiro"),
];

/// Guests that exist only for the integration tests; their paths are
/// generated for `tests/`, they are not embedded.
const TEST_ONLY: &[(&str, &str, &str)] = &[
    (
        "MISBEHAVE",
        "postern-test-guest-misbehave",
        "postern_test_guest_misbehave",
    ),
    (
        "FORBID_LINE_POLICY",
        "postern-policy-forbid-line",
        "postern_policy_forbid_line",
    ),
    (
        "REQUIRE_PREFIX_POLICY",
        "postern-policy-require-prefix",
        "postern_policy_require_prefix",
    ),
    (
        "POLICY_FIXED",
        "postern-test-guest-policy-fixed",
        "postern_test_guest_policy_fixed",
    ),
    (
        "CVPROXY_ALT",
        "postern-test-guest-cvproxy-alt",
        "postern_test_guest_cvproxy_alt",
    ),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    let guests = root.join("guests");
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("guests");

    compile_protos(&root.join("proto"));

    ensure_target_installed();
    // One cargo run per guest: a run over several packages would unify the
    // SDK's per-world features, and every guest would carry every world.
    for (_, package, _) in BUILTIN.iter().chain(TEST_ONLY) {
        build_guest(&guests, &target_dir, package);
    }

    let artifacts = target_dir.join(TARGET).join("release");
    let mut builtin = String::from(
        "/// (module name, component bytes) of every built-in guest.\npub const BUILTIN_GUESTS: &[(&str, &[u8])] = &[\n",
    );
    for (name, _, stem) in BUILTIN {
        let copy = copy_artifact(&artifacts, stem, &out_dir);
        builtin.push_str(&format!(
            "    ({name:?}, include_bytes!({:?})),\n",
            copy.display().to_string()
        ));
        rerun_on_dep_info(&artifacts, stem);
    }
    builtin.push_str("];\n");
    fs::write(out_dir.join("builtin_guests.rs"), builtin).unwrap();

    let mut tests = String::from("// Paths of the test-only guests, built by runtime/build.rs.\n");
    for (constant, _, stem) in TEST_ONLY {
        let copy = copy_artifact(&artifacts, stem, &out_dir);
        tests.push_str(&format!(
            "#[allow(dead_code)]\npub const {constant}: &str = {:?};\n",
            copy.display().to_string()
        ));
        rerun_on_dep_info(&artifacts, stem);
    }
    fs::write(out_dir.join("test_guests.rs"), tests).unwrap();

    for path in [
        "guests/Cargo.toml",
        "guests/Cargo.lock",
        "guest-sdk/Cargo.toml",
        "guest-sdk/src",
        "wit",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// Postern's own admin API (module registry, policy chains).
const ADMIN_PROTO: &str = "postern/v1/admin.proto";

/// The CloudVision subset and the admin API under `proto/`, compiled with protox (pure Rust,
/// no system `protoc`) into prost messages and tonic clients and servers.
/// Servers too: the integration tests run a fake CloudVision on them.
fn compile_protos(proto: &Path) {
    const FILES: &[&str] = &[
        "arista/workspace.v1/workspace.proto",
        "arista/inventory.v1/inventory.proto",
        "arista/studio.v1/studio.proto",
        "arista/configlet.v1/configlet.proto",
        "arista/tag.v2/tag.proto",
        "arista/changecontrol.v1/changecontrol.proto",
        ADMIN_PROTO,
    ];
    let descriptors = protox::compile(FILES, [proto])
        .unwrap_or_else(|e| panic!("compiling the protos in {}: {e:?}", proto.display()));
    // The admin API's descriptors alone, for gRPC server reflection.
    let admin = protox::compile([ADMIN_PROTO], [proto])
        .unwrap_or_else(|e| panic!("compiling {ADMIN_PROTO}: {e:?}"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    fs::write(
        out_dir.join("admin_descriptor.bin"),
        prost::Message::encode_to_vec(&admin),
    )
    .unwrap();
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)
        .unwrap_or_else(|e| panic!("generating Rust from the protos: {e}"));
    println!("cargo:rerun-if-changed={}", proto.display());
}

fn ensure_target_installed() {
    let sysroot = Command::new(env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if sysroot.is_some_and(|s| s.join("lib/rustlib").join(TARGET).is_dir()) {
        return;
    }
    println!(
        "cargo:warning=installing the {TARGET} target with rustup (needed to build Postern's guests)"
    );
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        panic!(
            "\n\nPostern's built-in guests need the Rust target `{TARGET}`, and `rustup target add {TARGET}` failed \
             ({status:?}).\nInstall it by hand (`rustup target add {TARGET}`) or use a rustup-managed toolchain, then build again.\n"
        );
    }
}

fn build_guest(guests: &Path, target_dir: &Path, package: &str) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    // Run inside guests/ so its .cargo/config.toml (guest link flags) applies.
    command
        .current_dir(guests)
        .arg("build")
        .arg("--release")
        .arg("--target")
        .arg(TARGET)
        .arg("--manifest-path")
        .arg(guests.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    command.arg("-p").arg(package);
    // The host build's flags and wrappers (clippy, coverage, …) are not the
    // guests' business.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        command.env_remove(var);
    }
    for (key, _) in env::vars() {
        if key.starts_with("CARGO_PROFILE_")
            || key.starts_with("CARGO_CFG_")
            || key.starts_with("CARGO_FEATURE_")
        {
            command.env_remove(key);
        }
    }
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("running cargo to build the guests: {e}"));
    if !status.success() {
        panic!(
            "building the guest {package} in {} for {TARGET} failed (see the errors above)",
            guests.display()
        );
    }
}

fn copy_artifact(artifacts: &Path, stem: &str, out_dir: &Path) -> PathBuf {
    let built = artifacts.join(format!("{stem}.wasm"));
    let copy = out_dir.join(format!("{stem}.wasm"));
    fs::copy(&built, &copy).unwrap_or_else(|e| panic!("copying {}: {e}", built.display()));
    copy
}

/// Cargo's dep-info lists every source file of the guest; rerun when any changes.
fn rerun_on_dep_info(artifacts: &Path, stem: &str) {
    let Ok(dep_info) = fs::read_to_string(artifacts.join(format!("{stem}.d"))) else {
        return;
    };
    let Some((_, sources)) = dep_info.split_once(": ") else {
        return;
    };
    for source in sources.split_whitespace() {
        if !source.contains("/.cargo/registry/") {
            println!("cargo:rerun-if-changed={source}");
        }
    }
}
