//! Field declarations several forms share: `forms/_lib/fields/<group>.toml`.
//!
//! A form takes one with `use = "<group>.<name>"` in its `[[fields]]` entry
//! instead of writing it out. The shared declaration fixes the field's name,
//! type and limits; the form may give it its own `label`, `help`,
//! `criterion` and `required`, and nothing else. Everything is checked when
//! the catalog loads: an unknown group or field, a key the form may not
//! change, or one that repeats the shared value is an error that names the
//! form and the field.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::catalog::CatalogError;
use super::spec::RawField;

/// The shared fields, by group (the file's name without `.toml`).
#[derive(Debug, Default)]
pub(super) struct SharedFields {
    groups: BTreeMap<String, Vec<RawField>>,
}

/// A `_lib/fields/<group>.toml` file: `[[fields]]` as in a `form.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SharedFile {
    fields: Vec<RawField>,
}

impl SharedFields {
    /// Reads every `<group>.toml` of `dir`; there are none if the folder
    /// does not exist.
    pub(super) fn load(dir: &Path) -> Result<Self, CatalogError> {
        let unreadable = |source| CatalogError::Unreadable {
            path: dir.to_owned(),
            source,
        };
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(unreadable(e)),
        };
        let mut paths: Vec<PathBuf> = Vec::new();
        for entry in entries {
            let path = entry.map_err(unreadable)?.path();
            if path.extension().is_some_and(|e| e == "toml") {
                paths.push(path);
            }
        }
        paths.sort();
        let mut shared = Self::default();
        for path in paths {
            let invalid = |message: String| CatalogError::Invalid {
                path: path.clone(),
                message,
            };
            let group = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            let text = fs::read_to_string(&path).map_err(|e| invalid(e.to_string()))?;
            shared.add(&group, &text).map_err(invalid)?;
        }
        Ok(shared)
    }

    /// Adds the group `group`, declared by `text`, checking every field.
    pub(super) fn add(&mut self, group: &str, text: &str) -> Result<(), String> {
        let well_named = group.starts_with(|c: char| c.is_ascii_lowercase())
            && group
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !well_named {
            return Err(format!(
                "«{group}» no sirve de nombre de grupo: minúsculas, dígitos y guiones"
            ));
        }
        let file: SharedFile = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(field) = file.fields.iter().find(|f| uses_another(f)) {
            let name = field.name.as_deref().unwrap_or("?");
            return Err(format!(
                "campo «{name}»: un campo compartido se declara entero, sin «use»"
            ));
        }
        // Each one must be a whole, valid field, and names are unique in
        // the group, as in a form.
        super::spec::check_fields(file.fields.clone(), "", &Self::default())?;
        self.groups.insert(group.to_owned(), file.fields);
        Ok(())
    }

    /// The field `local.uses` names, with what the form says of it laid
    /// over the shared declaration.
    pub(super) fn resolve(&self, local: RawField) -> Result<RawField, String> {
        let reference = local.uses.clone().unwrap_or_default();
        let written = format!("«use = \"{reference}\"»");
        let (group, name) = reference
            .split_once('.')
            .ok_or_else(|| format!("{written}: se escribe «grupo.campo», como «oficio.ccp»"))?;
        let file = format!("_lib/fields/{group}.toml");
        let fields = self
            .groups
            .get(group)
            .ok_or_else(|| format!("{written}: no hay campos compartidos «{group}» ({file})"))?;
        let shared = fields
            .iter()
            .find(|f| f.name.as_deref() == Some(name))
            .ok_or_else(|| format!("{written}: {file} no declara el campo «{name}»"))?;
        let at = format!("campo «{name}» ({written})");

        // Every key, so that a key added to `RawField` has to be placed here.
        let RawField {
            uses: _,
            name: given_name,
            label,
            help,
            kind,
            required,
            criterion,
            min_length,
            max_length,
            min,
            max,
            values,
            identity,
            identity_required,
            staff,
            min_rows,
            max_rows,
            columns,
            filled_by,
            forms,
            share,
        } = local;
        let fixed = [
            ("name", given_name.is_some()),
            ("type", kind.is_some()),
            ("min_length", min_length.is_some()),
            ("max_length", max_length.is_some()),
            ("min", min.is_some()),
            ("max", max.is_some()),
            ("values", values.is_some()),
            ("identity", identity.is_some()),
            ("identity_required", identity_required.is_some()),
            ("staff", staff.is_some()),
            ("min_rows", min_rows.is_some()),
            ("max_rows", max_rows.is_some()),
            ("columns", columns.is_some()),
            ("filled_by", filled_by.is_some()),
            ("forms", forms.is_some()),
            ("share", share.is_some()),
        ];
        if let Some((key, _)) = fixed.iter().find(|(_, present)| *present) {
            return Err(format!(
                "{at}: «{key}» lo fija {file}; un formulario solo cambia «label», «help», \
                 «criterion» y «required» (si necesita otro campo, declárelo entero, sin «use»)"
            ));
        }

        let mut field = shared.clone();
        let repeats = |key: &str| format!("{at}: «{key}» repite lo que ya dice {file}; quítelo");
        if let Some(label) = label {
            if field.label.as_ref() == Some(&label) {
                return Err(repeats("label"));
            }
            field.label = Some(label);
        }
        if let Some(help) = help {
            if field.help.as_deref().unwrap_or_default() == help {
                return Err(repeats("help"));
            }
            field.help = Some(help);
        }
        if let Some(criterion) = criterion {
            if field.criterion.as_ref() == Some(&criterion) {
                return Err(repeats("criterion"));
            }
            field.criterion = Some(criterion);
        }
        if let Some(required) = required {
            if field.required.unwrap_or(true) == required {
                return Err(repeats("required"));
            }
            field.required = Some(required);
        }
        Ok(field)
    }
}

/// Whether the field, or one of its columns, takes another with `use`.
fn uses_another(field: &RawField) -> bool {
    field.uses.is_some() || field.columns.iter().flatten().any(uses_another)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::FormSpec;
    use crate::forms::spec::RawForm;

    const HEAD: &str = "id = \"x\"\ntitle = \"X\"\nfamily = \"oficio\"\nseed = \"004\"\n";

    const OFICIO: &str = "[[fields]]\nname = \"lugar_expedicion\"\nlabel = \"Lugar de expedición\"\n\
        help = \"Municipio y estado.\"\ntype = \"text\"\nmax_length = 120\ncriterion = \"004 · lugar\"\n\
        [[fields]]\nname = \"ccp\"\nlabel = \"Con copia para\"\ntype = \"list\"\nrequired = false\nmax_rows = 10\n\
        [[fields.columns]]\nname = \"destinatario\"\nlabel = \"Destinatario\"\ntype = \"text\"\n";

    fn shared() -> SharedFields {
        let mut shared = SharedFields::default();
        shared.add("oficio", OFICIO).expect("the shared group is valid");
        shared
    }

    fn parse(fields: &str) -> Result<FormSpec, String> {
        let raw: RawForm = toml::from_str(&format!("{HEAD}{fields}")).map_err(|e| e.to_string())?;
        raw.check(&shared())
    }

    fn json(spec: &FormSpec) -> serde_json::Value {
        serde_json::to_value(spec).expect("a spec serializes")
    }

    #[test]
    fn a_used_field_is_the_same_field_as_one_written_out_in_full() {
        let used = parse(
            "[[fields]]\nuse = \"oficio.lugar_expedicion\"\ncriterion = \"004 · Actividad 3\"\n\
             [[fields]]\nuse = \"oficio.ccp\"\n",
        )
        .expect("loads");
        let written = parse(
            "[[fields]]\nname = \"lugar_expedicion\"\nlabel = \"Lugar de expedición\"\n\
             help = \"Municipio y estado.\"\ntype = \"text\"\nmax_length = 120\ncriterion = \"004 · Actividad 3\"\n\
             [[fields]]\nname = \"ccp\"\nlabel = \"Con copia para\"\ntype = \"list\"\nrequired = false\nmax_rows = 10\n\
             [[fields.columns]]\nname = \"destinatario\"\nlabel = \"Destinatario\"\ntype = \"text\"\n",
        )
        .expect("loads");
        assert_eq!(json(&used), json(&written));
        assert_eq!(used.fields[0].criterion.as_deref(), Some("004 · Actividad 3"));
    }

    #[test]
    fn a_form_may_give_a_shared_field_its_own_words_and_requiredness() {
        let spec = parse(
            "[[fields]]\nuse = \"oficio.lugar_expedicion\"\nlabel = \"Lugar\"\nhelp = \"\"\nrequired = false\n",
        )
        .expect("loads");
        let field = &spec.fields[0];
        assert_eq!(field.label, "Lugar");
        assert_eq!(field.help, "");
        assert!(!field.required);
        assert_eq!(field.criterion.as_deref(), Some("004 · lugar"));
        assert!(matches!(
            field.kind,
            crate::forms::FieldType::Text { max_length: 120, .. }
        ));
    }

    #[test]
    fn an_unknown_group_or_field_is_named() {
        let err = parse("[[fields]]\nuse = \"oficios.ccp\"\n").unwrap_err();
        assert!(
            err.contains("oficios.ccp") && err.contains("_lib/fields/oficios.toml"),
            "{err}"
        );
        let err = parse("[[fields]]\nuse = \"oficio.cpp\"\n").unwrap_err();
        assert!(err.contains("no declara el campo «cpp»"), "{err}");
        let err = parse("[[fields]]\nuse = \"ccp\"\n").unwrap_err();
        assert!(err.contains("grupo.campo"), "{err}");
    }

    #[test]
    fn a_field_used_and_also_declared_is_declared_twice() {
        let err = parse(
            "[[fields]]\nuse = \"oficio.ccp\"\n\
             [[fields]]\nname = \"ccp\"\nlabel = \"Copias\"\ntype = \"text\"\n",
        )
        .unwrap_err();
        assert!(err.contains("campo «ccp» declarado dos veces"), "{err}");
        assert!(err.contains("use = \"oficio.ccp\""), "{err}");
        let err = parse("[[fields]]\nuse = \"oficio.ccp\"\n[[fields]]\nuse = \"oficio.ccp\"\n").unwrap_err();
        assert!(err.contains("declarado dos veces"), "{err}");
    }

    #[test]
    fn the_type_and_limits_of_a_shared_field_cannot_be_changed() {
        for key in [
            "max_length = 80",
            "type = \"long_text\"",
            "name = \"lugar\"",
            "filled_by = \"a.nombre\"",
        ] {
            let err = parse(&format!("[[fields]]\nuse = \"oficio.lugar_expedicion\"\n{key}\n")).unwrap_err();
            let written = key.split(' ').next().expect("a key");
            assert!(err.contains(&format!("«{written}» lo fija")), "{key}: {err}");
            assert!(err.contains("lugar_expedicion"), "{key}: {err}");
        }
    }

    #[test]
    fn a_key_that_repeats_the_shared_value_is_refused() {
        for key in [
            "label = \"Lugar de expedición\"",
            "criterion = \"004 · lugar\"",
            "required = true",
        ] {
            let err = parse(&format!("[[fields]]\nuse = \"oficio.lugar_expedicion\"\n{key}\n")).unwrap_err();
            assert!(err.contains("repite"), "{key}: {err}");
        }
    }

    #[test]
    fn a_shared_field_is_checked_whole_and_does_not_use_another() {
        let mut shared = SharedFields::default();
        let err = shared
            .add(
                "mal",
                "[[fields]]\nname = \"a\"\nlabel = \"A\"\ntype = \"fecha\"\n",
            )
            .unwrap_err();
        assert!(err.contains("tipo desconocido"), "{err}");
        let err = shared
            .add("mal", "[[fields]]\nuse = \"oficio.ccp\"\n")
            .unwrap_err();
        assert!(err.contains("sin «use»"), "{err}");
        let err = shared
            .add(
                "mal",
                "[[fields]]\nname = \"a\"\nlabel = \"A\"\ntype = \"text\"\n\
                 [[fields]]\nname = \"a\"\nlabel = \"B\"\ntype = \"text\"\n",
            )
            .unwrap_err();
        assert!(err.contains("declarado dos veces"), "{err}");
        let err = shared.add("Mal", OFICIO).unwrap_err();
        assert!(err.contains("nombre de grupo"), "{err}");
    }

    #[test]
    fn a_field_written_without_use_still_needs_its_name_label_and_type() {
        let err = parse("[[fields]]\nlabel = \"A\"\ntype = \"text\"\n").unwrap_err();
        assert!(err.contains("n.º 1") && err.contains("«name»"), "{err}");
        let err = parse("[[fields]]\nname = \"a\"\ntype = \"text\"\n").unwrap_err();
        assert!(err.contains("campo «a»") && err.contains("«label»"), "{err}");
        let err = parse("[[fields]]\nname = \"a\"\nlabel = \"A\"\n").unwrap_err();
        assert!(err.contains("campo «a»") && err.contains("«type»"), "{err}");
    }
}
