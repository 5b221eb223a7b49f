//! Observations as a columnar, dictionary-encoded cube: one column of codes per dimension,
//! one of values, one of flags. The same form is stored in the database (as chunks) and
//! queried in memory.

use rustc_hash::FxHashMap;
use std::collections::HashMap;

/// One dimension's values: a dictionary of distinct codes and one index per observation.
#[derive(Clone, Debug, Default)]
pub struct Column {
    pub dict: Vec<String>,
    index: HashMap<String, u32>,
    pub codes: Vec<u32>,
}

impl Column {
    pub fn intern(&mut self, value: &str) -> u32 {
        if let Some(&i) = self.index.get(value) {
            return i;
        }
        let i = self.dict.len() as u32;
        self.dict.push(value.to_string());
        self.index.insert(value.to_string(), i);
        i
    }

    pub fn lookup(&self, value: &str) -> Option<u32> {
        self.index.get(value).copied()
    }

    pub fn get(&self, row: usize) -> &str {
        &self.dict[self.codes[row] as usize]
    }

    fn from_parts(dict: Vec<String>, codes: Vec<u32>) -> Column {
        let index = dict
            .iter()
            .enumerate()
            .map(|(i, d)| (d.clone(), i as u32))
            .collect();
        Column { dict, index, codes }
    }
}

/// The observations of one dataset version (or a chunk of one).
#[derive(Clone, Debug, Default)]
pub struct Cube {
    /// Dimension names in canonical order; `indicator` and `period` come first.
    pub dims: Vec<String>,
    pub columns: Vec<Column>,
    /// NaN where the source gave only a flag (a suppressed or confidential cell).
    pub values: Vec<f64>,
    pub flags: Column,
}

/// The order dimensions are kept in: the model's own first, then the others alphabetically.
pub fn canonical_order(dims: &mut [String]) {
    const FIRST: [&str; 6] = ["indicator", "period", "geo", "origin", "sex", "age"];
    dims.sort_by_key(|d| {
        (
            FIRST.iter().position(|f| f == d).unwrap_or(FIRST.len()),
            d.clone(),
        )
    });
}

#[derive(Debug, thiserror::Error)]
#[error("stored observation chunk is corrupt: {0}")]
pub struct ChunkError(&'static str);

/// The rows of a cube by key, each key packed into one integer (bits per dimension from its
/// dictionary's size), so that joining two cubes of millions of rows needs no allocation per row.
struct KeyIndex {
    widths: Vec<u32>,
    /// Keys of up to 64 bits (the usual case: half the memory of wider ones).
    narrow: FxHashMap<u64, u32>,
    packed: FxHashMap<u128, u32>,
    /// Keys too wide to pack (more than 128 bits of codes): the codes themselves.
    wide: FxHashMap<Vec<u32>, u32>,
}

impl KeyIndex {
    fn of(cube: &Cube) -> KeyIndex {
        let widths: Vec<u32> = cube
            .columns
            .iter()
            .map(|c| (usize::BITS - c.dict.len().leading_zeros()).max(1))
            .collect();
        let mut ix = KeyIndex {
            widths,
            narrow: FxHashMap::default(),
            packed: FxHashMap::default(),
            wide: FxHashMap::default(),
        };
        if ix.bits() <= 64 {
            ix.narrow.reserve(cube.len());
            for r in 0..cube.len() {
                ix.narrow.insert(
                    Self::pack(&ix.widths, cube.columns.iter().map(|c| c.codes[r])) as u64,
                    r as u32,
                );
            }
        } else if ix.bits() <= 128 {
            ix.packed.reserve(cube.len());
            for r in 0..cube.len() {
                ix.packed.insert(
                    Self::pack(&ix.widths, cube.columns.iter().map(|c| c.codes[r])),
                    r as u32,
                );
            }
        } else {
            for r in 0..cube.len() {
                ix.wide
                    .insert(cube.columns.iter().map(|c| c.codes[r]).collect(), r as u32);
            }
        }
        ix
    }

    fn bits(&self) -> u32 {
        self.widths.iter().sum()
    }

    fn pack(widths: &[u32], codes: impl Iterator<Item = u32>) -> u128 {
        codes
            .zip(widths)
            .fold(0u128, |k, (c, w)| (k << w) | c as u128)
    }

    /// The row of `other`'s row `r` here, its codes translated by `map`.
    fn find(&self, other: &Cube, map: &[Vec<Option<u32>>], r: usize) -> Option<usize> {
        let mut codes = other
            .columns
            .iter()
            .zip(map)
            .map(|(col, m)| m[col.codes[r] as usize]);
        let found = if self.bits() <= 128 {
            let mut k = 0u128;
            for w in &self.widths {
                k = (k << w) | codes.next()?? as u128;
            }
            if self.bits() <= 64 {
                self.narrow.get(&(k as u64))
            } else {
                self.packed.get(&k)
            }
        } else {
            self.wide.get(&codes.collect::<Option<Vec<u32>>>()?)
        };
        found.map(|&o| o as usize)
    }
}

/// What a new version changes against the previous one.
#[derive(Debug, Default)]
pub struct Diff {
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    /// The added and changed observations, as the new version stores them.
    pub upserts: Cube,
    /// The keys of removed observations (values unused).
    pub removals: Cube,
}

impl Cube {
    pub fn new(dims: Vec<String>) -> Cube {
        let columns = dims.iter().map(|_| Column::default()).collect();
        Cube {
            dims,
            columns,
            values: Vec::new(),
            flags: Column::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn dim(&self, name: &str) -> Option<usize> {
        self.dims.iter().position(|d| d == name)
    }

    /// Appends one observation; `key` holds a code for each dimension, in `dims` order.
    pub fn push(&mut self, key: &[&str], value: Option<f64>, flags: &str) {
        for (col, k) in self.columns.iter_mut().zip(key) {
            let c = col.intern(k);
            col.codes.push(c);
        }
        self.values.push(value.unwrap_or(f64::NAN));
        let f = self.flags.intern(flags);
        self.flags.codes.push(f);
    }

    /// The code index of `value` in dimension `dim`'s dictionary, adding it if new.
    pub fn intern(&mut self, dim: usize, value: &str) -> u32 {
        self.columns[dim].intern(value)
    }

    pub fn intern_flag(&mut self, flags: &str) -> u32 {
        self.flags.intern(flags)
    }

    /// Appends one observation given as dictionary indices (from [`Cube::intern`]).
    pub fn push_codes(&mut self, codes: &[u32], value: Option<f64>, flag: u32) {
        for (col, &c) in self.columns.iter_mut().zip(codes) {
            col.codes.push(c);
        }
        self.values.push(value.unwrap_or(f64::NAN));
        self.flags.codes.push(flag);
    }

    /// The rows holding each of these keys (in `dims` order), found in one pass; for a few
    /// keys, such as the sample of a difference shown before an import is confirmed.
    pub fn find(&self, keys: &[Vec<&str>]) -> Vec<Option<usize>> {
        let wanted: Vec<Option<Vec<u32>>> = keys
            .iter()
            .map(|k| {
                k.iter()
                    .zip(&self.columns)
                    .map(|(v, c)| c.lookup(v))
                    .collect::<Option<Vec<u32>>>()
            })
            .collect();
        let mut found = vec![None; keys.len()];
        if wanted.iter().all(Option::is_none) {
            return found;
        }
        for row in 0..self.len() {
            for (i, w) in wanted.iter().enumerate() {
                if let Some(codes) = w {
                    if found[i].is_none()
                        && codes
                            .iter()
                            .zip(&self.columns)
                            .all(|(&c, col)| col.codes[row] == c)
                    {
                        found[i] = Some(row);
                    }
                }
            }
        }
        found
    }

    pub fn key(&self, row: usize) -> Vec<&str> {
        self.columns.iter().map(|c| c.get(row)).collect()
    }

    pub fn value(&self, row: usize) -> Option<f64> {
        Some(self.values[row]).filter(|v| !v.is_nan())
    }

    pub fn flag(&self, row: usize) -> &str {
        self.flags.get(row)
    }

    /// Appends every observation of `other` (same dimensions).
    pub fn extend(&mut self, other: &Cube) {
        let maps: Vec<Vec<u32>> = self
            .columns
            .iter_mut()
            .zip(&other.columns)
            .map(|(mine, theirs)| theirs.dict.iter().map(|d| mine.intern(d)).collect())
            .collect();
        for (col, (map, theirs)) in self.columns.iter_mut().zip(maps.iter().zip(&other.columns)) {
            col.codes
                .extend(theirs.codes.iter().map(|&c| map[c as usize]));
        }
        let fmap: Vec<u32> = other
            .flags
            .dict
            .iter()
            .map(|d| self.flags.intern(d))
            .collect();
        self.flags
            .codes
            .extend(other.flags.codes.iter().map(|&c| fmap[c as usize]));
        self.values.extend_from_slice(&other.values);
    }

    /// Observations `start..end` as a cube of their own, whose dictionaries hold only the
    /// codes those observations use.
    pub fn slice(&self, start: usize, end: usize) -> Cube {
        let end = end.min(self.len());
        let narrow = |col: &Column| {
            let mut map = vec![u32::MAX; col.dict.len()];
            let mut out = Column::default();
            out.codes.reserve(end - start);
            for &c in &col.codes[start..end] {
                let m = &mut map[c as usize];
                if *m == u32::MAX {
                    *m = out.intern(&col.dict[c as usize]);
                }
                out.codes.push(*m);
            }
            out
        };
        Cube {
            dims: self.dims.clone(),
            columns: self.columns.iter().map(narrow).collect(),
            values: self.values[start..end].to_vec(),
            flags: narrow(&self.flags),
        }
    }

    /// Every observation, as a cube of its own whose dictionaries hold only the codes they
    /// use; this one keeps its dictionaries, so codes it gave out stay valid, and no
    /// observations. For reading a file in chunks.
    pub fn take(&mut self) -> Cube {
        let out = self.slice(0, self.len());
        for c in &mut self.columns {
            c.codes.clear();
        }
        self.flags.codes.clear();
        self.values.clear();
        out
    }

    /// A cube with the same dimensions and dictionaries, and no observations.
    fn empty_like(&self) -> Cube {
        let strip = |c: &Column| Column {
            dict: c.dict.clone(),
            index: c.index.clone(),
            codes: Vec::new(),
        };
        Cube {
            dims: self.dims.clone(),
            columns: self.columns.iter().map(strip).collect(),
            values: Vec::new(),
            flags: strip(&self.flags),
        }
    }

    fn push_row_of(&mut self, other: &Cube, r: usize) {
        for (mine, theirs) in self.columns.iter_mut().zip(&other.columns) {
            mine.codes.push(theirs.codes[r]);
        }
        self.values.push(other.values[r]);
        self.flags.codes.push(other.flags.codes[r]);
    }

    /// For each column, `other`'s codes as this cube's codes (`None`: a code this cube lacks).
    fn translate(&self, other: &Cube) -> Vec<Vec<Option<u32>>> {
        self.columns
            .iter()
            .zip(&other.columns)
            .map(|(m, t)| t.dict.iter().map(|d| m.lookup(d)).collect())
            .collect()
    }

    fn same_obs(&self, r: usize, other: &Cube, o: usize) -> bool {
        let (a, b) = (self.values[r], other.values[o]);
        (a == b || (a.is_nan() && b.is_nan())) && self.flag(r) == other.flag(o)
    }

    /// What replacing this content with `new` adds, changes and removes.
    pub fn diff(&self, new: &Cube) -> Diff {
        let once = std::iter::once(Ok::<_, std::convert::Infallible>(new));
        self.diff_chunks(once, false).unwrap_or_else(|e| match e {})
    }

    /// What adding `delta` on top of this content adds and changes (an `--append` import).
    pub fn diff_append(&self, delta: &Cube) -> Diff {
        let once = std::iter::once(Ok::<_, std::convert::Infallible>(delta));
        self.diff_chunks(once, true).unwrap_or_else(|e| match e {})
    }

    /// As [`Cube::diff`] (or [`Cube::diff_append`] with `append`), the new content given in
    /// chunks read one at a time, so that only this content and the changes are held.
    pub fn diff_chunks<C: std::borrow::Borrow<Cube>, E>(
        &self,
        chunks: impl IntoIterator<Item = Result<C, E>>,
        append: bool,
    ) -> Result<Diff, E> {
        let mut d = Diff {
            upserts: Cube::new(self.dims.clone()),
            removals: if append {
                Cube::new(self.dims.clone())
            } else {
                self.empty_like()
            },
            ..Diff::default()
        };
        let index = KeyIndex::of(self);
        let mut seen = vec![false; self.len()];
        for chunk in chunks {
            let chunk = chunk?;
            let new = chunk.borrow();
            let map = self.translate(new);
            // The chunk's codes as the changes' dictionaries number them, made on first use.
            let mut codes: Vec<Vec<Option<u32>>> = new
                .columns
                .iter()
                .map(|c| vec![None; c.dict.len()])
                .collect();
            let mut flag_codes = vec![None; new.flags.dict.len()];
            let mut upsert = |d: &mut Diff, r: usize| {
                for (k, col) in new.columns.iter().enumerate() {
                    let c = col.codes[r] as usize;
                    let code =
                        *codes[k][c].get_or_insert_with(|| d.upserts.intern(k, &col.dict[c]));
                    d.upserts.columns[k].codes.push(code);
                }
                let f = new.flags.codes[r] as usize;
                let flag =
                    *flag_codes[f].get_or_insert_with(|| d.upserts.intern_flag(&new.flags.dict[f]));
                d.upserts.flags.codes.push(flag);
                d.upserts.values.push(new.values[r]);
            };
            for r in 0..new.len() {
                match index.find(new, &map, r) {
                    Some(o) => {
                        seen[o] = true;
                        if !self.same_obs(o, new, r) {
                            d.changed += 1;
                            upsert(&mut d, r);
                        }
                    }
                    None => {
                        d.added += 1;
                        upsert(&mut d, r);
                    }
                }
            }
        }
        if !append {
            for (o, s) in seen.iter().enumerate() {
                if !s {
                    d.removed += 1;
                    d.removals.push_row_of(self, o);
                }
            }
        }
        Ok(d)
    }

    /// This content with `upserts` written over it and `removals` taken out.
    pub fn apply(&self, upserts: &Cube, removals: &Cube) -> Cube {
        let mut out = self.empty_like();
        let mut drop = vec![false; self.len()];
        if !removals.is_empty() || !upserts.is_empty() {
            let index = KeyIndex::of(self);
            for other in [removals, upserts] {
                let map = self.translate(other);
                for r in 0..other.len() {
                    if let Some(o) = index.find(other, &map, r) {
                        drop[o] = true;
                    }
                }
            }
        }
        for (r, d) in drop.iter().enumerate() {
            if !d {
                out.push_row_of(self, r);
            }
        }
        out.extend(upserts);
        out.compact();
        out
    }

    /// Drops dictionary entries no observation uses any more, so that a code in a
    /// dictionary always means the dataset carries it (a total, say).
    pub fn compact(&mut self) {
        for col in self
            .columns
            .iter_mut()
            .chain(std::iter::once(&mut self.flags))
        {
            let mut used = vec![false; col.dict.len()];
            for &c in &col.codes {
                used[c as usize] = true;
            }
            if used.iter().all(|u| *u) {
                continue;
            }
            let mut fresh = Column::default();
            let map: Vec<u32> = col
                .dict
                .iter()
                .zip(&used)
                .map(|(d, u)| if *u { fresh.intern(d) } else { u32::MAX })
                .collect();
            fresh.codes = col.codes.iter().map(|&c| map[c as usize]).collect();
            *col = fresh;
        }
    }

    /// The form a chunk is stored in: [`Cube::encode`], compressed (LZ4).
    pub fn to_chunk(&self) -> Vec<u8> {
        lz4_flex::compress_prepend_size(&self.encode())
    }

    pub fn from_chunk(bytes: &[u8]) -> Result<Cube, ChunkError> {
        let raw = lz4_flex::decompress_size_prepended(bytes)
            .map_err(|_| ChunkError("not LZ4-compressed"))?;
        Cube::decode(&raw)
    }

    /// A compact byte form: dictionaries, then codes, values and flags, little-endian.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() * (self.dims.len() * 2 + 9) + 64);
        put_u32(&mut out, self.dims.len() as u32);
        put_u32(&mut out, self.len() as u32);
        for (name, col) in self.dims.iter().zip(&self.columns) {
            put_str(&mut out, name);
            put_column(&mut out, col);
        }
        put_column(&mut out, &self.flags);
        for v in &self.values {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Cube, ChunkError> {
        let mut r = Reader { bytes, pos: 0 };
        let ndims = r.u32()? as usize;
        let len = r.u32()? as usize;
        let mut dims = Vec::with_capacity(ndims);
        let mut columns = Vec::with_capacity(ndims);
        for _ in 0..ndims {
            dims.push(r.str()?);
            columns.push(r.column(len)?);
        }
        let flags = r.column(len)?;
        let raw = r.take(len * 8)?;
        let values = raw
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect();
        Ok(Cube {
            dims,
            columns,
            values,
            flags,
        })
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

/// Codes take 1, 2 or 4 bytes each, by dictionary size.
fn put_column(out: &mut Vec<u8>, col: &Column) {
    put_u32(out, col.dict.len() as u32);
    for d in &col.dict {
        put_str(out, d);
    }
    let width = code_width(col.dict.len());
    for &c in &col.codes {
        out.extend_from_slice(&c.to_le_bytes()[..width]);
    }
}

fn code_width(dict_len: usize) -> usize {
    match dict_len {
        0..=256 => 1,
        257..=65536 => 2,
        _ => 4,
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ChunkError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(ChunkError("truncated"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, ChunkError> {
        Ok(u32::from_le_bytes(
            self.take(4)?
                .try_into()
                .map_err(|_| ChunkError("truncated"))?,
        ))
    }
    fn str(&mut self) -> Result<String, ChunkError> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| ChunkError("text is not UTF-8"))
    }
    fn column(&mut self, len: usize) -> Result<Column, ChunkError> {
        let n = self.u32()? as usize;
        let dict = (0..n).map(|_| self.str()).collect::<Result<Vec<_>, _>>()?;
        let width = code_width(n);
        let raw = self.take(len * width)?;
        let codes: Vec<u32> = raw
            .chunks_exact(width)
            .map(|c| {
                let mut b = [0u8; 4];
                b[..width].copy_from_slice(c);
                u32::from_le_bytes(b)
            })
            .collect();
        if codes.iter().any(|&c| c as usize >= n) {
            return Err(ChunkError("code outside its dictionary"));
        }
        Ok(Column::from_parts(dict, codes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cube(rows: &[(&str, &str, Option<f64>)]) -> Cube {
        let mut c = Cube::new(vec!["period".into(), "geo".into()]);
        for (p, g, v) in rows {
            c.push(&[p, g], *v, if v.is_none() { "c" } else { "" });
        }
        c
    }

    #[test]
    fn a_cube_survives_its_byte_form() {
        let c = cube(&[("2015", "DEU", Some(5.0)), ("2016", "FRA", None)]);
        let back = Cube::decode(&c.encode()).unwrap();
        assert_eq!(back.key(1), vec!["2016", "FRA"]);
        assert_eq!(back.value(0), Some(5.0));
        assert_eq!(back.value(1), None);
        assert_eq!(back.flag(1), "c");
        assert!(Cube::decode(&c.encode()[..20]).is_err());
    }

    #[test]
    fn a_replacement_counts_added_changed_removed_and_keeps_only_the_difference() {
        let old = cube(&[
            ("2015", "DEU", Some(5.0)),
            ("2015", "FRA", Some(7.0)),
            ("2015", "ITA", Some(1.0)),
        ]);
        let new = cube(&[
            ("2015", "DEU", Some(5.0)),
            ("2015", "FRA", Some(8.0)),
            ("2016", "ITA", Some(1.0)),
        ]);
        let d = old.diff(&new);
        assert_eq!((d.added, d.changed, d.removed), (1, 1, 1));
        assert_eq!(
            d.upserts.len(),
            2,
            "the unchanged DEU observation is not copied"
        );
        let applied = old.apply(&d.upserts, &d.removals);
        let mut got: Vec<_> = (0..applied.len())
            .map(|r| (applied.key(r).join("/"), applied.value(r)))
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            vec![
                ("2015/DEU".into(), Some(5.0)),
                ("2015/FRA".into(), Some(8.0)),
                ("2016/ITA".into(), Some(1.0))
            ]
        );
    }
}
