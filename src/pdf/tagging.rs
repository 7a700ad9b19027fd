//! Tagging a new signature widget, as PDF/UA-1 asks of every widget: the
//! widget says what it is (`/TU`) and is the content of a `Form` structure
//! element, reached from the structure tree's parent tree through the
//! widget's `/StructParent`. Only appended to: the new element goes at the
//! end of the document element's children and the parent tree gets one
//! more key, so what a screen reader reads of the signed content does not
//! change. The verifier allows exactly these changes in a signature's
//! revision (see [`is_widget_tagging`]).

use super::file::{PdfError, PdfFile};
use super::object::{Dict, Object};

/// The objects an incremental update writes to tag one widget.
pub struct WidgetTag {
    /// The key the widget takes as its `/StructParent`.
    pub key: i64,
    /// The new `Form` element, to be written as `element_number`.
    pub element: Dict,
    pub element_number: u32,
    /// Changed objects, by number, to write again.
    pub changed: Vec<(u32, Dict)>,
}

/// How tagging the widget `widget` on page `page` changes `file`'s
/// structure tree; `None` if the document is not tagged. The new element
/// is numbered `element_number`.
pub fn tag_widget(
    file: &PdfFile<'_>,
    catalog: &Dict,
    widget: (u32, u16),
    page: (u32, u16),
    element_number: u32,
) -> Result<Option<WidgetTag>, PdfError> {
    let Some(root_ref) = catalog.reference("StructTreeRoot") else {
        return Ok(None);
    };
    let mut root = file.dict(&Object::Ref(root_ref.0, root_ref.1))?;
    let key = root.int("ParentTreeNextKey").ok_or(PdfError::Unsupported(
        "el árbol de estructura no indica /ParentTreeNextKey",
    ))?;
    let element_ref = Object::Ref(element_number, 0);
    let mut changed = Vec::new();

    // The element goes under the document element, or under the root when
    // the root has several children.
    let parent = match root.get("K") {
        Some(Object::Ref(n, g)) => Some((*n, *g)),
        Some(Object::Array(items)) if items.len() == 1 => items[0].as_ref(),
        _ => None,
    };
    let parent_ref = match parent {
        Some(parent) => {
            let mut element = file.dict(&Object::Ref(parent.0, parent.1))?;
            element.set("K", appended(element.get("K"), element_ref.clone()));
            changed.push((parent.0, element));
            Object::Ref(parent.0, parent.1)
        }
        None => {
            let children = appended(root.get("K"), element_ref.clone());
            root.set("K", children);
            Object::Ref(root_ref.0, root_ref.1)
        }
    };

    // The parent tree maps the widget's key to its element.
    let entry = [Object::int_of(key), element_ref.clone()];
    match root.get("ParentTree").cloned() {
        Some(Object::Dict(mut tree)) => {
            add_to_number_tree(&mut tree, &entry)?;
            root.set("ParentTree", Object::Dict(tree));
        }
        Some(Object::Ref(n, g)) => {
            let mut tree = file.dict(&Object::Ref(n, g))?;
            add_to_number_tree(&mut tree, &entry)?;
            changed.push((n, tree));
        }
        _ => {
            let mut tree = Dict::default();
            tree.set("Nums", Object::Array(entry.to_vec()));
            root.set("ParentTree", Object::Dict(tree));
        }
    }
    root.set("ParentTreeNextKey", Object::int_of(key + 1));
    changed.push((root_ref.0, root));

    let mut objr = Dict::default();
    objr.set("Type", Object::name_of("OBJR"));
    objr.set("Obj", Object::Ref(widget.0, widget.1));
    objr.set("Pg", Object::Ref(page.0, page.1));
    let mut element = Dict::default();
    element.set("Type", Object::name_of("StructElem"));
    element.set("S", Object::name_of("Form"));
    element.set("P", parent_ref);
    element.set("K", Object::Dict(objr));
    Ok(Some(WidgetTag {
        key,
        element,
        element_number,
        changed,
    }))
}

/// `children` with `child` at the end, as an array.
fn appended(children: Option<&Object>, child: Object) -> Object {
    let mut items = match children {
        Some(Object::Array(items)) => items.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    };
    items.push(child);
    Object::Array(items)
}

/// Adds `entry` (key, value) to a flat number tree, whose keys it follows.
fn add_to_number_tree(tree: &mut Dict, entry: &[Object; 2]) -> Result<(), PdfError> {
    let Some(Object::Array(nums)) = tree.get("Nums") else {
        return Err(PdfError::Unsupported(
            "el árbol de estructura usa un árbol de números con /Kids",
        ));
    };
    let mut nums = nums.clone();
    nums.extend_from_slice(entry);
    tree.set("Nums", Object::Array(nums));
    Ok(())
}

/// Whether `now` (replacing `before`, or new when `before` is `None`) is
/// part of tagging a signature widget: a new `Form` element holding only a
/// widget; the structure tree root, or an element, with a child appended
/// and, for the root, one more key in its parent tree; a parent tree with
/// one more key.
pub fn is_widget_tagging(before: Option<&Dict>, now: &Dict) -> bool {
    let Some(before) = before else {
        let keys_known = now
            .0
            .iter()
            .all(|(k, _)| [&b"Type"[..], b"S", b"P", b"K"].contains(&k.as_slice()));
        let holds_a_widget = now
            .get("K")
            .and_then(Object::as_dict)
            .is_some_and(|k| k.name("Type") == Some(b"OBJR") && k.0.len() == 3);
        return now.name("Type") == Some(b"StructElem")
            && now.name("S") == Some(b"Form")
            && keys_known
            && holds_a_widget;
    };
    let ignoring = |dict: &Dict, keys: &[&str]| {
        let mut copy = dict.clone();
        keys.iter().for_each(|k| copy.remove(k));
        copy
    };
    if now.name("Type") == Some(b"StructTreeRoot") {
        let next = |d: &Dict| d.int("ParentTreeNextKey");
        let tree_grew = match (before.get("ParentTree"), now.get("ParentTree")) {
            (Some(Object::Dict(b)), Some(Object::Dict(n))) => number_tree_grew(b, n),
            (b, n) => b == n,
        };
        return ignoring(before, &["K", "ParentTree", "ParentTreeNextKey"])
            == ignoring(now, &["K", "ParentTree", "ParentTreeNextKey"])
            && (before.get("K") == now.get("K") || grew(before.get("K"), now.get("K")))
            && tree_grew
            && next(now) == next(before).map(|n| n + 1);
    }
    if now.name("Type") == Some(b"StructElem") {
        return ignoring(before, &["K"]) == ignoring(now, &["K"]) && grew(before.get("K"), now.get("K"));
    }
    if now.get("Nums").is_some() && before.get("Nums").is_some() {
        return number_tree_grew(before, now);
    }
    false
}

/// Whether `now` is `before` with one key and value appended.
fn number_tree_grew(before: &Dict, now: &Dict) -> bool {
    let (Some(b), Some(n)) = (
        before.get("Nums").and_then(Object::as_array),
        now.get("Nums").and_then(Object::as_array),
    ) else {
        return false;
    };
    n.len() == b.len() + 2 && n.starts_with(b)
}

/// Whether the children `now` are `before` with one child appended
/// (`before` may be a single child, not in an array).
fn grew(before: Option<&Object>, now: Option<&Object>) -> bool {
    let before: Vec<Object> = match before {
        Some(Object::Array(items)) => items.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    };
    match now.and_then(Object::as_array) {
        Some(now) => now.len() == before.len() + 1 && now.starts_with(&before),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::object::Parser;

    fn dict(text: &str) -> Dict {
        match Parser::new(text.as_bytes(), 0).object().expect("parses") {
            Object::Dict(dict) => dict,
            other => panic!("not a dictionary: {other:?}"),
        }
    }

    #[test]
    fn appending_a_form_element_is_tagging_a_widget() {
        let before = dict("<</Type /StructElem /S /Document /P 5 0 R /K [7 0 R 8 0 R]>>");
        let now = dict("<</Type /StructElem /S /Document /P 5 0 R /K [7 0 R 8 0 R 70 0 R]>>");
        assert!(is_widget_tagging(Some(&before), &now));
        let form = dict("<</Type /StructElem /S /Form /P 30 0 R /K <</Type /OBJR /Obj 61 0 R /Pg 43 0 R>>>>");
        assert!(is_widget_tagging(None, &form));
        let root_before = dict(
            "<</Type /StructTreeRoot /K [30 0 R] /ParentTree <</Nums [0 6 0 R]>> /ParentTreeNextKey 1>>",
        );
        let root_now = dict(
            "<</Type /StructTreeRoot /K [30 0 R] /ParentTree <</Nums [0 6 0 R 1 70 0 R]>> /ParentTreeNextKey 2>>",
        );
        assert!(is_widget_tagging(Some(&root_before), &root_now));
    }

    #[test]
    fn any_other_change_to_the_structure_tree_is_not() {
        let before = dict("<</Type /StructElem /S /P /P 30 0 R /K [1 2]>>");
        // What a screen reader reads of signed content may not change.
        let alt = dict("<</Type /StructElem /S /P /P 30 0 R /K [1 2] /Alt (otra cosa)>>");
        assert!(!is_widget_tagging(Some(&before), &alt));
        let reordered = dict("<</Type /StructElem /S /P /P 30 0 R /K [2 1 3]>>");
        assert!(!is_widget_tagging(Some(&before), &reordered));
        let said = dict(
            "<</Type /StructElem /S /Form /P 30 0 R /ActualText (x) /K <</Type /OBJR /Obj 61 0 R /Pg 43 0 R>>>>",
        );
        assert!(!is_widget_tagging(None, &said));
        let root_before = dict(
            "<</Type /StructTreeRoot /K [30 0 R] /ParentTree <</Nums [0 6 0 R]>> /ParentTreeNextKey 1>>",
        );
        let rewired = dict(
            "<</Type /StructTreeRoot /K [30 0 R] /ParentTree <</Nums [0 9 0 R 1 70 0 R]>> /ParentTreeNextKey 2>>",
        );
        assert!(!is_widget_tagging(Some(&root_before), &rewired));
    }
}
