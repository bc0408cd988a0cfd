//! The committed include/trustcore.h must be what cbindgen makes from the sources today.
//! `TRUSTCORE_UPDATE_HEADER=1 cargo test -p trustcore-c --test header` rewrites it.

use std::path::Path;

fn version_macros() -> String {
    format!(
        "\n/* The version of this header (the crate's); tc_version() gives the loaded library's. */\n\
         #define TRUSTCORE_VERSION_MAJOR {}\n#define TRUSTCORE_VERSION_MINOR {}\n#define TRUSTCORE_VERSION_PATCH {}\n\
         #define TRUSTCORE_VERSION \"{}\"",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
        env!("CARGO_PKG_VERSION"),
    )
}

#[test]
fn committed_header_is_fresh() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header_path = crate_dir.join("../include/trustcore.h");
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    // the version macros come from Cargo's version (one version for every package: tools/check_version.py)
    config.after_includes = Some(version_macros());
    // from the source file, not the crate: no `cargo metadata` run, nothing touches Cargo.lock
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).expect("UTF-8 header");

    if std::env::var_os("TRUSTCORE_UPDATE_HEADER").is_some() {
        std::fs::write(&header_path, &generated).expect("write include/trustcore.h");
        return;
    }
    let committed = std::fs::read_to_string(&header_path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/trustcore.h is stale: run `TRUSTCORE_UPDATE_HEADER=1 cargo test -p trustcore-c --test header` \
         and commit the result"
    );
}
