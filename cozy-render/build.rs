//! Links the `cozy-render` executable as a position-dependent (non-PIE) binary on Linux.
//!
//! A PIE binary of this size carries about 40,000 relative relocations that the dynamic loader
//! applies on every start, touching (and copying) every page of `.data.rel.ro`. For a CLI that
//! runs for a few milliseconds per chart that is a tenth of its wall time and more than a MiB of
//! its memory. The cost is address-space layout randomisation of the executable image itself;
//! the heap, stacks and shared libraries stay randomised. Set `COZY_RENDER_PIE=1` to link a
//! PIE binary instead.
//!
//! A statically linked build (`make cozy-render-static`: `crt-static` and the static relocation
//! model) is non-PIE by construction and gets no extra flag; `-no-pie` next to a static-PIE
//! build would produce an executable that crashes at start-up.

fn main() {
    println!("cargo:rerun-if-env-changed=COZY_RENDER_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    let pie_requested = std::env::var_os("COZY_RENDER_PIE").is_some_and(|v| v == "1");
    let crt_static = std::env::var("CARGO_CFG_TARGET_FEATURE")
        .is_ok_and(|features| features.split(',').any(|f| f == "crt-static"));
    if linux && !pie_requested && !crt_static {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
