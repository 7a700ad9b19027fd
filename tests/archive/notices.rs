//! E-mail notices of drafts waiting for someone, sent to a mail server
//! the test plays: it answers SMTP and keeps what it is sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use sello::accounts::Role;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

use crate::Fixture;
use crate::http::{Service, service_config};
use crate::workflows::{draft, step};

/// A message as the server received it: its recipients and its text.
#[derive(Debug, Clone)]
struct Mail {
    to: Vec<String>,
    text: String,
}

/// A mail server on a free port that accepts everything.
async fn mail_server() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let inbox: Arc<Mutex<Vec<Mail>>> = Arc::default();
    let kept = inbox.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 correo.prueba ESMTP\r\n").await;
                let mut mail = Mail {
                    to: Vec::new(),
                    text: String::new(),
                };
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 correo.prueba\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        mail.to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        b"250 OK\r\n"
                    } else if upper.starts_with("DATA") {
                        let _ = write.write_all(b"354 adelante\r\n").await;
                        while let Ok(Some(data)) = lines.next_line().await {
                            if data == "." {
                                break;
                            }
                            mail.text.push_str(&data);
                            mail.text.push('\n');
                        }
                        let mut done = std::mem::replace(
                            &mut mail,
                            Mail {
                                to: Vec::new(),
                                text: String::new(),
                            },
                        );
                        done.text = decoded(&done.text);
                        kept.lock().expect("inbox").push(done);
                        b"250 recibido\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 adios\r\n").await;
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, inbox)
}

/// The body of a quoted-printable message, decoded.
fn decoded(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let mut bytes = Vec::new();
    let mut rest = joined.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        match (byte, tail) {
            (b'=', [a, b, more @ ..]) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => {
                bytes.push(u8::from_str_radix(&format!("{}{}", *a as char, *b as char), 16).expect("hex"));
                rest = more;
            }
            _ => {
                bytes.push(byte);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Waits until the server holds `count` messages.
async fn messages(inbox: &Arc<Mutex<Vec<Mail>>>, count: usize) -> Vec<Mail> {
    for _ in 0..100 {
        let got = inbox.lock().expect("inbox").clone();
        if got.len() >= count {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "expected {count} messages, got {:?}",
        inbox.lock().expect("inbox")
    );
}

async fn those_who_take_the_next_step_are_told_by_mail(fixture: &Fixture) {
    let (port, inbox) = mail_server().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let config = service_config(&[
        ("SELLO_SMTP_URL", &url),
        ("SELLO_SMTP_FROM", "Sello DIF <sello@dif.prueba>"),
    ]);
    let service = Service::with_config(fixture, config).await;
    let office = "DIF-SLP";
    let mut tokens = Vec::new();
    for (name, role, email) in [
        ("auxiliar", Role::Capturista, "auxiliar@dif.prueba"),
        ("contador", Role::Contador, "contador@dif.prueba"),
        ("contadora.sin.correo", Role::Contador, ""),
        ("directora", Role::Firmante, "directora@dif.prueba"),
    ] {
        let (user, _) = service.user(office, name, role).await;
        service
            .state
            .accounts
            .set_email(office, user.id, email)
            .await
            .expect("email");
        tokens.push(service.token(&user).await);
    }
    assert!(
        service
            .state
            .accounts
            .set_email(office, 1, "no es un correo")
            .await
            .is_err()
    );
    let (auxiliar, contador, directora) = (&tokens[0], &tokens[1], &tokens[3]);

    let id = draft(
        &service,
        auxiliar,
        "oficio-autorizacion-apoyo",
        &crate::example_now("oficio-autorizacion-apoyo"),
    )
    .await;
    step(&service, auxiliar, id, "submit", None, StatusCode::OK).await;
    let sent = messages(&inbox, 1).await;
    assert_eq!(
        sent[0].to,
        ["contador@dif.prueba"],
        "the accountants with an address"
    );
    assert!(
        sent[0].text.contains(&format!("/borradores/{id}")),
        "{}",
        sent[0].text
    );
    assert!(sent[0].text.contains("Aprobaci"), "{}", sent[0].text);
    // The draft is named by its form and day, and its link by its random id:
    // nothing counts the office's drafts.
    assert!(sent[0].text.contains("(borrador del "), "{}", sent[0].text);
    assert!(!sent[0].text.contains("borrador 1"), "{}", sent[0].text);
    // No personal data of the people in the document leaves by mail.
    let solicitante = crate::example_now("oficio-autorizacion-apoyo")["solicitante"]["nombre"]
        .as_str()
        .expect("name")
        .to_owned();
    assert!(!sent[0].text.contains(&solicitante), "{}", sent[0].text);

    step(
        &service,
        contador,
        id,
        "reject",
        Some("Cotice de nuevo"),
        StatusCode::OK,
    )
    .await;
    let sent = messages(&inbox, 2).await;
    assert_eq!(sent[1].to, ["auxiliar@dif.prueba"], "back to the drafter");
    assert!(
        !sent[1].text.contains("Cotice de nuevo"),
        "the reason stays in Sello"
    );

    step(&service, auxiliar, id, "submit", None, StatusCode::OK).await;
    // Notices go out in the background: wait for each before the next step,
    // or two may reach the inbox in either order.
    let sent = messages(&inbox, 3).await;
    assert_eq!(sent[2].to, ["contador@dif.prueba"], "submitted again");
    step(&service, contador, id, "approve", None, StatusCode::OK).await;
    let sent = messages(&inbox, 4).await;
    assert_eq!(sent[3].to, ["directora@dif.prueba"]);
    step(&service, directora, id, "sign", None, StatusCode::CREATED).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        inbox.lock().expect("inbox").len(),
        4,
        "issuing sends nothing more"
    );
}
crate::archive_conformance!(those_who_take_the_next_step_are_told_by_mail);

/// A resguardo whose monthly renewal is overdue: one round of the
/// service's follow-up notices mails it once, to the people who draft the
/// renewal (not to the firmante, nor to another office's clerk, nor to a
/// clerk without an address); the next round sends nothing.
async fn an_overdue_renewal_is_mailed_once_to_those_who_draft_it(fixture: &Fixture) {
    use chrono::TimeZone as _;
    let (port, inbox) = mail_server().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let config = service_config(&[
        ("SELLO_SMTP_URL", &url),
        ("SELLO_SMTP_FROM", "Sello DIF <sello@dif.prueba>"),
    ]);
    let service = Service::with_config(fixture, config).await;
    service
        .state
        .accounts
        .create_office_if_missing("DIF-CER", "DIF Cerritos")
        .await
        .expect("office");
    for (office, name, role, email) in [
        ("DIF-SLP", "auxiliar", Role::Capturista, "auxiliar@dif.prueba"),
        ("DIF-SLP", "auxiliar.sin.correo", Role::Capturista, ""),
        ("DIF-SLP", "directora", Role::Firmante, "directora@dif.prueba"),
        (
            "DIF-CER",
            "auxiliar.cerritos",
            Role::Capturista,
            "auxiliar@cerritos.prueba",
        ),
    ] {
        let (user, _) = service.user(office, name, role).await;
        service
            .state
            .accounts
            .set_email(office, user.id, email)
            .await
            .expect("email");
    }
    // Nothing owed yet: nothing sent, nothing recorded.
    assert_eq!(sello::app::mail_follow_ups_due(&service.state).await, 0);

    let october = chrono_tz::America::Mexico_City
        .with_ymd_and_hms(2026, 10, 1, 10, 0, 0)
        .single()
        .expect("time");
    let mut resguardo = crate::example("oficio-ayuda-funcional");
    resguardo["fecha_inicio"] = serde_json::json!("2026-10-01");
    let folio = crate::registros::issue_at(fixture, "oficio-ayuda-funcional", &resguardo, october).await;
    let document = fixture.archive.document(&folio).await.expect("issued");

    assert_eq!(sello::app::mail_follow_ups_due(&service.state).await, 1);
    let sent = messages(&inbox, 1).await;
    assert_eq!(sent[0].to, ["auxiliar@dif.prueba"]);
    assert!(
        sent[0].text.contains("Renovaci") && sent[0].text.contains("venci"),
        "{}",
        sent[0].text
    );
    assert!(
        sent[0].text.contains(&format!("/documentos/{}", document.id)),
        "{}",
        sent[0].text
    );
    // Neither the folio nor the beneficiary leaves by mail.
    assert!(!sent[0].text.contains(&folio), "{}", sent[0].text);
    let beneficiary = resguardo["beneficiario"]["nombre"]
        .as_str()
        .expect("name")
        .to_owned();
    assert!(!sent[0].text.contains(&beneficiary), "{}", sent[0].text);

    // The next round, as every hour of the service: nothing more.
    assert_eq!(sello::app::mail_follow_ups_due(&service.state).await, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(inbox.lock().expect("inbox").len(), 1, "mailed once");

    // A derivación received and not answered by its due day (27 November):
    // those who draft the contrarreferencia here are told, with a link to
    // the referral and not its folio.
    let derivacion = crate::referred_here(fixture).await;
    assert_eq!(sello::app::mail_follow_ups_due(&service.state).await, 1);
    let sent = messages(&inbox, 2).await;
    assert_eq!(sent[1].to, ["auxiliar@dif.prueba"]);
    assert!(
        sent[1].text.contains("enviada a su oficina espera su respuesta")
            && sent[1].text.contains(&format!("/derivaciones/{}", derivacion.id)),
        "{}",
        sent[1].text
    );
    assert!(!sent[1].text.contains(&derivacion.folio), "{}", sent[1].text);
}
crate::archive_conformance!(an_overdue_renewal_is_mailed_once_to_those_who_draft_it);
