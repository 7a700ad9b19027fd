//! Search: accent- and case-insensitive full text over the documents'
//! text, field values and persons' names, with filters, ranking and pages.
//! SQLite answers with FTS5, PostgreSQL with a `tsvector`; both index text
//! folded the same way (see [`super::text`]), so they match the same.

use chrono::NaiveDate;
use serde::Serialize;

use super::filing::normal_identity;
use super::text::query_terms;
use super::{Archive, ArchiveError, Status};
use crate::public_id::PublicId;

/// What to look for. Empty text lists by filters alone, newest first.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    pub form: Option<String>,
    /// A series code (`OF`, `AC`…): one family of documents.
    pub series: Option<String>,
    pub status: Option<Status>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// An expediente's public id.
    pub expediente: Option<PublicId>,
    /// A CURP, RUN or cédula of a person named in the document.
    pub person: Option<String>,
    /// Counted from 1.
    pub page: u32,
    pub per_page: u32,
}

/// One document found. Serialized as `sello archive search --json` prints
/// it; the API has its own view.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SearchHit {
    #[sqlx(rename = "public_id")]
    pub id: PublicId,
    pub folio: String,
    pub form: String,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub issued_on: String,
    #[sqlx(rename = "expediente_public_id")]
    pub expediente_id: PublicId,
    pub expediente_title: String,
    /// Higher is a better match.
    pub rank: f64,
}

/// A page of results. Serialized as `sello archive search --json` prints
/// it; the API has its own view.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// How many documents match, counted up to [`RANKED_MAX`] (or the
    /// archive's own limit); beyond
    /// that `total_exact` is false and `total` is a lower bound.
    pub total: i64,
    pub total_exact: bool,
    /// Whether the hits are ordered by relevance (a search with text and at
    /// most [`RANKED_MAX`] matches) or newest first.
    pub ranked: bool,
    pub page: u32,
    pub per_page: u32,
    pub hits: Vec<SearchHit>,
}

/// The most results on one page.
pub const PER_PAGE_MAX: u32 = 100;

/// Up to this many matches are counted exactly and ranked by relevance.
/// Beyond it a search lists the newest first and says "more than": ranking
/// every one of 60,000 matches of a common surname costs more than the
/// whole answer may take, and nobody pages through them by relevance.
pub const RANKED_MAX: i64 = 1_000;

impl Archive {
    /// The folio `text` names exactly, in any case, if this office has it.
    async fn exact_folio(&self, text: &str) -> Result<Option<String>, ArchiveError> {
        let candidate = text.trim().to_uppercase();
        if !candidate.contains('/') || candidate.contains(char::is_whitespace) {
            return Ok(None);
        }
        const SQL: &str = "SELECT folio FROM documents WHERE office_code = $1 AND folio = $2";
        Ok({
            let pool = self.store.pool();
            sqlx::query_scalar(SQL)
                .bind(&self.office.code)
                .bind(&candidate)
                .fetch_optional(pool)
                .await?
        })
    }
}

enum Param {
    Text(String),
    Id(PublicId),
}

/// Binds the parameters in order.
fn bind_all<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    params: &'q [Param],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for param in params {
        query = match param {
            Param::Text(text) => query.bind(text.as_str()),
            Param::Id(id) => query.bind(*id),
        };
    }
    query
}

impl Archive {
    pub async fn search(&self, query: &SearchQuery) -> Result<SearchResults, ArchiveError> {
        let per_page = query.per_page.clamp(1, PER_PAGE_MAX);
        let page = query.page.max(1);
        // A folio typed or pasted whole is looked up as such: its parts
        // (office, series, year) are in every document's text.
        let folio = self.exact_folio(&query.text).await?;
        let terms = if folio.is_some() {
            Vec::new()
        } else {
            query_terms(&query.text)
        };
        // A filter on an expediente or a person leaves few documents: the
        // database may start from them rather than from the text index.
        let selective = query.expediente.is_some() || query.person.is_some();
        let mut params = vec![Param::Text(self.office.code.clone())];
        let mut filters = vec![
            "d.office_code = $1".to_owned(),
            "d.status <> 'reservado'".to_owned(),
        ];
        // The text condition comes first, so its parameter is $2 and the
        // ranking can refer to it again.
        let (from, rank, newest_first) = if terms.is_empty() {
            (
                "documents d",
                "CAST(0 AS DOUBLE PRECISION)",
                "d.issued_on DESC, d.id DESC",
            )
        } else {
            // All words are required; the last may be the start of a word,
            // as when typing a name.
            let prefix_last = terms.last().is_some_and(|t| t.chars().count() >= 3);
            let text = self.store.dialect().text_match(&terms, prefix_last, selective);
            params.push(Param::Text(text.expression));
            filters.push(text.condition.to_owned());
            (text.from, text.rank, text.newest_first)
        };
        let mut add = |condition: &str, param: Param, params: &mut Vec<Param>| {
            params.push(param);
            filters.push(condition.replace('?', &format!("${}", params.len())));
        };

        if let Some(folio) = folio {
            add("d.folio = ?", Param::Text(folio), &mut params);
        }
        if let Some(form) = &query.form {
            add("d.form = ?", Param::Text(form.clone()), &mut params);
        }
        if let Some(series) = &query.series {
            add("d.series_code = ?", Param::Text(series.clone()), &mut params);
        }
        if let Some(status) = query.status {
            add(
                "d.status = ?",
                Param::Text(status.as_str().to_owned()),
                &mut params,
            );
        }
        if let Some(from) = query.from {
            add("d.issued_on >= ?", Param::Text(from.to_string()), &mut params);
        }
        if let Some(to) = query.to {
            add("d.issued_on <= ?", Param::Text(to.to_string()), &mut params);
        }
        if let Some(expediente) = query.expediente {
            add(
                "d.expediente_id = (SELECT x.id FROM expedientes x WHERE x.public_id = ? AND x.office_code = $1)",
                Param::Id(expediente),
                &mut params,
            );
        }
        if let Some(person) = &query.person {
            add(
                "d.id IN (SELECT dp.document_id FROM document_persons dp JOIN persons p ON p.id = dp.person_id \
                 WHERE p.office_code = $1 AND p.identity = ?)",
                Param::Text(normal_identity(person)),
                &mut params,
            );
        }

        let conditions = filters.join(" AND ");
        let count_sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {from} WHERE {conditions} LIMIT {}) AS capped",
            self.rank_limit + 1
        );
        let total: i64 = {
            let pool = self.store.pool();
            bind_all(sqlx::query_as::<_, (i64,)>(&count_sql), &params)
                .fetch_one(pool)
                .await?
                .0
        };
        let total_exact = total <= self.rank_limit;
        let ranked = total_exact && !terms.is_empty();
        let order = match (ranked, terms.is_empty()) {
            (true, _) => "rank DESC, d.issued_on DESC, d.id DESC",
            (false, true) => "d.issued_on DESC, d.id DESC",
            // Newest first straight from the text index, where it can.
            (false, false) => newest_first,
        };
        let hits_sql = format!(
            "SELECT d.public_id, d.folio, d.form, d.status, d.issued_on, e.public_id AS expediente_public_id, \
             e.title AS expediente_title, \
             {rank} AS rank FROM {from} JOIN expedientes e ON e.id = d.expediente_id WHERE {conditions} \
             ORDER BY {order} LIMIT {per_page} OFFSET {}",
            (page - 1) as u64 * per_page as u64
        );
        let hits = {
            let pool = self.store.pool();
            bind_all(sqlx::query_as::<_, SearchHit>(&hits_sql), &params)
                .fetch_all(pool)
                .await?
        };
        Ok(SearchResults {
            total,
            total_exact,
            ranked,
            page,
            per_page,
            hits,
        })
    }
}
