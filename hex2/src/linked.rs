//! The result of a link, [`Linked`]: the output bytes with the label table, the map, the
//! file names its locations index and the reference's warnings. The engine builds it
//! ([`crate::Linker::finish`]); it does not link.

use crate::labels::LabelTable;
use crate::map::MapEntry;
use crate::source::Loc;

/// The result of a link.
#[derive(Debug, Clone)]
pub struct Linked {
    /// The output bytes.
    pub bytes: Vec<u8>,
    /// Every label with its address and definition site.
    pub labels: LabelTable,
    /// The link map, sorted by offset (empty unless [`crate::Config::map`]).
    pub map: Vec<MapEntry>,
    /// The file names, indexed by [`Loc::file`].
    pub files: Vec<String>,
    /// The warnings mescc-tools hex2 prints for this configuration, in its exact text
    /// (empty for the seed dialects); see [`crate::reference_warnings`].
    pub warnings: String,
}

impl Linked {
    /// `FILE:LINE:COL` of a location.
    pub fn describe(&self, at: Loc) -> String {
        let file = self.files.get(at.file as usize).map_or("?", |s| s.as_str());
        format!("{file}:{}:{}", at.line, at.col)
    }
}
