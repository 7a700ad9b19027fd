//! The four roles of an office and what each may do.

use serde::Serialize;

/// One role per account. Each includes what the one before may read;
/// the administrator may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Prepares drafts; reads the office's documents.
    Capturista,
    /// Issues and signs, annuls; prepares drafts too.
    Firmante,
    /// Searches, reads and exports; changes nothing.
    Archivista,
    /// Manages users, offices and keys, and may do all of the above.
    Administrador,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Capturista,
        Role::Firmante,
        Role::Archivista,
        Role::Administrador,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Capturista => "capturista",
            Role::Firmante => "firmante",
            Role::Archivista => "archivista",
            Role::Administrador => "administrador",
        }
    }

    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Capturista => "Capturista",
            Role::Firmante => "Firmante",
            Role::Archivista => "Archivista",
            Role::Administrador => "Administrador(a)",
        }
    }

    pub fn can_draft(self) -> bool {
        matches!(self, Role::Capturista | Role::Firmante | Role::Administrador)
    }

    pub fn can_issue(self) -> bool {
        matches!(self, Role::Firmante | Role::Administrador)
    }

    pub fn can_export(self) -> bool {
        matches!(self, Role::Archivista | Role::Administrador)
    }

    pub fn can_administer(self) -> bool {
        self == Role::Administrador
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_firmantes_and_administrators_issue() {
        let issuers: Vec<Role> = Role::ALL.into_iter().filter(|r| r.can_issue()).collect();
        assert_eq!(issuers, [Role::Firmante, Role::Administrador]);
        assert!(!Role::Archivista.can_draft());
        assert!(!Role::Capturista.can_export());
    }

    #[test]
    fn roles_round_trip_through_text() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
