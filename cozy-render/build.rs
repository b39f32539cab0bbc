//! Links the `cozy-render` executable as a position-dependent (non-PIE) binary on Linux.
//!
//! A PIE binary of this size carries about 40,000 relative relocations that the dynamic loader
//! applies on every start, touching (and copying) every page of `.data.rel.ro`. For a CLI that
//! runs for a few milliseconds per chart that is a tenth of its wall time and more than a MiB of
//! its memory. The cost is address-space layout randomisation of the executable image itself;
//! the heap, stacks and shared libraries stay randomised. Set `COZY_RENDER_PIE=1` to link a
//! PIE binary instead.

fn main() {
    println!("cargo:rerun-if-env-changed=COZY_RENDER_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    let pie_requested = std::env::var_os("COZY_RENDER_PIE").is_some_and(|v| v == "1");
    if linux && !pie_requested {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
