//! What a revision that adds validation data may change, exactly as
//! `dss.rs` writes it, so that the strict verifier lets it through and
//! nothing else: new unfiltered streams holding one DER certificate or one
//! DER CRL each, listed by the DSS; the DSS dictionary (`/Type /DSS`,
//! `/Certs`, `/CRLs`), new or rewritten with its arrays extended by those
//! streams only; and the catalog with `/DSS` added and nothing else
//! changed. No signature, page, form or structure object may change.

use std::collections::BTreeSet;

use der::Decode;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

use super::dss::stream_bytes;
use super::file::{Entry, PdfFile};
use super::object::{Dict, Object};

/// Why revision `index` is not one that only adds validation data; `None`
/// if it is.
pub fn dss_revision_problem(file: &PdfFile<'_>, index: usize, root: (u32, u16)) -> Option<String> {
    let revision = &file.revisions[index];
    let problem = |what: &str| Some(format!("la revisión {} {what}", index + 1));
    let catalog_at = |upto: usize| {
        file.object_as_of(root, upto)
            .ok()
            .and_then(|o| o.as_dict().cloned())
    };
    let (Some(catalog_before), Some(catalog_now)) = (catalog_at(index - 1), catalog_at(index)) else {
        return problem("no tiene un catálogo legible");
    };
    let Some(dss_ref) = catalog_now.reference("DSS") else {
        return problem("no es una firma de Sello ni agrega datos de validación");
    };
    let dss_before = match catalog_before.get("DSS") {
        None => None,
        Some(Object::Ref(n, g)) if (*n, *g) == dss_ref => file
            .object_as_of(dss_ref, index - 1)
            .ok()
            .and_then(|o| o.as_dict().cloned()),
        Some(_) => return problem("cambia el DSS del documento por otro"),
    };
    if catalog_before.get("DSS").is_some() && dss_before.is_none() {
        return problem("tiene un DSS anterior ilegible");
    }
    let Some(dss_now) = file
        .object_as_of(dss_ref, index)
        .ok()
        .and_then(|o| o.as_dict().cloned())
    else {
        return problem("tiene un DSS ilegible");
    };
    if !revision.entries.contains_key(&dss_ref.0) {
        return problem("cambia el catálogo sin escribir su DSS");
    }

    // The DSS: only its kinds of entry, its arrays the old ones plus new
    // streams of this revision.
    let known = [&b"Type"[..], b"Certs", b"CRLs"];
    if !dss_now.0.iter().all(|(k, _)| known.contains(&k.as_slice()))
        || dss_now.get("Type").is_some_and(|t| t != &Object::name_of("DSS"))
    {
        return problem("escribe un DSS con entradas que Sello no escribe");
    }
    let mut added: Vec<(u32, bool)> = Vec::new();
    for (key, is_crl) in [("Certs", false), ("CRLs", true)] {
        let old = dss_before
            .as_ref()
            .and_then(|d| d.get(key))
            .and_then(Object::as_array)
            .unwrap_or(&[]);
        let Some(new) = (match dss_now.get(key) {
            None => Some(&[][..]),
            Some(value) => value.as_array(),
        }) else {
            return problem("escribe un DSS con listas mal formadas");
        };
        if !new.starts_with(old) {
            return problem("quita o cambia datos de validación anteriores");
        }
        for item in &new[old.len()..] {
            match item {
                Object::Ref(n, 0) if revision.entries.contains_key(n) => added.push((*n, is_crl)),
                _ => return problem("lista en el DSS un objeto que no agrega"),
            }
        }
    }
    let unique: BTreeSet<u32> = added.iter().map(|(n, _)| *n).collect();
    if unique.len() != added.len() {
        return problem("lista dos veces un objeto en el DSS");
    }

    // Every object of the revision is the catalog, the DSS or an added stream.
    for (number, entry) in &revision.entries {
        let Entry::InUse { offset, generation } = *entry else {
            return problem(&format!("elimina el objeto {number}"));
        };
        if *number == root.0 {
            if generation != root.1 || without_dss(&catalog_before) != without_dss(&catalog_now) {
                return problem("cambia el catálogo además de agregar el DSS");
            }
            continue;
        }
        if *number == dss_ref.0 {
            if generation != dss_ref.1 {
                return problem("escribe un DSS con otra generación");
            }
            continue;
        }
        let Some((_, is_crl)) = added.iter().find(|(n, _)| n == number) else {
            return problem(&format!(
                "cambia el objeto {number}, que no es parte de los datos de validación"
            ));
        };
        if generation != 0 || file.entry_as_of(*number, index - 1).is_some() {
            return problem(&format!("reemplaza el objeto {number} con datos de validación"));
        }
        let Ok((Object::Dict(dict), Some(_))) = file.object_and_stream_at(offset, (*number, 0)) else {
            return problem(&format!("agrega el objeto {number}, que no es un flujo"));
        };
        if dict.0.len() != 1 || dict.get("Length").and_then(Object::as_int).is_none() {
            return problem(&format!(
                "agrega el flujo {number} con entradas que Sello no escribe"
            ));
        }
        let Ok(data) = stream_bytes(file, &Object::Ref(*number, 0)) else {
            return problem(&format!("agrega el flujo {number}, ilegible"));
        };
        let readable = match is_crl {
            true => <CertificateList>::from_der(&data).is_ok(),
            false => Certificate::from_der(&data).is_ok(),
        };
        if !readable {
            return problem(&format!(
                "agrega el flujo {number}, que no es un {}",
                if *is_crl { "CRL" } else { "certificado" }
            ));
        }
    }
    None
}

fn without_dss(catalog: &Dict) -> Dict {
    let mut copy = catalog.clone();
    copy.remove("DSS");
    copy
}
