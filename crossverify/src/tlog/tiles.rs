//! The C2SP `tlog-tiles` layout of a log in a directory: tile paths, entry bundles, the
//! writer that appends entries, and the reader that serves subtree hashes from the tiles.
//!
//! A log directory holds exactly what a static web server serves under the log's prefix:
//!
//! ```text
//! checkpoint                  the signed tree head (crate::tlog::checkpoint)
//! tile/<L>/<N>                full tiles: 256 hashes of 32 bytes (8,192 bytes)
//! tile/<L>/<N>.p/<W>          partial tiles: the first W (1..255) hashes
//! tile/entries/<N>[.p/<W>]    entry bundles: each entry as a big-endian uint16 length
//!                             and its bytes, 256 entries a full bundle
//! ```
//!
//! `<N>` is written in zero-padded three-digit path elements, all but the last prefixed
//! with `x` (1234067 is `x001/x234/067`). A level-0 tile holds leaf hashes; each hash of a
//! level `L+1` tile is the Merkle tree hash of one full tile at level `L`, so a tile at
//! level `L` holds subtrees of height `8 * L`. Files are written whole (temporary file and
//! rename) and never rewritten: a full tile replaces nothing, and once a tile is full its
//! partial versions are deleted (readers of older checkpoints fall back to the full tile,
//! whose prefix is the same). This module owns the layout; the tree arithmetic is
//! [`crate::tlog::merkle`]'s and the checkpoint [`crate::tlog::checkpoint`]'s.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use toolbase::diag::Diagnostic;
use toolbase::output::write_atomic;

use super::merkle::{leaf_hash, node_hash, Hash, Subtrees};

/// Hashes per full tile, and entries per full bundle.
pub const TILE_WIDTH: u64 = 256;
/// Bits of height each tile level adds.
const TILE_HEIGHT: u32 = 8;
/// The largest entry a bundle can hold (its length is a uint16).
pub const MAX_ENTRY: usize = u16::MAX as usize;

/// What a tile path names: a level of hashes, or the entry bundles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Hashes at tile level `L` (0 for leaf hashes).
    Level(u32),
    /// Entry bundles.
    Entries,
}

/// `<N>` as zero-padded three-digit path elements, all but the last prefixed with `x`.
pub fn index_path(n: u64) -> String {
    let mut groups = vec![n % 1000];
    let mut rest = n / 1000;
    while rest > 0 {
        groups.push(rest % 1000);
        rest /= 1000;
    }
    let last = groups.len() - 1;
    groups
        .iter()
        .rev()
        .enumerate()
        .map(|(i, g)| {
            if i < last {
                format!("x{g:03}")
            } else {
                format!("{g:03}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The path, relative to the log directory, of tile `n` of `kind`, partial with `width`
/// hashes or entries when `width < 256`.
pub fn tile_path(kind: Kind, n: u64, width: u64) -> String {
    let level = match kind {
        Kind::Level(l) => l.to_string(),
        Kind::Entries => "entries".to_string(),
    };
    let mut p = format!("tile/{level}/{}", index_path(n));
    if width < TILE_WIDTH {
        p.push_str(&format!(".p/{width}"));
    }
    p
}

/// How many hashes tile level `level` holds for a tree of `size` leaves.
fn level_count(size: u64, level: u32) -> u64 {
    size.checked_shr(TILE_HEIGHT * level).unwrap_or(0)
}

/// Reads the tile or bundle `n` of `kind` needed for a tree of `count` hashes at that
/// level: the full tile when `count` covers it, otherwise the partial tile of the right
/// width, falling back to the full tile (whose prefix is the same) when the partial one
/// was deleted. Returns the bytes and the path read.
fn read_tile(dir: &Path, kind: Kind, n: u64, count: u64) -> Result<(Vec<u8>, PathBuf), Diagnostic> {
    let width = (count - n * TILE_WIDTH).min(TILE_WIDTH);
    let full = dir.join(tile_path(kind, n, TILE_WIDTH));
    let first = dir.join(tile_path(kind, n, width));
    match std::fs::read(&first) {
        Ok(b) => Ok((b, first)),
        Err(e) if width < TILE_WIDTH && e.kind() == std::io::ErrorKind::NotFound => {
            match std::fs::read(&full) {
                Ok(b) => Ok((b, full)),
                Err(_) => Err(Diagnostic::io(&first, "cannot read tile", &e)
                    .note(format!("nor the full tile {}", full.display()))),
            }
        }
        Err(e) => Err(Diagnostic::io(&first, "cannot read tile", &e)),
    }
}

/// The tiles of the log in `dir` at tree size `size`, as a [`Subtrees`] source. Tiles
/// read are kept, so a proof reads each tile once.
pub struct Tiles {
    dir: PathBuf,
    size: u64,
    cache: HashMap<(u32, u64), Vec<Hash>>,
}

impl Tiles {
    /// The tiles of `dir` as of tree size `size`.
    pub fn new(dir: &Path, size: u64) -> Tiles {
        Tiles {
            dir: dir.to_path_buf(),
            size,
            cache: HashMap::new(),
        }
    }

    /// The hashes of tile `n` at `level`, at least as many as this tree size needs.
    fn hashes(&mut self, level: u32, n: u64) -> Result<&[Hash], Diagnostic> {
        if !self.cache.contains_key(&(level, n)) {
            let count = level_count(self.size, level);
            let need = (count - n * TILE_WIDTH).min(TILE_WIDTH) as usize;
            let (bytes, path) = read_tile(&self.dir, Kind::Level(level), n, count)?;
            if bytes.len() % 32 != 0 || bytes.len() / 32 < need || bytes.len() / 32 > 256 {
                return Err(Diagnostic::new("malformed tile")
                    .in_file(path.display().to_string())
                    .expected(format!("{} bytes ({need} hashes)", need * 32))
                    .found(format!("{} bytes", bytes.len())));
            }
            let hashes = bytes
                .chunks_exact(32)
                .map(|c| c.try_into().expect("32-byte chunk"))
                .collect();
            self.cache.insert((level, n), hashes);
        }
        Ok(&self.cache[&(level, n)])
    }
}

impl Subtrees for Tiles {
    type Error = Diagnostic;

    fn subtree(&mut self, height: u32, index: u64) -> Result<Hash, Diagnostic> {
        let (level, r) = (height / TILE_HEIGHT, height % TILE_HEIGHT);
        let first = index << r;
        let count = 1usize << r;
        let end = index
            .checked_add(1)
            .and_then(|i| i.checked_mul(1u64.checked_shl(height)?));
        if !matches!(end, Some(end) if end <= self.size) {
            return Err(Diagnostic::new(format!(
                "no complete subtree of height {height} at index {index} in a tree of {} leaves",
                self.size
            )));
        }
        let tile = self.hashes(level, first / TILE_WIDTH)?;
        let start = (first % TILE_WIDTH) as usize;
        let mut row: Vec<Hash> = tile[start..start + count].to_vec();
        while row.len() > 1 {
            row = row.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
        }
        Ok(row[0])
    }
}

/// The entries of bundle `n` for a tree of `size` leaves, checked against the bundle's
/// expected count.
pub fn read_bundle(dir: &Path, size: u64, n: u64) -> Result<Vec<Vec<u8>>, Diagnostic> {
    let (bytes, path) = read_tile(dir, Kind::Entries, n, size)?;
    let want = (size - n * TILE_WIDTH).min(TILE_WIDTH) as usize;
    let entries = parse_bundle(&bytes).ok_or_else(|| {
        Diagnostic::new("malformed entry bundle")
            .in_file(path.display().to_string())
            .expected("entries, each a big-endian uint16 length and that many bytes")
    })?;
    if entries.len() < want {
        return Err(Diagnostic::new("entry bundle too short")
            .in_file(path.display().to_string())
            .expected(format!("{want} entries"))
            .found(format!("{}", entries.len())));
    }
    Ok(entries.into_iter().take(want).collect())
}

/// The entries of a bundle, or `None` when it is not a sequence of length-prefixed entries.
pub fn parse_bundle(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]) as usize;
        out.push(bytes.get(at + 2..at + 2 + len)?.to_vec());
        at += 2 + len;
    }
    Some(out)
}

/// The right edge of a log: for every tile level, the hashes of its last, incomplete
/// tile, and the entries of the last, incomplete bundle. Appending works on this alone.
struct Edge {
    size: u64,
    levels: Vec<Vec<Hash>>,
    bundle: Vec<u8>,
    bundle_len: u64,
}

impl Edge {
    /// Reads the right edge of the log in `dir` at `size` from its partial tiles.
    fn load(dir: &Path, size: u64) -> Result<Edge, Diagnostic> {
        let mut tiles = Tiles::new(dir, size);
        let mut levels = Vec::new();
        let mut level = 0;
        while level_count(size, level) > 0 {
            let count = level_count(size, level);
            let width = (count % TILE_WIDTH) as usize;
            let row = if width == 0 {
                Vec::new()
            } else {
                tiles.hashes(level, count / TILE_WIDTH)?[..width].to_vec()
            };
            levels.push(row);
            level += 1;
        }
        let mut bundle = Vec::new();
        let bundle_len = size % TILE_WIDTH;
        if bundle_len > 0 {
            for e in read_bundle(dir, size, size / TILE_WIDTH)? {
                push_entry(&mut bundle, &e);
            }
        }
        Ok(Edge {
            size,
            levels,
            bundle,
            bundle_len,
        })
    }
}

fn push_entry(bundle: &mut Vec<u8>, entry: &[u8]) {
    bundle.extend_from_slice(&(entry.len() as u16).to_be_bytes());
    bundle.extend_from_slice(entry);
}

fn hashes_bytes(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) -> Result<(), Diagnostic> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Diagnostic::io(parent, "cannot create log directory", &e))?;
    }
    write_atomic(&path, bytes, crate::FILE_MODE)
        .map_err(|e| Diagnostic::io(&path, "cannot write tile", &e))
}

/// Removes the partial versions of a tile that just became full.
fn drop_partials(dir: &Path, kind: Kind, n: u64) {
    let full = dir.join(tile_path(kind, n, TILE_WIDTH));
    let mut p = full.into_os_string();
    p.push(".p");
    let _ = std::fs::remove_dir_all(PathBuf::from(p));
}

/// Appends `entries` to the log in `dir` whose tree has `size` leaves, writing the new
/// full tiles and bundles and the partial ones of the new size. Returns the new size.
/// Nothing that a checkpoint of `size` or less refers to is changed.
pub fn append(dir: &Path, size: u64, entries: &[Vec<u8>]) -> Result<u64, Diagnostic> {
    if let Some(big) = entries.iter().find(|e| e.len() > MAX_ENTRY) {
        return Err(Diagnostic::new("entry too large for a log entry")
            .expected(format!("at most {MAX_ENTRY} bytes (a uint16 length)"))
            .found(format!("{} bytes", big.len())));
    }
    let mut edge = Edge::load(dir, size)?;
    for entry in entries {
        push_entry(&mut edge.bundle, entry);
        edge.bundle_len += 1;
        let n = edge.size / TILE_WIDTH;
        if edge.bundle_len == TILE_WIDTH {
            write(dir, &tile_path(Kind::Entries, n, TILE_WIDTH), &edge.bundle)?;
            drop_partials(dir, Kind::Entries, n);
            edge.bundle.clear();
            edge.bundle_len = 0;
        }
        edge.size += 1;
        // Carry the new leaf up: a full tile's tree hash joins the level above.
        let mut hash = leaf_hash(entry);
        let mut level = 0u32;
        loop {
            if edge.levels.len() <= level as usize {
                edge.levels.push(Vec::new());
            }
            let row = &mut edge.levels[level as usize];
            row.push(hash);
            if row.len() as u64 != TILE_WIDTH {
                break;
            }
            let n = level_count(edge.size, level) / TILE_WIDTH - 1;
            write(
                dir,
                &tile_path(Kind::Level(level), n, TILE_WIDTH),
                &hashes_bytes(row),
            )?;
            drop_partials(dir, Kind::Level(level), n);
            hash = super::merkle::reference_root(row);
            row.clear();
            level += 1;
        }
    }
    if edge.bundle_len > 0 {
        let n = edge.size / TILE_WIDTH;
        write(
            dir,
            &tile_path(Kind::Entries, n, edge.bundle_len),
            &edge.bundle,
        )?;
    }
    for (level, row) in edge.levels.iter().enumerate() {
        if !row.is_empty() {
            let n = level_count(edge.size, level as u32) / TILE_WIDTH;
            write(
                dir,
                &tile_path(Kind::Level(level as u32), n, row.len() as u64),
                &hashes_bytes(row),
            )?;
        }
    }
    Ok(edge.size)
}

/// The index of the first entry equal to `entry` in the log of `size` leaves, found by
/// its leaf hash in the level-0 tiles.
pub fn find(dir: &Path, size: u64, entry: &[u8]) -> Result<Option<u64>, Diagnostic> {
    let want = leaf_hash(entry);
    let mut tiles = Tiles::new(dir, size);
    for n in 0..size.div_ceil(TILE_WIDTH) {
        let hashes = tiles.hashes(0, n)?;
        let width = (size - n * TILE_WIDTH).min(TILE_WIDTH) as usize;
        if let Some(i) = hashes[..width].iter().position(|h| *h == want) {
            return Ok(Some(n * TILE_WIDTH + i as u64));
        }
        tiles.cache.clear();
    }
    Ok(None)
}

/// Checks the whole log in `dir` at `size`: every entry hashes to its level-0 tile hash,
/// every tile hash above is the tree hash of the full tile below, and returns the root
/// recomputed from the entries alone.
pub fn audit(dir: &Path, size: u64) -> Result<Hash, Diagnostic> {
    let mut leaves = Vec::with_capacity(size as usize);
    for n in 0..size.div_ceil(TILE_WIDTH) {
        leaves.extend(read_bundle(dir, size, n)?.iter().map(|e| leaf_hash(e)));
    }
    let mut tiles = Tiles::new(dir, size);
    let mut row = leaves.clone();
    let mut level = 0u32;
    while !row.is_empty() {
        for (n, chunk) in row.chunks(TILE_WIDTH as usize).enumerate() {
            let stored = tiles.hashes(level, n as u64)?;
            if let Some(i) = (0..chunk.len()).find(|&i| stored[i] != chunk[i]) {
                let index = n as u64 * TILE_WIDTH + i as u64;
                return Err(Diagnostic::new(format!(
                    "tile level {level} hash {index} does not match the entries"
                ))
                .in_file(
                    dir.join(tile_path(Kind::Level(level), n as u64, chunk.len() as u64))
                        .display()
                        .to_string(),
                )
                .hint("the tiles or the entry bundles were altered"));
            }
        }
        tiles.cache.clear();
        row = row
            .chunks_exact(TILE_WIDTH as usize)
            .map(super::merkle::reference_root)
            .collect();
        level += 1;
    }
    Ok(super::merkle::reference_root(&leaves))
}
