//! Observations read from a file, kept in chunks: in memory while they are few, then in a
//! temporary file beside the uploads, so that reading a file of any size takes memory for a
//! chunk, the dictionaries and eight bytes per observation (for finding repeats), not for the
//! observations themselves.

use crate::ImportError;
use nansen_model::Cube;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::PathBuf;

/// Observations per chunk, as the store keeps them.
pub const CHUNK_ROWS: usize = 65_536;

/// Observations kept in memory before the chunks go to disk (about 50 MB).
const IN_MEMORY: u64 = 1 << 20;

/// A chunk in its stored form ([`Cube::to_chunk`]): how many observations it holds, its
/// bytes, and the file rows they came from.
type Stored = (u64, Vec<u8>, Vec<u32>);

/// Chunks read back one at a time.
type StoredChunks<'a> = Box<dyn Iterator<Item = Result<Stored, ImportError>> + 'a>;

/// Chunks, each with the file rows of its observations.
type ChunksWithRows<'a> = Box<dyn Iterator<Item = Result<(Cube, Vec<u32>), ImportError>> + 'a>;

/// One chunk: its observations (dictionaries narrowed to what they use) and the file row
/// each came from.
struct Chunk {
    cube: Cube,
    rows: Vec<u32>,
}

#[derive(Default)]
pub struct Spill {
    dims: Vec<String>,
    /// Where a temporary file goes once the chunks outgrow memory; none: always in memory.
    dir: Option<PathBuf>,
    held: Vec<Chunk>,
    file: Option<BufWriter<tempfile::NamedTempFile>>,
    observations: u64,
    /// The first observations, for showing a sample before anything is saved.
    head: Cube,
}

impl Spill {
    pub(crate) fn new(dims: Vec<String>, dir: Option<PathBuf>) -> Spill {
        Spill {
            head: Cube::new(dims.clone()),
            dims,
            dir,
            held: Vec::new(),
            file: None,
            observations: 0,
        }
    }

    pub fn dims(&self) -> &[String] {
        &self.dims
    }

    /// How many observations it holds.
    pub fn len(&self) -> u64 {
        self.observations
    }

    pub fn is_empty(&self) -> bool {
        self.observations == 0
    }

    /// Whether the chunks went to disk (the file was too large to hold).
    pub fn on_disk(&self) -> bool {
        self.file.is_some()
    }

    /// The first observations (up to a chunk's worth).
    pub fn head(&self) -> &Cube {
        &self.head
    }

    pub(crate) fn push(&mut self, cube: Cube, rows: Vec<u32>) -> Result<(), ImportError> {
        if cube.is_empty() {
            return Ok(());
        }
        if self.head.is_empty() {
            self.head = cube.clone();
        }
        self.observations += cube.len() as u64;
        self.held.push(Chunk { cube, rows });
        if self.file.is_none() && self.observations > IN_MEMORY {
            if let Some(dir) = &self.dir {
                self.file = Some(BufWriter::new(tempfile::NamedTempFile::new_in(dir)?));
            }
        }
        if let Some(file) = &mut self.file {
            for chunk in self.held.drain(..) {
                write_chunk(file, &chunk)?;
            }
        }
        Ok(())
    }

    /// The chunks on disk, read back from the start in their stored form; none while the
    /// chunks are still in memory.
    fn read_back_from_disk(&mut self) -> Result<Option<StoredChunks<'static>>, ImportError> {
        let Some(file) = &mut self.file else {
            return Ok(None);
        };
        file.flush()?;
        let mut read = file.get_ref().reopen()?;
        read.rewind()?;
        let mut read = BufReader::new(read);
        Ok(Some(Box::new(std::iter::from_fn(move || {
            read_chunk(&mut read).transpose()
        }))))
    }

    /// Each chunk with the file rows of its observations, in the order they were read; the
    /// chunks still in memory are handed out as they are, not encoded and decoded again.
    pub(crate) fn chunks_with_rows(&mut self) -> Result<ChunksWithRows<'_>, ImportError> {
        Ok(match self.read_back_from_disk()? {
            Some(stored) => Box::new(stored.map(|c| {
                let (_, bytes, rows) = c?;
                Ok((Cube::from_chunk(&bytes).map_err(damaged)?, rows))
            })),
            None => Box::new(
                self.held
                    .iter()
                    .map(|c| Ok((c.cube.clone(), c.rows.clone()))),
            ),
        })
    }

    /// Each chunk in its stored form ([`Cube::to_chunk`]) with how many observations it
    /// holds, in the order they were read: those on disk are saved as they are, without
    /// decoding them again.
    pub fn stored_chunks(
        &mut self,
    ) -> Result<impl Iterator<Item = Result<(u64, Vec<u8>), ImportError>> + '_, ImportError> {
        let stored: StoredChunks<'_> = match self.read_back_from_disk()? {
            Some(stored) => stored,
            None => Box::new(
                self.held
                    .iter()
                    .map(|c| Ok((c.cube.len() as u64, c.cube.to_chunk(), Vec::new()))),
            ),
        };
        Ok(stored.map(|c| c.map(|(observations, bytes, _)| (observations, bytes))))
    }

    /// Each chunk, in the order they were read.
    pub fn chunks(
        &mut self,
    ) -> Result<impl Iterator<Item = Result<Cube, ImportError>> + '_, ImportError> {
        Ok(self.chunks_with_rows()?.map(|c| c.map(|(cube, _)| cube)))
    }

    /// Every observation in one cube, in the order they were read.
    pub fn into_cube(mut self) -> Result<Cube, ImportError> {
        let mut all = Cube::new(self.dims.clone());
        if self.file.is_none() {
            for c in std::mem::take(&mut self.held) {
                all.extend(&c.cube);
            }
            return Ok(all);
        }
        for chunk in self.chunks()? {
            all.extend(&chunk?);
        }
        Ok(all)
    }
}

fn damaged(e: impl std::fmt::Display) -> ImportError {
    ImportError::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("the import's temporary file is damaged: {e}"),
    ))
}

fn write_chunk(out: &mut impl Write, chunk: &Chunk) -> std::io::Result<()> {
    let bytes = chunk.cube.to_chunk();
    out.write_all(&(chunk.cube.len() as u64).to_le_bytes())?;
    out.write_all(&(bytes.len() as u64).to_le_bytes())?;
    out.write_all(&bytes)?;
    out.write_all(&(chunk.rows.len() as u64).to_le_bytes())?;
    for r in &chunk.rows {
        out.write_all(&r.to_le_bytes())?;
    }
    Ok(())
}

fn read_u64(input: &mut impl Read) -> std::io::Result<u64> {
    let mut n = [0u8; 8];
    input.read_exact(&mut n)?;
    Ok(u64::from_le_bytes(n))
}

/// The next chunk as [`write_chunk`] wrote it: observations, stored bytes, file rows.
fn read_chunk(input: &mut impl Read) -> Result<Option<Stored>, ImportError> {
    let observations = match read_u64(input) {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        r => r?,
    };
    let mut bytes = vec![0u8; read_u64(input)? as usize];
    input.read_exact(&mut bytes)?;
    let mut rows = vec![0u8; read_u64(input)? as usize * 4];
    input.read_exact(&mut rows)?;
    let rows = rows
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(Some((observations, bytes, rows)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(from: usize, n: usize) -> Cube {
        let mut c = Cube::new(vec!["indicator".into(), "period".into()]);
        for i in from..from + n {
            c.push(&["x", &format!("p{i}")], Some(i as f64), "");
        }
        c
    }

    #[test]
    fn chunks_read_back_as_they_were_pushed_from_memory_and_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        for (where_, n) in [("memory", 3), ("disk", 40)] {
            let mut s = Spill::new(
                vec!["indicator".into(), "period".into()],
                Some(dir.path().into()),
            );
            for k in 0..n {
                s.push(
                    chunk(k * CHUNK_ROWS, CHUNK_ROWS),
                    vec![k as u32; CHUNK_ROWS],
                )
                .unwrap();
            }
            assert_eq!(s.on_disk(), where_ == "disk");
            assert_eq!(s.len(), (n * CHUNK_ROWS) as u64);
            let mut seen = 0;
            for (k, c) in s.chunks_with_rows().unwrap().enumerate() {
                let (cube, rows) = c.unwrap();
                assert_eq!(cube.len(), CHUNK_ROWS);
                assert_eq!(cube.key(0)[1], format!("p{}", k * CHUNK_ROWS), "{where_}");
                assert_eq!(rows[0], k as u32);
                seen += 1;
            }
            assert_eq!(seen, n, "{where_}");
            assert_eq!(s.into_cube().unwrap().len(), n * CHUNK_ROWS);
        }
    }
}
