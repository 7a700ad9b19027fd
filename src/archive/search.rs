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
    /// The office whose document it is.
    pub office_code: String,
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
    /// The folio `text` names exactly, in any case, if one of `offices` has it.
    async fn exact_folio(&self, offices: &[String], text: &str) -> Result<Option<String>, ArchiveError> {
        let candidate = text.trim().to_uppercase();
        if !candidate.contains('/') || candidate.contains(char::is_whitespace) {
            return Ok(None);
        }
        let sql = format!(
            "SELECT folio FROM documents WHERE office_code IN ({}) AND folio = $1",
            placeholders(2, offices.len())
        );
        let mut query = sqlx::query_scalar(&sql).bind(&candidate);
        for office in offices {
            query = query.bind(office);
        }
        Ok({
            let pool = self.store.pool();
            query.fetch_optional(pool).await?
        })
    }
}

/// `$first, $first+1, …`, `count` of them.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
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
    /// Searches this office's documents.
    pub async fn search(&self, query: &SearchQuery) -> Result<SearchResults, ArchiveError> {
        let own = std::slice::from_ref(&self.office.code);
        self.search_in(own, query).await
    }

    /// Searches the documents of `offices` (codes; this archive's own need
    /// not be among them). Which offices a person may read is the
    /// caller's to decide (`Accounts::visible_offices`): this only reads.
    pub async fn search_in(
        &self,
        offices: &[String],
        query: &SearchQuery,
    ) -> Result<SearchResults, ArchiveError> {
        let Some((first_office, other_offices)) = offices.split_first() else {
            return Err(ArchiveError::Refused("no hay oficinas donde buscar".into()));
        };
        let per_page = query.per_page.clamp(1, PER_PAGE_MAX);
        let page = query.page.max(1);
        // A folio typed or pasted whole is looked up as such: its parts
        // (office, series, year) are in every document's text.
        let folio = self.exact_folio(offices, &query.text).await?;
        let terms = if folio.is_some() {
            Vec::new()
        } else {
            query_terms(&query.text)
        };
        // A filter on an expediente or a person leaves few documents: the
        // database may start from them rather than from the text index.
        let selective = query.expediente.is_some() || query.person.is_some();
        let mut params = vec![Param::Text(first_office.clone())];
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
        // One office is `= $1`, as it always was; more follow the text's
        // parameter.
        let office_set = if other_offices.is_empty() {
            "$1".to_owned()
        } else {
            let first = params.len() + 1;
            params.extend(other_offices.iter().map(|o| Param::Text(o.clone())));
            format!("$1, {}", placeholders(first, other_offices.len()))
        };
        let in_offices = |column: &str| {
            if other_offices.is_empty() {
                format!("{column} = $1")
            } else {
                format!("{column} IN ({office_set})")
            }
        };
        filters[0] = in_offices("d.office_code");
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
            let condition = format!(
                "d.expediente_id = (SELECT x.id FROM expedientes x WHERE x.public_id = ? AND {})",
                in_offices("x.office_code")
            );
            add(&condition, Param::Id(expediente), &mut params);
        }
        if let Some(person) = &query.person {
            let condition = format!(
                "d.id IN (SELECT dp.document_id FROM document_persons dp JOIN persons p ON p.id = dp.person_id \
                 WHERE {} AND p.identity = ?)",
                in_offices("p.office_code")
            );
            add(&condition, Param::Text(normal_identity(person)), &mut params);
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
            "SELECT d.public_id, d.office_code, d.folio, d.form, d.status, d.issued_on, e.public_id AS expediente_public_id, \
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
