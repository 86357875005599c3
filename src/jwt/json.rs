//! JSON for the hot path: `simd-json` tapes parsed in place, read through small borrowed views.
//!
//! A tape is a flat list of nodes (an object or array node is followed by its members and
//! says how many nodes it spans), so every walk here is a loop: no recursion that a deep
//! input could overflow. Depth is capped by the parser itself ([`MAX_DEPTH`]).
//! The [`Parser`] keeps its buffers between calls: after warm-up, parsing does not allocate.

use crate::jwt::Rejection;
use simd_json::{Buffers, Node, StaticNode, Tape};

/// Deepest nesting accepted in headers, claims and events.
pub const MAX_DEPTH: usize = 64;

/// Spare bytes a caller leaves after the document (see [`Parser::parse`]).
pub const PADDING: usize = simd_json::INPUT_PADDING;

/// Reusable parser state: simd-json's buffers and an empty tape allocation.
pub struct Parser {
    buffers: Buffers,
    nodes: Vec<Node<'static>>,
}

impl Parser {
    /// A parser sized for documents of about `len` bytes (it grows if needed).
    pub fn with_capacity(len: usize) -> Self {
        Parser { buffers: Buffers::with_max_depth(len, MAX_DEPTH), nodes: Vec::with_capacity(len / 4 + 8) }
    }

    /// Parses `buf[..len]` in place (strings are unescaped inside `buf`) and hands the
    /// document to `f`. `buf` must have [`PADDING`] bytes after `len` (their content is
    /// irrelevant and left unchanged). Invalid JSON, invalid UTF-8 or nesting deeper than
    /// [`MAX_DEPTH`] → `BadJson`.
    pub fn parse<'b, R>(
        &mut self,
        buf: &'b mut [u8],
        len: usize,
        f: impl FnOnce(Value<'_, 'b>) -> R,
    ) -> Result<R, Rejection> {
        if buf.len() < len + PADDING {
            return Err(Rejection::BadJson);
        }
        // `Node<'static>` is a subtype of `Node<'b>`, so the kept allocation is reused as is.
        let mut tape: Tape<'b> = Tape(std::mem::take(&mut self.nodes));
        let parsed = simd_json::fill_tape_padded(buf, len, &mut self.buffers, &mut tape);
        let out = match parsed {
            Ok(()) => Ok(f(Value { nodes: &tape.0 })),
            Err(_) => Err(Rejection::BadJson),
        };
        self.nodes = tape.reset().0;
        out
    }
}

/// A borrowed JSON value: `nodes[0]` is the value, the rest of the slice is its subtree.
#[derive(Clone, Copy, Debug)]
pub struct Value<'t, 'b> {
    nodes: &'t [Node<'b>],
}

/// Number of tape nodes the value starting at `nodes[0]` spans.
fn span(node: &Node<'_>) -> usize {
    match node {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

impl<'t, 'b> Value<'t, 'b> {
    fn head(&self) -> Option<&'t Node<'b>> {
        self.nodes.first()
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&'b str> {
        match self.head()? {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number as `f64`, if this is a number (JSON has one number type).
    pub fn as_f64(&self) -> Option<f64> {
        match self.head()? {
            Node::Static(StaticNode::I64(n)) => Some(*n as f64),
            Node::Static(StaticNode::U64(n)) => Some(*n as f64),
            Node::Static(StaticNode::F64(n)) => Some(*n),
            _ => None,
        }
    }

    /// The scalar (`null`, bool or number), if this is one.
    pub fn as_static(&self) -> Option<StaticNode> {
        match self.head()? {
            Node::Static(s) => Some(*s),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self.head(), Some(Node::Object { .. }))
    }

    pub fn is_array(&self) -> bool {
        matches!(self.head(), Some(Node::Array { .. }))
    }

    /// Object members in document order; empty for non-objects.
    pub fn members(&self) -> Members<'t, 'b> {
        let (len, rest) = match self.nodes.split_first() {
            Some((Node::Object { len, .. }, rest)) => (*len, rest),
            _ => (0, &[][..]),
        };
        Members { rest, left: len }
    }

    /// Array elements in order; empty for non-arrays.
    pub fn elements(&self) -> Elements<'t, 'b> {
        let (len, rest) = match self.nodes.split_first() {
            Some((Node::Array { len, .. }, rest)) => (*len, rest),
            _ => (0, &[][..]),
        };
        Elements { rest, left: len }
    }

    /// The first member named `key` (callers reject duplicates first, so "first" is "the").
    pub fn get(&self, key: &str) -> Option<Value<'t, 'b>> {
        self.members().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Follows `path` through nested objects: `["metadata", "role"]`.
    pub fn pointer<'p>(&self, path: impl IntoIterator<Item = &'p str>) -> Option<Value<'t, 'b>> {
        path.into_iter().try_fold(*self, |v, k| v.get(k))
    }

    /// `Err(DuplicateMember)` if any object anywhere in this value repeats a member name.
    /// Iterative over the flat tape; quadratic only within one object, and objects with
    /// many members fall back to sorting.
    pub fn check_unique_members(&self) -> Result<(), Rejection> {
        let mut keys: Vec<&str> = Vec::new(); // only used for objects with > 16 members
        for (i, node) in self.nodes.iter().enumerate() {
            let Node::Object { len, count } = node else { continue };
            let obj = Value { nodes: &self.nodes[i..=i + count] };
            if *len <= 16 {
                let mut seen: [&str; 16] = [""; 16];
                for (n, (k, _)) in obj.members().enumerate() {
                    if seen[..n].contains(&k) {
                        return Err(Rejection::DuplicateMember);
                    }
                    seen[n] = k;
                }
            } else {
                keys.clear();
                keys.extend(obj.members().map(|(k, _)| k));
                keys.sort_unstable();
                if keys.windows(2).any(|w| w[0] == w[1]) {
                    return Err(Rejection::DuplicateMember);
                }
            }
        }
        Ok(())
    }
}

/// Iterator over `(name, value)` members of an object.
pub struct Members<'t, 'b> {
    rest: &'t [Node<'b>],
    left: usize,
}

impl<'t, 'b> Iterator for Members<'t, 'b> {
    type Item = (&'b str, Value<'t, 'b>);
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let (Node::String(key), after_key) = self.rest.split_first()? else {
            return None; // simd-json always writes a string key; be total anyway
        };
        let n = span(after_key.first()?).min(after_key.len());
        let (value, rest) = after_key.split_at(n);
        self.rest = rest;
        Some((key, Value { nodes: value }))
    }
}

/// Iterator over the elements of an array.
pub struct Elements<'t, 'b> {
    rest: &'t [Node<'b>],
    left: usize,
}

impl<'t, 'b> Iterator for Elements<'t, 'b> {
    type Item = Value<'t, 'b>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let n = span(self.rest.first()?).min(self.rest.len());
        let (value, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(Value { nodes: value })
    }
}

/// Writes the value as JSON (for forwarding claims in a response context).
/// Recursion is bounded by [`MAX_DEPTH`], which the parser enforced.
impl serde::Serialize for Value<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.head() {
            Some(Node::String(v)) => s.serialize_str(v),
            Some(Node::Static(StaticNode::Null)) | None => s.serialize_unit(),
            Some(Node::Static(StaticNode::Bool(b))) => s.serialize_bool(*b),
            Some(Node::Static(StaticNode::I64(n))) => s.serialize_i64(*n),
            Some(Node::Static(StaticNode::U64(n))) => s.serialize_u64(*n),
            Some(Node::Static(StaticNode::F64(n))) => s.serialize_f64(*n),
            Some(Node::Object { len, .. }) => {
                let mut m = s.serialize_map(Some(*len))?;
                for (k, v) in self.members() {
                    m.serialize_entry(k, &v)?;
                }
                m.end()
            }
            Some(Node::Array { len, .. }) => {
                let mut a = s.serialize_seq(Some(*len))?;
                for v in self.elements() {
                    a.serialize_element(&v)?;
                }
                a.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<R>(doc: &str, f: impl FnOnce(Value<'_, '_>) -> R) -> Result<R, Rejection> {
        let mut buf = doc.as_bytes().to_vec();
        let len = buf.len();
        buf.resize(len + PADDING, 0);
        Parser::with_capacity(64).parse(&mut buf, len, f)
    }

    #[test]
    fn reads_nested_members_and_arrays() {
        with(r#"{"a":{"b":[1,"x",{"c":3}]},"d":"x\u0041y","e":-2.5}"#, |v| {
            assert_eq!(v.get("d").unwrap().as_str(), Some("xAy"));
            assert_eq!(v.get("e").unwrap().as_f64(), Some(-2.5));
            let b = v.pointer(["a", "b"]).unwrap();
            let elems: Vec<_> = b.elements().collect();
            assert_eq!(elems.len(), 3);
            assert_eq!(elems[1].as_str(), Some("x"));
            assert_eq!(elems[2].get("c").unwrap().as_f64(), Some(3.0));
            assert!(v.get("missing").is_none());
            assert!(v.pointer(["a", "b", "c"]).is_none());
            assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"a":{"b":[1,"x",{"c":3}]},"d":"xAy","e":-2.5}"#);
        })
        .unwrap();
    }

    #[test]
    fn duplicate_members_are_found_at_any_depth_and_size() {
        let dup = |d: &str| with(d, |v| v.check_unique_members()).unwrap();
        assert_eq!(dup(r#"{"a":1,"b":2}"#), Ok(()));
        assert_eq!(dup(r#"{"a":1,"a":2}"#), Err(Rejection::DuplicateMember));
        assert_eq!(dup(r#"{"x":[{"a":1,"b":{"c":1,"c":1}}]}"#), Err(Rejection::DuplicateMember));
        assert_eq!(dup(r#"{"a":1,"\u0061":2}"#), Err(Rejection::DuplicateMember)); // same after unescaping
        let many: String = (0..40).map(|i| format!("\"k{i}\":{i},")).collect();
        assert_eq!(dup(&format!("{{{many}\"z\":0}}")), Ok(()));
        assert_eq!(dup(&format!("{{{many}\"k7\":0}}")), Err(Rejection::DuplicateMember));
    }

    #[test]
    fn rejects_depth_over_limit_and_bad_input() {
        let nest = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(with(&nest(MAX_DEPTH), |_| ()).is_ok());
        assert_eq!(with(&nest(MAX_DEPTH + 1), |_| ()).unwrap_err(), Rejection::BadJson);
        assert_eq!(with(&nest(100_000), |_| ()).unwrap_err(), Rejection::BadJson);
        assert_eq!(with("{} x", |_| ()).unwrap_err(), Rejection::BadJson);
        let mut bad = b"\"\xff\"".to_vec();
        bad.resize(3 + PADDING, 0);
        assert_eq!(Parser::with_capacity(8).parse(&mut bad, 3, |_| ()).unwrap_err(), Rejection::BadJson);
    }

    #[test]
    fn parser_is_reusable() {
        let mut p = Parser::with_capacity(8);
        for doc in [r#"{"a":1}"#, r#"[1,2,3]"#, r#"{"b":"c"}"#] {
            let mut buf = doc.as_bytes().to_vec();
            let len = buf.len();
            buf.resize(len + PADDING, 0);
            assert!(p.parse(&mut buf, len, |v| v.is_object() || v.is_array()).unwrap());
        }
    }
}
