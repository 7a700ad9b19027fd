//! The roles of an office and what each may do.

use serde::{Deserialize, Serialize};

/// One role per account. Every role but the archivist's prepares drafts;
/// a form's workflow says which role takes each of its steps; the
/// administrator may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Prepares drafts; reads the office's documents.
    Capturista,
    /// Gives the visado (Vo. Bo.) a workflow asks for: a head of area.
    Revisor,
    /// Approves quotes and amounts against the budget.
    Contador,
    /// Issues and signs, annuls; prepares drafts too.
    Firmante,
    /// Searches, reads and exports; changes nothing.
    Archivista,
    /// Manages users, offices and keys, and may do all of the above.
    Administrador,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Capturista,
        Role::Revisor,
        Role::Contador,
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
            Role::Revisor => "revisor",
            Role::Contador => "contador",
            Role::Firmante => "firmante",
            Role::Archivista => "archivista",
            Role::Administrador => "administrador",
        }
    }

    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Capturista => "Capturista",
            Role::Revisor => "Revisor(a) (visado)",
            Role::Contador => "Contador(a)",
            Role::Firmante => "Firmante",
            Role::Archivista => "Archivista",
            Role::Administrador => "Administrador(a)",
        }
    }

    pub fn can_draft(self) -> bool {
        self != Role::Archivista
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
