//! The inputs of a link and places in them: a [`Source`] is one named input, a [`Loc`]
//! a file index, line and column in the inputs. It holds no text of its own and computes
//! nothing.

/// One input: its name (for messages and the map) and its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    /// The file name as the user gave it.
    pub name: &'a str,
    /// The whole text.
    pub text: &'a [u8],
}

/// A source location: file index (into [`crate::Linked::files`]), 1-based line and column (bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Loc {
    /// Index of the file in command-line order.
    pub file: u32,
    /// 1-based line.
    pub line: u32,
    /// 1-based column in bytes.
    pub col: u32,
}
