//! Public ids: how a document, draft, expediente, hand signature, lote,
//! API token or user is named wherever people or programs see it (an
//! address, a page, the API, an e-mail notice). 128 random bits from the
//! operating system, written as 32 lower-case hexadecimal digits: they
//! carry no count and no order, so one office cannot tell another's
//! volume from its own ids. The database's integer keys stay inside it.

use std::fmt;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;

/// Hexadecimal digits in a public id.
pub const LENGTH: usize = 32;

/// The id of a row as the world sees it. Bytes, not a `u128`: aligned to
/// one byte, it adds only its sixteen to the records that carry it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicId([u8; 16]);

/// Why a text is not a public id: the same answer for every mistake, so a
/// malformed id and one of another office both look like a missing one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("el identificador no es válido")]
pub struct InvalidPublicId;

impl PublicId {
    /// A new id from the operating system's secure random generator.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// Reads an id as Sello writes it: exactly 32 lower-case hexadecimal
    /// digits, nothing around them.
    pub fn parse(text: &str) -> Result<Self, InvalidPublicId> {
        if text.len() != LENGTH || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(InvalidPublicId);
        }
        let mut bytes = [0u8; 16];
        data_encoding::HEXLOWER
            .decode_mut(text.as_bytes(), &mut bytes)
            .map_err(|_| InvalidPublicId)?;
        Ok(Self(bytes))
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&data_encoding::HEXLOWER.encode(&self.0))
    }
}

impl fmt::Debug for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicId({self})")
    }
}

impl std::str::FromStr for PublicId {
    type Err = InvalidPublicId;

    fn from_str(text: &str) -> Result<Self, InvalidPublicId> {
        Self::parse(text)
    }
}

impl serde::Serialize for PublicId {
    fn serialize<S: serde::Serializer>(&self, to: S) -> Result<S::Ok, S::Error> {
        to.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PublicId {
    fn deserialize<D: serde::Deserializer<'de>>(from: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(from)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Stored as text, in both databases.
impl<DB: sqlx::Database> sqlx::Type<DB> for PublicId
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for PublicId
where
    String: sqlx::Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <String as sqlx::Encode<'q, DB>>::encode(self.to_string(), buf)
    }
}

/// A stored id that does not read back is a damaged row: an error, never
/// a different id.
impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for PublicId
where
    String: sqlx::Decode<'r, DB>,
{
    fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as sqlx::Decode<'r, DB>>::decode(value)?;
        Ok(Self::parse(&text)?)
    }
}

impl utoipa::PartialSchema for PublicId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(LENGTH))
            .max_length(Some(LENGTH))
            .pattern(Some("^[0-9a-f]{32}$"))
            .description(Some(
                "Identificador opaco: 32 dígitos hexadecimales al azar, sin orden ni cuenta",
            ))
            .examples(["3f9c1a0be27d4c55a8e61b0d9f4e7a12"])
            .into()
    }
}

impl utoipa::ToSchema for PublicId {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_back_as_written() {
        for _ in 0..200 {
            let id = PublicId::generate().expect("random");
            let written = id.to_string();
            assert_eq!(written.len(), LENGTH);
            assert!(
                written
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
            assert_eq!(PublicId::parse(&written), Ok(id));
        }
    }

    #[test]
    fn small_ids_keep_their_leading_zeros() {
        let mut bytes = [0u8; 16];
        bytes[15] = 7;
        let id = PublicId(bytes);
        assert_eq!(id.to_string(), format!("{}07", "0".repeat(30)));
        assert_eq!(PublicId::parse(&id.to_string()), Ok(id));
    }

    #[test]
    fn anything_else_is_refused() {
        let good = PublicId::generate().expect("random").to_string();
        for bad in [
            "",
            "1",
            "12",
            &good[..31],
            &format!("{good}0"),
            &good.to_uppercase(),
            &format!(" {}", &good[1..]),
            &format!("+{}", &good[1..]),
            &format!("g{}", &good[1..]),
            "../../etc/passwd",
        ] {
            if bad != good {
                assert_eq!(PublicId::parse(bad), Err(InvalidPublicId), "{bad:?}");
            }
        }
    }

    #[test]
    fn two_ids_differ() {
        let ids: std::collections::HashSet<PublicId> =
            (0..1000).map(|_| PublicId::generate().expect("random")).collect();
        assert_eq!(ids.len(), 1000);
    }
}
