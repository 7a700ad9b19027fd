//! The first start creates an administrator and shows its one-time
//! password to the person at the terminal (standard output), never in the
//! log stream (standard error) that a service manager collects and keeps.

use crate::server::Server;

#[test]
fn the_first_password_is_shown_on_standard_output_and_never_logged() {
    let server = Server::start(&[]);
    let password = server.admin_password.clone();
    assert!(password.len() >= 12, "a real password: «{password}»");
    assert!(
        server
            .output()
            .contains(&format!("Contraseña de un solo uso: {password}")),
        "{}",
        server.output()
    );
    // (The browser test logs in with it: it is the account's password.)
    let log = server.log();
    assert!(log.contains("Sello escucha"), "{log}");
    assert!(
        log.contains("Primer arranque"),
        "the log says an account was created:\n{log}"
    );
    assert!(
        !log.contains(&password),
        "the password is in the log stream:\n{log}"
    );
}
