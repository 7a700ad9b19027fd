//! A draft whose data is not valid on the day it would be issued is
//! refused at its last signature before a folio is taken: no folio is
//! used up and nothing is left «anulado — emisión fallida».

use axum::http::StatusCode;
use serde_json::Value;

use crate::Fixture;
use crate::http::Service;
use crate::workflows::{draft, staff};

async fn a_draft_dated_after_its_issue_day_is_refused_without_using_a_folio(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let tomorrow = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Mexico_City)
        .date_naive()
        + chrono::Duration::days(2);
    let mut data = crate::example_now("esquema-foda");
    data["fecha"] = Value::String(tomorrow.format("%Y-%m-%d").to_string());
    let early = draft(&service, &staff.auxiliar, "esquema-foda", &data).await;
    crate::workflows::step(&service, &staff.auxiliar, early, "submit", None, StatusCode::OK).await;
    let refused = service
        .api(
            "POST",
            &format!("/api/v1/drafts/{early}/sign"),
            Some(&staff.directora),
            None,
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text()
    );
    assert!(
        refused.text().contains("posterior a la fecha de emisión"),
        "{}",
        refused.text()
    );

    // The next document of the series takes its first folio: none was used.
    let valid = draft(
        &service,
        &staff.auxiliar,
        "esquema-foda",
        &crate::example_now("esquema-foda"),
    )
    .await;
    crate::workflows::step(&service, &staff.auxiliar, valid, "submit", None, StatusCode::OK).await;
    let issued = crate::workflows::step(
        &service,
        &staff.directora,
        valid,
        "sign",
        None,
        StatusCode::CREATED,
    )
    .await;
    let folio = issued["issued"]["document"]["folio"].as_str().unwrap_or_default();
    assert!(folio.ends_with("/0001"), "the first folio, not {folio:?}");
}
crate::archive_conformance!(a_draft_dated_after_its_issue_day_is_refused_without_using_a_folio);
