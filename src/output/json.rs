/*!
Long JSON arrays written with their items serialised side by side.

The findings of a whole 5M-event store are over 100 MB of pretty JSON, and a week's report.json
more: serialising them on one core was the last second or more of `analyze` and `report`, with
the other core idle. Items are independent, so each batch of items is serialised on rayon's
workers into buffers that are then written in order.

The bytes are exactly those `serde_json::to_writer_pretty` (or `to_writer`, one item a line)
writes: the tests compare the two.
*/

use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;

/// Items serialised per batch: buffers for one batch are in memory at a time.
const BATCH: usize = 16_384;
/// Items per rayon task within a batch.
const TASK: usize = 512;

/// `items` (each as `map` makes it) as a pretty JSON array, laid out as `serde_json`'s pretty
/// printer lays it out `depth` levels deep (0: the whole document; 1: the value of a field of the
/// top-level object). No newline is written after the closing bracket.
pub fn write_pretty_array<'a, T, R, W>(
    out: &mut W,
    items: &'a [T],
    depth: usize,
    map: impl Fn(&'a T) -> R + Sync,
) -> io::Result<()>
where
    T: Sync,
    R: Serialize,
    W: Write + ?Sized,
{
    pretty_array(out, items, depth, |item, _, buf| {
        // Serialised straight into the batch's buffer, already at the item's depth.
        map(item).serialize(&mut serde_json::Serializer::with_formatter(
            buf,
            Pretty::at(depth + 1),
        ))
    })
}

/// [`write_pretty_array`] for items that write themselves: `write(item, indent, buf)` appends
/// the item as `serde_json`'s pretty printer lays it out, its first line already indented and its
/// other lines starting with `indent` (the indent of that first line). For arrays of hundreds of
/// thousands of small objects of one shape, where serde's machinery costs more than the bytes.
pub fn write_pretty_array_by<'a, T, W>(
    out: &mut W,
    items: &'a [T],
    depth: usize,
    write: impl Fn(&'a T, &[u8], &mut Vec<u8>) + Sync,
) -> io::Result<()>
where
    T: Sync,
    W: Write + ?Sized,
{
    pretty_array(out, items, depth, |item, indent, buf| {
        write(item, indent, buf);
        Ok(())
    })
}

/// The brackets, separators and indents of a pretty array `depth` levels deep, each item
/// rendered by `render(item, indent, buf)` after its first line's indent.
fn pretty_array<'a, T, W>(
    out: &mut W,
    items: &'a [T],
    depth: usize,
    render: impl Fn(&'a T, &[u8], &mut Vec<u8>) -> serde_json::Result<()> + Sync,
) -> io::Result<()>
where
    T: Sync,
    W: Write + ?Sized,
{
    if items.is_empty() {
        return out.write_all(b"[]");
    }
    let indent = "  ".repeat(depth + 1).into_bytes();
    out.write_all(b"[")?;
    in_batches(out, items, |k, item, buf| {
        buf.extend_from_slice(if k == 0 { b"\n" } else { b",\n" });
        buf.extend_from_slice(&indent);
        render(item, &indent, buf)
    })?;
    out.write_all(b"\n")?;
    out.write_all(&indent[2..])?;
    out.write_all(b"]")
}

/// `s` as a JSON string, escaped exactly as `serde_json` escapes it.
pub fn push_str(buf: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail, and a `&str` always serialises.
    let _ = serde_json::to_writer(&mut *buf, s);
}

/// `serde_json`'s pretty layout (two spaces an indent) for a value that starts `depth` levels
/// deep, the same bytes as `serde_json::to_vec_pretty` with every line after the first indented
/// `depth` more. Its rules are serde_json's `PrettyFormatter`'s, which cannot start at a depth:
/// serialising each item on its own and indenting its lines afterwards copied every byte of a
/// 100 MB findings file twice.
struct Pretty {
    depth: usize,
    has_value: bool,
}

impl Pretty {
    fn at(depth: usize) -> Pretty {
        Pretty {
            depth,
            has_value: false,
        }
    }

    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            self.indent(w)?;
        }
        w.write_all(bracket)
    }

    fn next<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(w)
    }

    fn indent<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.next(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.next(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// `items` (each as `map` makes it) as JSON Lines: one compact JSON value and a newline each.
pub fn write_lines<'a, T, R, W>(
    out: &mut W,
    items: &'a [T],
    map: impl Fn(&'a T) -> R + Sync,
) -> io::Result<()>
where
    T: Sync,
    R: Serialize,
    W: Write + ?Sized,
{
    in_batches(out, items, |_, item, buf| {
        serde_json::to_writer(&mut *buf, &map(item))?;
        buf.push(b'\n');
        Ok(())
    })
}

/// Render every item into buffers side by side, a batch at a time, and write them in item order.
/// `render` gets each item's index in `items`.
fn in_batches<'a, T, W>(
    out: &mut W,
    items: &'a [T],
    render: impl Fn(usize, &'a T, &mut Vec<u8>) -> serde_json::Result<()> + Sync,
) -> io::Result<()>
where
    T: Sync,
    W: Write + ?Sized,
{
    for (b, batch) in items.chunks(BATCH).enumerate() {
        let buffers = batch
            .par_chunks(TASK)
            .enumerate()
            .map(|(t, task)| {
                let mut buf = Vec::new();
                for (i, item) in task.iter().enumerate() {
                    render(b * BATCH + t * TASK + i, item, &mut buf)?;
                }
                Ok(buf)
            })
            .collect::<serde_json::Result<Vec<Vec<u8>>>>()?;
        for buf in buffers {
            out.write_all(&buf)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items(n: usize) -> Vec<serde_json::Value> {
        (0..n)
            .map(|i| {
                json!({
                    "n": i,
                    "text": format!("line one\nline \"two\" \u{e9} {i}"),
                    "empty": [],
                    "ids": (0..i % 3).map(|k| format!("e-{k}")).collect::<Vec<_>>(),
                    "nested": {"a": null, "b": [1, {"c": {}}]},
                })
            })
            .collect()
    }

    #[test]
    fn pretty_arrays_are_what_serde_json_writes_at_any_depth() {
        // Around the batch and task sizes, so items from several tasks and batches are joined.
        for n in [0, 1, 2, TASK + 1, BATCH + 3] {
            let v = items(n);
            let mut got = Vec::new();
            write_pretty_array(&mut got, &v, 0, |x| x).unwrap();
            assert!(
                got == serde_json::to_vec_pretty(&v).unwrap(),
                "depth 0, {n} items"
            );

            // As the value of a field of the top-level object.
            let mut got = b"{\n  \"before\": 1,\n  \"items\": ".to_vec();
            write_pretty_array(&mut got, &v, 1, |x| x).unwrap();
            got.extend_from_slice(b"\n}");
            let want = serde_json::to_vec_pretty(&json!({"before": 1, "items": v})).unwrap();
            assert!(got == want, "depth 1, {n} items");
        }
    }

    #[test]
    fn json_lines_are_one_compact_value_a_line() {
        let v = items(TASK * 2 + 5);
        let mut got = Vec::new();
        write_lines(&mut got, &v, |x| x).unwrap();
        let mut want = Vec::new();
        for x in &v {
            serde_json::to_writer(&mut want, x).unwrap();
            want.push(b'\n');
        }
        assert!(got == want);
    }

    #[test]
    fn items_are_mapped_before_they_are_written() {
        let mut got = Vec::new();
        write_pretty_array(&mut got, &[1, 2], 0, |x| x * 10).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), "[\n  10,\n  20\n]");
    }
}
