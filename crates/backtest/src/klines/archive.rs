//! The one file inside a kline zip, as an owned, streaming reader.
//!
//! `zip::ZipArchive` reads the central directory (names, sizes, method,
//! CRC-32, where the data starts), but its entry reader borrows the archive,
//! which an iterator that outlives [`open_entry`] cannot hold. So the entry is
//! read here from the file itself: seek to its data, `take` the compressed
//! size, inflate it (deflated) or pass it through (stored), and check the size
//! and CRC-32 at the end of the stream; a mismatch is a read error.
//!
//! Invariants: the archive holds exactly one file (directories aside), neither
//! encrypted nor compressed by anything but deflate; memory is the inflater's
//! state and its buffer, whatever the entry's size.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use flate2::read::DeflateDecoder;
use zip::{CompressionMethod, ZipArchive};

use crate::KlineError;

/// The decompressed bytes of the single file in the zip `file` (at `path`).
pub(crate) fn open_entry(path: &Path, file: File) -> Result<Box<dyn Read>, KlineError> {
    let refuse = |reason: String| KlineError::Zip {
        path: path.to_path_buf(),
        reason,
    };
    let mut archive =
        ZipArchive::new(file).map_err(|e| refuse(format!("not a readable zip archive ({e})")))?;
    let mut names = Vec::new();
    let mut found = None;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| refuse(format!("entry {i} cannot be read ({e})")))?;
        if entry.is_dir() {
            continue;
        }
        found = Some(i);
        names.push(entry.name().map(|n| n.into_owned()).unwrap_or_default());
    }
    let index = match (found, names.len()) {
        (Some(i), 1) => i,
        (_, 0) => return Err(refuse("it holds no file, expected exactly one".to_string())),
        (_, n) => {
            return Err(refuse(format!(
                "it holds {n} files ({}), expected exactly one",
                names.join(", ")
            )))
        }
    };
    let entry = archive
        .by_index_raw(index)
        .map_err(|e| refuse(format!("entry {index} cannot be read ({e})")))?;
    if entry.encrypted() {
        return Err(refuse("its file is encrypted".to_string()));
    }
    let method = entry.compression();
    let Some(start) = entry.data_start() else {
        return Err(refuse(
            "the start of its file's data is unknown".to_string(),
        ));
    };
    let check = Check {
        name: names.concat(),
        size: entry.size(),
        crc32: entry.crc32(),
        seen: 0,
        hasher: crc32fast::Hasher::new(),
        done: false,
    };
    let compressed = entry.compressed_size();
    drop(entry);
    let mut file = archive.into_inner();
    file.seek(SeekFrom::Start(start))
        .map_err(|source| KlineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    let body = file.take(compressed);
    Ok(match method {
        CompressionMethod::Stored => Box::new(Checked { inner: body, check }),
        CompressionMethod::Deflated => Box::new(Checked {
            inner: DeflateDecoder::new(body),
            check,
        }),
        other => {
            return Err(refuse(format!(
                "compression method {other} is not supported"
            )))
        }
    })
}

/// The expected size and CRC-32 of an entry, and what was read so far.
struct Check {
    name: String,
    size: u64,
    crc32: u32,
    seen: u64,
    hasher: crc32fast::Hasher,
    done: bool,
}

/// `inner`, hashed as it is read; at its end, a size or CRC-32 mismatch is an
/// `InvalidData` error.
struct Checked<R> {
    inner: R,
    check: Check,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let c = &mut self.check;
        if n > 0 {
            let read = buf.get(..n).unwrap_or_default();
            c.hasher.update(read);
            c.seen += n as u64;
        } else if !buf.is_empty() && !c.done {
            c.done = true;
            let crc = std::mem::take(&mut c.hasher).finalize();
            if c.seen != c.size || crc != c.crc32 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "zip entry `{}` is corrupt: {} bytes with CRC-32 {crc:08x}, the archive says {} bytes with {:08x}",
                        c.name, c.seen, c.size, c.crc32
                    ),
                ));
            }
        }
        Ok(n)
    }
}
