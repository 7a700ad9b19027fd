//! The API against its own OpenAPI document: schemathesis generates
//! requests for every operation; none may get a 5xx, and every answer must
//! match the documented responses.

use std::process::Command;

use crate::server::Server;

#[test]
fn the_api_matches_its_openapi_document_and_never_fails_with_5xx() {
    let server = Server::start(&[("SELLO_LOOKUPS_PER_MINUTE", "0")]);
    server.sello(&[
        "users",
        "create",
        "--username",
        "integracion",
        "--name",
        "Integración",
        "--cargo",
        "Directora",
        "--role",
        "firmante",
    ]);
    let token = server.sello(&["users", "token", "integracion", "--name", "schemathesis"]);
    assert!(token.starts_with("sello_"));
    let output = Command::new("schemathesis")
        .args([
            "run",
            &format!("{}/api/v1/openapi.json", server.base_url),
            "--header",
            &format!("Authorization: Bearer {token}"),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--no-color",
        ])
        .env("SCHEMATHESIS_HOOKS", "")
        // Its cache goes into the working folder: the server's, not the project's.
        .current_dir(server.data_dir.path())
        .output()
        .expect("schemathesis (./scripts/test installs it)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{report}\n--- server log ---\n{}",
        server.log()
    );
    assert!(!server.log().contains("\"status\":500"), "{}", server.log());
}
