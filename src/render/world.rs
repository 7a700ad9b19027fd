//! The Typst `World` of one document: it sees the form's own folder, the
//! shared library `forms/_lib/`, the embedded fonts, the office logo and the
//! document's data — nothing else on the machine.
//!
//! Typst interns file ids in a global table that is never freed, so every
//! document uses the same fixed virtual paths (`/data.json`,
//! `/context.json`); only the finite set of template files get ids of their own.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, World};

use crate::fonts::FONTS;

/// Virtual path of the document's data (the form fields), attached to the PDF.
pub const DATA_PATH: &str = "/data.json";
/// Virtual path of what the office and Sello add: letterhead, folio, mode.
pub const CONTEXT_PATH: &str = "/context.json";

/// Virtual path of the QR code of an issued document.
pub const QR_PATH: &str = "/qr.png";

static QR_ID: LazyLock<FileId> = LazyLock::new(|| file_id(QR_PATH));

/// The most signatures drawn by hand one document prints; each has a fixed
/// virtual path, so their file ids are a finite set.
pub const HAND_SIGNATURES_MAX: usize = 200;

/// The virtual path of the `i`-th hand signature of a document.
pub fn hand_signature_path(i: usize) -> String {
    format!("/firmas/{i}.png")
}

static HAND_IDS: LazyLock<Vec<FileId>> = LazyLock::new(|| {
    (0..HAND_SIGNATURES_MAX)
        .map(|i| file_id(&hand_signature_path(i)))
        .collect()
});
static DATA_ID: LazyLock<FileId> = LazyLock::new(|| file_id(DATA_PATH));
static CONTEXT_ID: LazyLock<FileId> = LazyLock::new(|| file_id(CONTEXT_PATH));

/// Interns a project-root virtual path. Only called with fixed paths or
/// paths inside the finite template folders.
pub fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("fixed virtual paths are valid");
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

/// What every document of the process shares: the standard library, the
/// template files already read, the logo.
pub struct Shared {
    pub library: LazyHash<Library>,
    /// The canonical `forms/` folder.
    pub forms_root: PathBuf,
    /// The canonical `forms/_lib/` folder.
    lib_dir: PathBuf,
    logo: Option<(FileId, Bytes)>,
    sources: Mutex<HashMap<FileId, Source>>,
    files: Mutex<HashMap<FileId, Bytes>>,
}

impl Shared {
    pub fn new(
        library: Library,
        forms_root: PathBuf,
        logo: Option<(String, Bytes)>,
    ) -> std::io::Result<Self> {
        let forms_root = forms_root.canonicalize()?;
        let lib_dir = forms_root.join("_lib").canonicalize()?;
        Ok(Self {
            library: LazyHash::new(library),
            forms_root,
            lib_dir,
            logo: logo.map(|(path, bytes)| (file_id(&path), bytes)),
            sources: Mutex::new(HashMap::new()),
            files: Mutex::new(HashMap::new()),
        })
    }
}

/// The world of one document being rendered.
pub struct DocumentWorld<'a> {
    shared: &'a Shared,
    /// The canonical folder of the form being rendered.
    form_dir: PathBuf,
    /// `/forms/<id>/`: the virtual prefix of that folder.
    form_prefix: String,
    main: FileId,
    data: Bytes,
    context: Bytes,
    qr: Option<Bytes>,
    hand_signatures: Vec<Bytes>,
    today: Datetime,
}

impl<'a> DocumentWorld<'a> {
    pub fn new(
        shared: &'a Shared,
        form_id: &str,
        data: Vec<u8>,
        context: Vec<u8>,
        qr: Option<Vec<u8>>,
        hand_signatures: Vec<Vec<u8>>,
        today: Datetime,
    ) -> FileResult<Self> {
        let form_dir = shared
            .forms_root
            .join(form_id)
            .canonicalize()
            .map_err(|e| FileError::from_io(e, Path::new(form_id)))?;
        let form_prefix = format!("/forms/{form_id}/");
        Ok(Self {
            shared,
            form_dir,
            main: file_id(&format!("{form_prefix}template.typ")),
            form_prefix,
            data: Bytes::new(data),
            context: Bytes::new(context),
            qr: qr.map(Bytes::new),
            hand_signatures: hand_signatures
                .into_iter()
                .take(HAND_SIGNATURES_MAX)
                .map(Bytes::new)
                .collect(),
            today,
        })
    }

    /// The real file behind a virtual path, if the form may read it.
    fn real_path(&self, id: FileId) -> FileResult<PathBuf> {
        if !matches!(id.get().root(), VirtualRoot::Project) {
            return Err(FileError::Other(Some(
                "las plantillas de Sello no pueden usar paquetes externos".into(),
            )));
        }
        let vpath = id.get().vpath().get_with_slash();
        let (allowed_dir, rest) = if let Some(rest) = vpath.strip_prefix(&self.form_prefix) {
            (&self.form_dir, rest)
        } else if let Some(rest) = vpath.strip_prefix("/forms/_lib/") {
            (&self.shared.lib_dir, rest)
        } else {
            return Err(FileError::AccessDenied);
        };
        let joined = allowed_dir.join(rest);
        let real = joined
            .canonicalize()
            .map_err(|e| FileError::from_io(e, Path::new(vpath)))?;
        // A symlink inside the folder must not lead out of it.
        if real.starts_with(allowed_dir) {
            Ok(real)
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn read_template_file(&self, id: FileId) -> FileResult<Bytes> {
        let path = self.real_path(id)?;
        if let Some(bytes) = lock(&self.shared.files).get(&id) {
            return Ok(bytes.clone());
        }
        if path.is_dir() {
            return Err(FileError::IsDirectory);
        }
        let bytes = Bytes::new(fs::read(&path).map_err(|e| FileError::from_io(e, &path))?);
        lock(&self.shared.files).insert(id, bytes.clone());
        Ok(bytes)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the cache leaves it usable: entries are whole.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl World for DocumentWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.shared.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == *DATA_ID || id == *CONTEXT_ID || id == *QR_ID || HAND_IDS.contains(&id) {
            return Err(FileError::NotSource);
        }
        // Check access before the cache: another form's file is not ours.
        self.real_path(id)?;
        if let Some(source) = lock(&self.shared.sources).get(&id) {
            return Ok(source.clone());
        }
        let bytes = self.read_template_file(id)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| FileError::InvalidUtf8)?;
        let source = Source::new(id, text.to_owned());
        lock(&self.shared.sources).insert(id, source.clone());
        Ok(source)
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == *DATA_ID {
            return Ok(self.data.clone());
        }
        if id == *CONTEXT_ID {
            return Ok(self.context.clone());
        }
        if id == *QR_ID {
            return self.qr.clone().ok_or(FileError::AccessDenied);
        }
        if let Some(i) = HAND_IDS.iter().position(|hand| *hand == id) {
            return self
                .hand_signatures
                .get(i)
                .cloned()
                .ok_or(FileError::AccessDenied);
        }
        if let Some((logo_id, bytes)) = &self.shared.logo
            && id == *logo_id
        {
            return Ok(bytes.clone());
        }
        self.read_template_file(id)
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.faces.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        // The issue date, never the clock: the same document renders the same.
        Some(self.today)
    }
}
