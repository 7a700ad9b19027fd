//! The deployment examples of `deploy/` are what they say: the systemd
//! unit passes `systemd-analyze verify` (with this build as its binary) and
//! keeps its hardening, and the example configuration behind a proxy loads.

use std::path::Path;

#[test]
fn the_systemd_unit_verifies_and_keeps_its_hardening() {
    let unit = std::fs::read_to_string(crate::root().join("deploy/sello.service")).expect("unit");
    for setting in [
        "User=sello",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/sello",
        "StateDirectory=sello",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=\n",
        "PrivateTmp=yes",
        "ProtectHome=yes",
    ] {
        assert!(unit.contains(setting), "the unit sets {setting:?}");
    }
    // The unit names the installed binary; here, the one just built.
    let dir = tempfile::tempdir().expect("temp");
    let local = unit.replace("/usr/local/bin/sello", env!("CARGO_BIN_EXE_sello"));
    let path = dir.path().join("sello.service");
    std::fs::write(&path, local).expect("unit copy");
    let verify = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze (installed by scripts/test)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(verify.status.success(), "{said}");
    assert!(
        !said.contains("Unknown key") && !said.contains("Unknown section"),
        "{said}"
    );
}

#[test]
fn the_example_configuration_behind_a_proxy_loads() {
    let file = crate::root().join("deploy/sello.toml");
    // Its forms folder is where an installation puts them; here, the repository's.
    let forms = [(
        "SELLO_FORMS_DIR".to_owned(),
        crate::root().join("forms").display().to_string(),
    )];
    let config = sello::config::Config::from_sources(Some(Path::new(&file)), forms).expect("loads");
    assert!(config.behind_proxy);
    assert!(config.listen.ip().is_loopback(), "only the proxy reaches Sello");
    assert!(config.base_url.starts_with("https://"), "secure cookies");
    assert_eq!(config.data_dir, Path::new("/var/lib/sello"));
}
