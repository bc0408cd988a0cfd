//! Sets the shared library's SONAME. The C ABI follows the crate's semver: for 0.y a minor bump breaks
//! it, so the SONAME carries major.minor (`libtrustcore.so.0.1`); from 1.0 on, the major alone.

fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "freebsd" {
        let major = env!("CARGO_PKG_VERSION_MAJOR");
        let minor = env!("CARGO_PKG_VERSION_MINOR");
        let soname =
            if major == "0" { format!("libtrustcore.so.0.{minor}") } else { format!("libtrustcore.so.{major}") };
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
