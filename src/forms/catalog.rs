//! Loads every form of the `forms/` folder once, at start-up.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::shared::SharedFields;
use super::spec::{CitedForm, FieldType, FormId, FormSpec, RawForm};

/// Why the catalog could not be loaded; names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("no se pudo leer la carpeta de formularios {}: {source}", path.display())]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// All forms, by id, in alphabetical order.
#[derive(Debug, Clone)]
pub struct Catalog {
    root: PathBuf,
    forms: BTreeMap<FormId, FormSpec>,
}

impl Catalog {
    /// Reads `root/<id>/form.toml` for every folder not starting with `_`
    /// (`_lib` and `_fonts` are shared, not forms), with the field
    /// declarations they share from `root/_lib/fields/`.
    pub fn load(root: &Path) -> Result<Self, CatalogError> {
        let unreadable = |source| CatalogError::Unreadable {
            path: root.to_owned(),
            source,
        };
        let shared = SharedFields::load(&root.join("_lib").join("fields"))?;
        let mut forms = BTreeMap::new();
        for entry in fs::read_dir(root).map_err(unreadable)? {
            let entry = entry.map_err(unreadable)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(['_', '.']) || !entry.path().is_dir() {
                continue;
            }
            let spec = load_form(&entry.path(), &name, &shared)?;
            forms.insert(spec.id.clone(), spec);
        }
        name_cited_forms(root, &mut forms)?;
        gather_closes(root, &mut forms)?;
        Ok(Self {
            root: root.to_owned(),
            forms,
        })
    }

    /// The folder that holds every form and the shared library.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The form with this id, if the catalog has it.
    pub fn get(&self, id: &str) -> Option<&FormSpec> {
        let id = FormId::parse(id).ok()?;
        self.forms.get(&id)
    }

    /// Every form, in alphabetical order of id.
    pub fn iter(&self) -> impl Iterator<Item = &FormSpec> {
        self.forms.values()
    }

    /// The folder of one form.
    pub fn form_dir(&self, id: &FormId) -> PathBuf {
        self.root.join(id.as_str())
    }
}

/// Gives every form a `documento` field cites, or an expediente rule
/// names, its title; a form that names one the catalog lacks is refused.
fn name_cited_forms(root: &Path, forms: &mut BTreeMap<FormId, FormSpec>) -> Result<(), CatalogError> {
    let titles: BTreeMap<FormId, String> = forms
        .iter()
        .map(|(id, spec)| (id.clone(), spec.title.clone()))
        .collect();
    for spec in forms.values_mut() {
        if let Some(rule) = &mut spec.derivacion {
            rule.form_titles = titles
                .iter()
                .map(|(id, title)| (id.as_str().to_owned(), title.clone()))
                .collect();
        }
        let path = root.join(spec.id.as_str()).join("form.toml");
        let mut named: Vec<(String, &mut CitedForm)> = Vec::new();
        for field in &mut spec.fields {
            if let FieldType::Document { forms, .. } = &mut field.kind {
                let at = format!("campo «{}»", field.name);
                named.extend(forms.iter_mut().map(|f| (at.clone(), f)));
            }
        }
        if let Some(rule) = &mut spec.expediente {
            for (key, list) in [
                ("requires", &mut rule.requires),
                ("excludes", &mut rule.excludes),
                ("after", &mut rule.after),
            ] {
                named.extend(list.iter_mut().map(|f| (format!("[expediente] «{key}»"), f)));
            }
        }
        for (at, cited) in named {
            cited.title = titles
                .get(&cited.id)
                .cloned()
                .ok_or_else(|| CatalogError::Invalid {
                    path: path.clone(),
                    message: format!("{at}: el formulario «{}» no está en el catálogo", cited.id),
                })?;
        }
    }
    Ok(())
}

/// Gives every form that closes another's `[[seguimiento]]` what closing
/// it checks; a follow-up that names a closing form the catalog lacks, or
/// fields it does not have, is refused.
fn gather_closes(root: &Path, forms: &mut BTreeMap<FormId, FormSpec>) -> Result<(), CatalogError> {
    let mut gathered: Vec<(FormId, super::grants::Closes)> = Vec::new();
    for spec in forms.values() {
        let invalid = |message: String| CatalogError::Invalid {
            path: root.join(spec.id.as_str()).join("form.toml"),
            message,
        };
        for follow_up in &spec.seguimiento {
            let closing = FormId::parse(&follow_up.cierra)
                .ok()
                .and_then(|id| forms.get(&id))
                .ok_or_else(|| {
                    invalid(format!(
                        "[[seguimiento]]: «cierra»: el formulario «{}» no está en el catálogo",
                        follow_up.cierra
                    ))
                })?;
            let closes = follow_up
                .closes(spec.id.as_str(), &closing.fields)
                .map_err(invalid)?;
            gathered.push((closing.id.clone(), closes));
        }
    }
    for (id, closes) in gathered {
        if let Some(spec) = forms.get_mut(&id) {
            spec.closes.push(closes);
        }
    }
    Ok(())
}

fn load_form(dir: &Path, folder: &str, shared: &SharedFields) -> Result<FormSpec, CatalogError> {
    let path = dir.join("form.toml");
    let invalid = |message: String| CatalogError::Invalid {
        path: path.clone(),
        message,
    };
    let text = fs::read_to_string(&path).map_err(|e| invalid(e.to_string()))?;
    let raw: RawForm = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let spec = raw.check(shared).map_err(invalid)?;
    if spec.id.as_str() != folder {
        return Err(invalid(format!(
            "el id «{}» no coincide con el nombre de la carpeta «{folder}»",
            spec.id
        )));
    }
    if !dir.join("template.typ").is_file() {
        return Err(invalid("falta template.typ junto a form.toml".into()));
    }
    Ok(spec)
}
