//! The `[oidc]` settings: single sign-on through an OpenID provider. With
//! no issuer, staff log in with their passwords only, as before.

use super::{ConfigError, list_items, yes_or_no};

/// The path of Sello the provider sends the browser back to.
pub const CALLBACK_PATH: &str = "/sso/vuelta";

/// How Sello signs staff in through an OpenID provider.
#[derive(Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// The provider's issuer (`https://idp.municipio.gob.mx/realms/dif`);
    /// its discovery document is read from under it.
    pub issuer: String,
    pub client_id: String,
    /// The client's secret at the provider. Never printed.
    pub client_secret: String,
    /// How the login page names the provider: «Entrar con …».
    pub provider_name: String,
    /// What is asked for besides `openid` (`profile`, `email`, `groups`).
    pub scopes: Vec<String>,
    /// Whether staff may still log in with a password. The command line
    /// (`sello users`) works either way: it is the way back in.
    pub local_passwords: bool,
    /// Where the provider sends the browser back: the base URL plus
    /// [`CALLBACK_PATH`], as registered at the provider.
    pub redirect_url: String,
    /// Where the provider's logout sends the browser afterwards: the login page.
    pub post_logout_url: String,
}

impl std::fmt::Debug for OidcSettings {
    /// Without the client secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("provider_name", &self.provider_name)
            .field("scopes", &self.scopes)
            .field("local_passwords", &self.local_passwords)
            .finish()
    }
}

/// The `[oidc]` settings, checked: `None` when no issuer is given (and
/// nothing else of the table, which would otherwise be forgotten).
pub(super) fn check_oidc(
    take: &mut impl FnMut(&'static str, &str) -> (String, String),
    fail: &impl Fn(&str, String) -> ConfigError,
    base_url: &str,
) -> Result<Option<OidcSettings>, ConfigError> {
    let (issuer, issuer_source) = take("oidc_issuer", "");
    let (client_id, id_source) = take("oidc_client_id", "");
    let (client_secret, secret_source) = take("oidc_client_secret", "");
    let (provider_name, _) = take("oidc_provider_name", "");
    let (scopes, scopes_source) = take("oidc_scopes", "profile,email");
    let (local, local_source) = take("oidc_local_passwords", "true");
    let local_passwords = yes_or_no(&local).map_err(|message| fail(&local_source, message))?;
    let issuer = issuer.trim().trim_end_matches('/').to_owned();
    if issuer.is_empty() {
        if !local_passwords {
            return Err(fail(
                &local_source,
                "sin proveedor de inicio de sesión único ([oidc] issuer) las contraseñas son la única forma de entrar".into(),
            ));
        }
        if !client_id.trim().is_empty() {
            return Err(fail(&id_source, "falta el proveedor ([oidc] issuer)".into()));
        }
        return Ok(None);
    }
    if !issuer_is_acceptable(&issuer) {
        return Err(fail(
            &issuer_source,
            format!(
                "«{issuer}» no es la dirección de un proveedor OpenID; escriba, por ejemplo, «https://idp.municipio.gob.mx/realms/dif» (https, o http solo en 127.0.0.1)"
            ),
        ));
    }
    let client_id = client_id.trim().to_owned();
    if client_id.is_empty() {
        return Err(fail(
            &id_source,
            "falta el identificador del cliente registrado en el proveedor".into(),
        ));
    }
    if client_secret.trim().is_empty() {
        return Err(fail(
            &secret_source,
            "falta el secreto del cliente registrado en el proveedor".into(),
        ));
    }
    let mut scope_list = Vec::new();
    for scope in list_items(&scopes) {
        if !scope
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        {
            return Err(fail(
                &scopes_source,
                format!(
                    "«{scope}» no es un alcance (scope) de OpenID; use, por ejemplo, «profile, email, groups»"
                ),
            ));
        }
        if scope != "openid" && !scope_list.iter().any(|s| s == scope) {
            scope_list.push(scope.to_owned());
        }
    }
    let provider_name = match provider_name.trim() {
        "" => "el proveedor de identidad".to_owned(),
        name => name.to_owned(),
    };
    Ok(Some(OidcSettings {
        issuer,
        client_id,
        client_secret: client_secret.trim().to_owned(),
        provider_name,
        scopes: scope_list,
        local_passwords,
        redirect_url: format!("{base_url}{CALLBACK_PATH}"),
        post_logout_url: format!("{base_url}/entrar"),
    }))
}

/// HTTPS, or plain HTTP on the machine itself (a provider beside Sello, a test).
fn issuer_is_acceptable(issuer: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(issuer) else {
        return false;
    };
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    scheme_ok && url.host_str().is_some() && url.query().is_none() && url.fragment().is_none()
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut all = vec![(
            "SELLO_FORMS_DIR".to_owned(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/forms").to_owned(),
        )];
        all.extend(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        all
    }

    const PROVIDER: [(&str, &str); 3] = [
        ("SELLO_OIDC_ISSUER", "https://idp.municipio.gob.mx/realms/dif/"),
        ("SELLO_OIDC_CLIENT_ID", "sello"),
        ("SELLO_OIDC_CLIENT_SECRET", "secreto-del-cliente"),
    ];

    #[test]
    fn single_sign_on_is_off_unless_an_issuer_is_given() {
        assert!(Config::from_sources(None, env(&[])).unwrap().oidc.is_none());
        let err = Config::from_sources(None, env(&[("SELLO_OIDC_LOCAL_PASSWORDS", "false")])).unwrap_err();
        assert_eq!(err.setting, "SELLO_OIDC_LOCAL_PASSWORDS");
    }

    #[test]
    fn a_provider_is_read_with_its_callback_and_its_secret_hidden() {
        let mut pairs = PROVIDER.to_vec();
        pairs.push(("SELLO_BASE_URL", "https://sello.dif.gob.mx/"));
        pairs.push(("SELLO_OIDC_SCOPES", "openid, profile,groups ,groups"));
        pairs.push(("SELLO_OIDC_PROVIDER_NAME", "Cuenta Municipal"));
        let config = Config::from_sources(None, env(&pairs)).unwrap();
        let oidc = config.oidc.as_ref().expect("on");
        assert_eq!(oidc.issuer, "https://idp.municipio.gob.mx/realms/dif");
        assert_eq!(oidc.redirect_url, "https://sello.dif.gob.mx/sso/vuelta");
        assert_eq!(oidc.scopes, ["profile", "groups"]);
        assert_eq!(oidc.provider_name, "Cuenta Municipal");
        assert!(oidc.local_passwords, "passwords stay unless turned off");
        assert!(!format!("{config:?}").contains("secreto-del-cliente"));
    }

    #[test]
    fn bad_provider_settings_are_named() {
        let mut pairs = PROVIDER.to_vec();
        pairs[0].1 = "http://idp.municipio.gob.mx";
        let err = Config::from_sources(None, env(&pairs)).unwrap_err();
        assert_eq!(err.setting, "SELLO_OIDC_ISSUER");
        let err = Config::from_sources(None, env(&PROVIDER[..2])).unwrap_err();
        assert_eq!(err.setting, "oidc_client_secret (valor por defecto)");
        let mut pairs = PROVIDER.to_vec();
        pairs.push(("SELLO_OIDC_LOCAL_PASSWORDS", "quizá"));
        let err = Config::from_sources(None, env(&pairs)).unwrap_err();
        assert_eq!(err.setting, "SELLO_OIDC_LOCAL_PASSWORDS");
        let mut pairs = PROVIDER.to_vec();
        pairs[0].1 = "http://127.0.0.1:4000";
        pairs.push(("SELLO_OIDC_LOCAL_PASSWORDS", "false"));
        let oidc = Config::from_sources(None, env(&pairs)).unwrap().oidc.expect("on");
        assert!(!oidc.local_passwords);
    }

    #[test]
    fn the_file_s_oidc_table_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sello.toml");
        std::fs::write(
            &file,
            "[oidc]\nissuer = \"https://idp.example\"\nclient_id = \"sello\"\nclient_secret = \"s\"\nscopes = [\"groups\"]\nlocal_passwords = false\n",
        )
        .unwrap();
        let oidc = Config::from_sources(Some(&file), env(&[]))
            .unwrap()
            .oidc
            .expect("on");
        assert_eq!(oidc.scopes, ["groups"]);
        assert!(!oidc.local_passwords);
        std::fs::write(&file, "[oidc]\nissuer = \"ftp://idp.example\"\n").unwrap();
        let err = Config::from_sources(Some(&file), env(&[])).unwrap_err();
        assert!(err.setting.starts_with("[oidc] issuer ("), "{err}");
    }
}
