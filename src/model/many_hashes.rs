/*!
BLAKE3 of many short messages at once: the event ids of a parsed batch.

`blake3::hash` of one message of a few hundred bytes compresses its 64-byte blocks one after
another, one message at a time: 9% of ingest's CPU went there. BLAKE3's SIMD kernel
(`hash_many`, 16 lanes with AVX-512, 8 with AVX2) compresses one block of up to 16 messages at
once, but only full blocks of messages of one length, and every message's last block is
compressed with its own length. So the messages of a batch are grouped by their number of full
blocks before the last one; each group's leading blocks go through `hash_many`, and each
message's last block is then compressed on its own, exactly as `blake3::hash` finishes it. The
result is the same hash, byte for byte (checked against `blake3::hash` for every length up to
two chunks below). On the Intel Xeon of bench/NOTES.md a batch of 4,096 messages of 380-620
bytes hashed in 210 ns a message against 734 one by one, and the ids' share of ingest's samples
fell from 9.1% to 4.2%: about 6% less CPU for the whole ingest.

`hash_many` and `compress_in_place` are in `blake3::platform`, which blake3 exports but keeps out
of its documented API: Cargo.toml pins blake3's version for that reason, and the tests below fail
if a new version changes what they compute.
*/

use blake3::IncrementCounter;
use blake3::platform::Platform;

/// BLAKE3's block and chunk sizes; a message of at most one chunk is hashed here.
const BLOCK_LEN: usize = blake3::BLOCK_LEN;
const CHUNK_LEN: usize = blake3::CHUNK_LEN;
/// Blocks of a chunk.
const CHUNK_BLOCKS: usize = CHUNK_LEN / BLOCK_LEN;
/// BLAKE3's initial chaining value (the hash mode's key) and domain flags, from the
/// specification.
const IV: [u32; 8] = [
    0x6A09_E667,
    0xBB67_AE85,
    0x3C6E_F372,
    0xA54F_F53A,
    0x510E_527F,
    0x9B05_688C,
    0x1F83_D9AB,
    0x5BE0_CD19,
];
const CHUNK_START: u8 = 1 << 0;
const CHUNK_END: u8 = 1 << 1;
const ROOT: u8 = 1 << 3;

/// Messages laid end to end, hashed together by [`Messages::hash_into`].
#[derive(Debug, Default)]
pub struct Messages {
    bytes: Vec<u8>,
    /// Where each message starts in `bytes`; it ends where the next starts.
    starts: Vec<usize>,
    /// Message numbers by their full blocks before the last one (reused from batch to batch).
    groups: [Vec<usize>; CHUNK_BLOCKS],
}

impl Messages {
    /// Empty, with room for `messages` messages of `bytes` bytes in all.
    pub fn with_capacity(messages: usize, bytes: usize) -> Messages {
        Messages {
            bytes: Vec::with_capacity(bytes),
            starts: Vec::with_capacity(messages),
            ..Messages::default()
        }
    }

    /// Append one message.
    pub fn push(&mut self, message: &[u8]) {
        self.starts.push(self.bytes.len());
        self.bytes.extend_from_slice(message);
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    fn message(&self, i: usize) -> &[u8] {
        let end = self.starts.get(i + 1).copied().unwrap_or(self.bytes.len());
        &self.bytes[self.starts[i]..end]
    }

    /// The BLAKE3 hash of every message, in order, into `out` (one place a message; each hash as
    /// `hash` maps it), then start over empty.
    pub fn hash_into<T>(&mut self, out: &mut [T], hash: impl Fn(&[u8; 32]) -> T) {
        assert_eq!(out.len(), self.len(), "one place for each message's hash");
        let platform = Platform::detect();
        let mut groups = std::mem::take(&mut self.groups);
        for g in &mut groups {
            g.clear();
        }
        for (i, slot) in out.iter_mut().enumerate() {
            let m = self.message(i);
            match m.len() {
                len @ 1..=CHUNK_LEN => groups[(len - 1) / BLOCK_LEN].push(i),
                // Empty, or more than one chunk (a tree of chunks): as one message.
                _ => *slot = hash(blake3::hash(m).as_bytes()),
            }
        }
        let mut cvs: Vec<[u32; 8]> = Vec::new();
        for (full, group) in groups.iter().enumerate() {
            if group.is_empty() {
                continue;
            }
            let messages: Vec<&[u8]> = group.iter().map(|&i| self.message(i)).collect();
            leading_blocks(platform, full, &messages, &mut cvs);
            for ((cv, m), &i) in cvs.iter_mut().zip(&messages).zip(group) {
                // The last 1-64 bytes, zero-padded, with their length: as blake3's chunk state
                // finishes a chunk that fits in one.
                let last = &m[full * BLOCK_LEN..];
                let mut block = [0u8; BLOCK_LEN];
                block[..last.len()].copy_from_slice(last);
                let start = if full == 0 { CHUNK_START } else { 0 };
                platform.compress_in_place(
                    cv,
                    &block,
                    last.len() as u8,
                    0,
                    start | CHUNK_END | ROOT,
                );
                let mut bytes = [0u8; 32];
                for (b, w) in bytes.chunks_exact_mut(4).zip(cv.iter()) {
                    b.copy_from_slice(&w.to_le_bytes());
                }
                out[i] = hash(&bytes);
            }
        }
        self.groups = groups;
        self.bytes.clear();
        self.starts.clear();
    }
}

/// The chaining value of each message after its first `full` blocks (all messages have more than
/// that many bytes), into `cvs`.
fn leading_blocks(platform: Platform, full: usize, messages: &[&[u8]], cvs: &mut Vec<[u32; 8]>) {
    cvs.clear();
    if full == 0 {
        cvs.resize(messages.len(), IV);
        return;
    }
    let mut out = vec![0u8; messages.len() * 32];
    // `hash_many` takes the messages as arrays of one length, known at compile time.
    match full {
        1 => many::<64>(platform, messages, &mut out),
        2 => many::<128>(platform, messages, &mut out),
        3 => many::<192>(platform, messages, &mut out),
        4 => many::<256>(platform, messages, &mut out),
        5 => many::<320>(platform, messages, &mut out),
        6 => many::<384>(platform, messages, &mut out),
        7 => many::<448>(platform, messages, &mut out),
        8 => many::<512>(platform, messages, &mut out),
        9 => many::<576>(platform, messages, &mut out),
        10 => many::<640>(platform, messages, &mut out),
        11 => many::<704>(platform, messages, &mut out),
        12 => many::<768>(platform, messages, &mut out),
        13 => many::<832>(platform, messages, &mut out),
        14 => many::<896>(platform, messages, &mut out),
        _ => many::<960>(platform, messages, &mut out),
    }
    cvs.extend(out.chunks_exact(32).map(|b| {
        let mut cv = [0u32; 8];
        for (w, b) in cv.iter_mut().zip(b.chunks_exact(4)) {
            *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        cv
    }));
}

/// `hash_many` over the first `N` bytes of each message: the first block flagged as a chunk's
/// start, none as its end, every message at chunk counter 0 (each is a whole message).
fn many<const N: usize>(platform: Platform, messages: &[&[u8]], out: &mut [u8]) {
    let inputs: Vec<&[u8; N]> = messages
        .iter()
        .map(|m| m.first_chunk::<N>().expect("grouped by length"))
        .collect();
    platform.hash_many(
        &inputs,
        &IV,
        0,
        IncrementCounter::No,
        0,
        CHUNK_START,
        0,
        out,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(messages: &[&[u8]]) -> Vec<[u8; 32]> {
        let mut batch = Messages::default();
        for m in messages {
            batch.push(m);
        }
        let mut out = vec![[0u8; 32]; batch.len()];
        batch.hash_into(&mut out, |h| *h);
        assert!(batch.is_empty());
        out
    }

    /// Bytes that are not all alike, so that a wrong offset changes the hash.
    fn data(n: usize) -> Vec<u8> {
        (0..n as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect()
    }

    #[test]
    fn every_length_hashes_as_blake3_does() {
        // Every length from empty to over two chunks, at shifting offsets, in one batch: each
        // group of one number of full blocks, the empty message and multi-chunk ones together.
        let data = data(3000);
        let messages: Vec<&[u8]> = (0..=2 * CHUNK_LEN + 70)
            .map(|len| &data[len % 11..len % 11 + len])
            .collect();
        let got = ours(&messages);
        for (m, h) in messages.iter().zip(&got) {
            assert_eq!(h, blake3::hash(m).as_bytes(), "length {}", m.len());
        }
    }

    #[test]
    fn batches_of_one_length_and_reuse_hash_as_blake3_does() {
        // More messages of one length than a SIMD pass takes (16), then an uneven remainder,
        // through the same batch twice.
        let data = data(2000);
        let mut batch = Messages::default();
        for round in 0..2 {
            let messages: Vec<&[u8]> = (0..37).map(|i| &data[i + round..i + round + 449]).collect();
            for m in &messages {
                batch.push(m);
            }
            let mut out = vec![[0u8; 32]; 37];
            batch.hash_into(&mut out, |h| *h);
            for (m, h) in messages.iter().zip(&out) {
                assert_eq!(h, blake3::hash(m).as_bytes());
            }
        }
        batch.hash_into(&mut [], |h| *h);
        assert!(batch.is_empty());
    }
}
