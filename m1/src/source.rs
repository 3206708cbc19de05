//! The inputs of an assembly: a [`Source`] is one named input, borrowed, never copied.
//! It holds no text of its own and computes nothing.

/// One input: its name (for messages and the map) and its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    /// The name shown in messages, usually the path given.
    pub name: &'a str,
    /// The source text.
    pub text: &'a [u8],
}
