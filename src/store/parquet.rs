/*!
The store's Parquet files (and `findings.parquet`), written row group by row group with an encoding
and a compression chosen per column ([`Layout`]; the store's is `LAYOUT` in src/store/writer.rs).

Polars' own writer (`ParquetWriter`) tries dictionary encoding on every string and integer column
and compresses every column alike. For most of the schema that is right (event types, actors and
addresses repeat), but not for `event_id` and `details`: `event_id` is distinct on every row, so
each row group's ids were hashed only to estimate their cardinality and give up, and every
`details` text was hashed into a dictionary (kept for about two thirds of the row groups, which
saves nothing once zstd has found the repeats). Those two columns get no dictionary, and their
pages are DELTA_LENGTH_BYTE_ARRAY, written by [`super::pages`] (as are the pages of a list of
strings, whose levels that module reads straight off the list's offsets). Integer columns whose
values mostly increase can be written as differences (DELTA_BINARY_PACKED), and columns that
compression does not shrink can be left uncompressed.

The other string columns get their dictionaries from [`dictionary_of`], which decides as polars
does but hashes each value at most once, and none in a run of equal values; pages are compressed
with one zstd context per thread ([`compress_page`]). Both produce the bytes polars' writer does
(the parts of a 1M-event ingest were byte-identical) for about a sixth less of the encoder's CPU.

Ingest writes each row group as it goes ([`ParquetFile::write`], on its encoder thread); a file
written at once can have its row groups encoded side by side first ([`ParquetFile::encode`]) and
then written in order ([`ParquetFile::write_encoded`]).

Every column keeps its min/max statistics, even where they prune nothing (random ids, JSON
texts): DuckDB 2.0 filtered out every row of a column written without them (`WHERE event_id =
'...'` found nothing), and polars' file writer wants the same statistics options for every column.
*/

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};

use polars::prelude::*;
use polars_arrow::array::{Array, DictionaryArray, PrimitiveArray, Utf8ViewArray};
use polars_arrow::datatypes::{ArrowDataType, IntegerType};
use polars_parquet::parquet::CowBuffer;
use polars_parquet::parquet::compression::Compression;
use polars_parquet::parquet::page::{CompressedDictPage, DataPageHeader};
use polars_parquet::write::{
    CompressedDataPage, CompressedPage, CompressionOptions, DynIter, DynStreamingIterator,
    Encoding, FallibleStreamingIterator, FileWriter, Page, ParquetType, StatisticsOptions, Version,
    WriteOptions, array_to_columns, compress, fallible_streaming_iterator, get_dtype_encoding,
};

use super::pages::{DEFAULT_PAGE_SIZE, delta_length, string_list};
use crate::error::Result;

/// Columns (by name) encoded or compressed otherwise than polars' writer would.
#[derive(Debug, Clone, Copy, Default)]
pub struct Layout<'a> {
    /// PLAIN: no dictionary attempt (values that rarely repeat).
    pub plain: &'a [&'a str],
    /// DELTA_LENGTH_BYTE_ARRAY (string columns only): no dictionary attempt either, and each
    /// page's lengths before its bytes, which zstd compresses better than PLAIN's interleaving
    /// (src/store/pages/delta_length.rs writes the pages).
    pub delta_length: &'a [&'a str],
    /// DELTA_BINARY_PACKED (integer columns only): differences from value to value, for values
    /// that mostly increase.
    pub delta: &'a [&'a str],
    /// Not compressed.
    pub uncompressed: &'a [&'a str],
    /// Data pages of about [`SMALL_PAGE`] bytes instead of polars' 1 MB: columns that scans read
    /// for a few of each row group's rows (see [`SMALL_PAGE`]).
    pub small_pages: &'a [&'a str],
    /// Text without repeats (hashes in hex), which zstd shrinks by entropy coding alone: its
    /// match finder is told to look for matches of [`RANDOM_TEXT_MIN_MATCH`] bytes at least.
    pub random_text: &'a [&'a str],
}

/// zstd's shortest match for [`Layout::random_text`] columns. At level 1 it looks for matches of
/// five bytes in pages as small as these, which random hex digits repeat by chance, and such
/// matches save nothing. From seven bytes up they are rare: the 1M-event store's ids (32 MB)
/// compress to the same 16.02 MB about 1.4 times as fast (`zstd -b`, bench/NOTES.md); the
/// instructions are as many, so the time went to branches the chance matches made unpredictable.
/// The frames are ordinary zstd frames: readers need no setting.
pub const RANDOM_TEXT_MIN_MATCH: u32 = 7;

/// Bytes per data page for [`Layout::small_pages`].
///
/// When a scan's predicate keeps clustered rows (the store's row groups are sorted by event
/// type, and analyses select a few types), polars decodes the other columns with the predicate's
/// mask and skips every page where the mask keeps no row, without decompressing it. With 1 MB
/// pages a `details` page held about 7,000 events, so reading the details of a rare type
/// decompressed thousands of other events' texts. 64 KiB pages (a few hundred events) took a
/// tenth to a sixth of the instructions off a week's analyses for 2-3% more store; 16 KiB pages
/// saved little more and cost 13% (bench/NOTES.md).
pub const SMALL_PAGE: usize = 64 * 1024;

/// How one column's pages are compressed.
#[derive(Debug, Clone, Copy)]
struct Codec {
    options: CompressionOptions,
    /// zstd's shortest match, where it is set ([`Layout::random_text`]).
    min_match: Option<u32>,
}

/// How one column is written.
struct ColumnPlan {
    type_: ParquetType,
    encodings: Vec<Encoding>,
    compression: Codec,
    /// `None`: polars' default page size.
    page_size: Option<usize>,
    /// The column's shape if it is a list of strings, whose pages [`string_list`] writes.
    string_list: Option<string_list::ListType>,
}

/// One leaf column's pages, encoded but not yet compressed.
type Pages = DynIter<'static, PolarsResult<Page>>;

/// One row group, encoded and compressed ([`ParquetFile::encode`]), waiting to be written.
pub struct EncodedRowGroup {
    rows: u64,
    /// The pages of each leaf column, in schema order.
    columns: Vec<Vec<CompressedPage>>,
}

/// A Parquet file being written: one row group per chunk of each frame handed to
/// [`ParquetFile::write`] or [`ParquetFile::encode`].
pub struct ParquetFile {
    /// Buffered: polars' writer writes each page header (and the footer) field by field, a
    /// system call each unbuffered: 200,000 of them for a 1M-event ingest (bench/NOTES.md).
    /// `None` once [`ParquetFile::finish`] has written the footer.
    writer: Option<FileWriter<BufWriter<File>>>,
    columns: Vec<ColumnPlan>,
    options: WriteOptions,
}

impl ParquetFile {
    /// A file of `schema`, compressed with `compression`, its columns encoded as polars would
    /// but where `layout` says otherwise.
    pub fn new(
        file: File,
        schema: &Schema,
        compression: CompressionOptions,
        layout: &Layout<'_>,
    ) -> Result<ParquetFile> {
        let arrow = schema.to_arrow(CompatLevel::newest());
        let options = WriteOptions {
            statistics: StatisticsOptions::default(),
            version: Version::V1,
            compression,
            data_page_size: None,
        };
        let encodings: Vec<(Vec<Encoding>, Codec, Option<usize>)> = arrow
            .iter_values()
            .map(|f| {
                let name = f.name.as_str();
                let mut encodings = get_dtype_encoding(&f.dtype);
                if layout.plain.contains(&name) {
                    encodings.fill(Encoding::Plain);
                }
                if layout.delta.contains(&name) {
                    encodings.fill(Encoding::DeltaBinaryPacked);
                }
                if layout.delta_length.contains(&name) {
                    encodings.fill(Encoding::DeltaLengthByteArray);
                }
                let compression = Codec {
                    options: match layout.uncompressed.contains(&name) {
                        true => CompressionOptions::Uncompressed,
                        false => compression,
                    },
                    min_match: layout
                        .random_text
                        .contains(&name)
                        .then_some(RANDOM_TEXT_MIN_MATCH),
                };
                let page_size = layout.small_pages.contains(&name).then_some(SMALL_PAGE);
                (encodings, compression, page_size)
            })
            .collect();
        let writer =
            FileWriter::try_new(BufWriter::with_capacity(WRITE_BUFFER, file), arrow, options)?;
        let columns = writer
            .parquet_schema()
            .fields()
            .iter()
            .zip(encodings)
            .map(|(type_, (encodings, compression, page_size))| ColumnPlan {
                type_: type_.clone(),
                encodings,
                compression,
                page_size,
                string_list: string_list::ListType::of(type_),
            })
            .collect();
        Ok(ParquetFile {
            writer: Some(writer),
            columns,
            options,
        })
    }

    /// Write `df`, one row group per chunk (empty chunks are skipped), each page compressed as
    /// the writer takes it.
    pub fn write(&mut self, df: &DataFrame) -> Result<()> {
        for batch in df.iter_chunks(CompatLevel::newest(), false) {
            let rows = batch.len();
            if rows == 0 {
                continue;
            }
            let leaves =
                self.leaves(batch.into_arrays())?
                    .into_iter()
                    .map(|(pages, compression)| {
                        Ok::<_, PolarsError>(DynStreamingIterator::new(Compressing {
                            pages,
                            compression,
                            current: None,
                        }))
                    });
            self.writer()?.write(rows as u64, DynIter::new(leaves))?;
        }
        Ok(())
    }

    /// `df` encoded and compressed, one row group per chunk (empty chunks are skipped), for
    /// [`ParquetFile::write_encoded`]. It needs only `&self`, so the row groups of a file can be
    /// encoded on several threads and then written in order.
    pub fn encode(&self, df: &DataFrame) -> Result<Vec<EncodedRowGroup>> {
        let mut groups = Vec::new();
        for batch in df.iter_chunks(CompatLevel::newest(), false) {
            let rows = batch.len() as u64;
            if rows == 0 {
                continue;
            }
            let columns = self
                .leaves(batch.into_arrays())?
                .into_iter()
                .map(|(pages, compression)| {
                    pages
                        .map(|page| compress_page(page?, compression))
                        .collect::<PolarsResult<Vec<_>>>()
                })
                .collect::<PolarsResult<Vec<_>>>()?;
            groups.push(EncodedRowGroup { rows, columns });
        }
        Ok(groups)
    }

    /// Write row groups made by [`ParquetFile::encode`], in the order given.
    pub fn write_encoded(&mut self, groups: &[EncodedRowGroup]) -> Result<()> {
        for group in groups {
            let leaves = group.columns.iter().map(|pages| {
                let pages = fallible_streaming_iterator::convert(pages.iter().map(Ok));
                Ok::<_, PolarsError>(DynStreamingIterator::new(pages))
            });
            self.writer()?.write(group.rows, DynIter::new(leaves))?;
        }
        Ok(())
    }

    /// One batch's arrays as pages with their compression, each leaf column (a list has one)
    /// encoded as planned: what polars' `row_group_iter` does, with errors returned rather than
    /// unwrapped, and with the dictionary of a string column built by [`dictionary_of`].
    fn leaves(&self, arrays: Vec<ArrayRef>) -> Result<Vec<(Pages, Codec)>> {
        let mut leaves = Vec::new();
        let truncate = self
            .options
            .statistics
            .binary_statistics_truncate_length_usize();
        for (array, plan) in arrays.into_iter().zip(&self.columns) {
            let page_size = plan.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
            if let (
                Some(strings),
                [Encoding::DeltaLengthByteArray],
                ParquetType::PrimitiveType(t),
            ) = (
                array.as_any().downcast_ref::<Utf8ViewArray>(),
                &plan.encodings[..],
                &plan.type_,
            ) {
                let pages = delta_length::pages(strings.clone(), t.clone(), page_size, truncate);
                leaves.push((DynIter::new(pages), plan.compression));
                continue;
            }
            // A list of strings PLAIN, as polars writes it, with the levels read off the offsets.
            if let (Some(list), Some(type_)) = (
                array.as_any().downcast_ref::<LargeListArray>(),
                &plan.string_list,
            ) {
                let pages = string_list::pages(list.clone(), type_.clone(), page_size, truncate);
                if let Some(pages) = pages {
                    leaves.push((DynIter::new(pages), plan.compression));
                    continue;
                }
            }
            let strings = (plan.encodings == [Encoding::RleDictionary])
                .then(|| array.as_any().downcast_ref::<Utf8ViewArray>())
                .flatten();
            let (array, encodings) = match strings.map(dictionary_of) {
                Some(Some(dictionary)) => (dictionary.boxed(), &plan.encodings[..]),
                // Too many distinct values to be worth a dictionary.
                Some(None) => (array, &[Encoding::Plain][..]),
                None => (array, &plan.encodings[..]),
            };
            let options = WriteOptions {
                data_page_size: plan.page_size,
                ..self.options
            };
            let pages = array_to_columns(array, plan.type_.clone(), options, encodings)?;
            leaves.extend(pages.into_iter().map(|p| (p, plan.compression)));
        }
        Ok(leaves)
    }

    /// Write the footer (with polars' Arrow schema, so the column types read back exactly).
    /// The file is then complete (flushed to the operating system; syncing it is the caller's
    /// choice) and takes no more rows.
    pub fn finish(&mut self) -> Result<()> {
        let mut writer = self.writer.take().ok_or_else(finished)?;
        writer.end(None)?;
        writer.into_inner().flush().map_err(PolarsError::from)?;
        Ok(())
    }

    fn writer(&mut self) -> Result<&mut FileWriter<BufWriter<File>>> {
        self.writer.as_mut().ok_or_else(finished)
    }
}

/// Bytes buffered before they are written to the file (one buffer per open file; ingest keeps a
/// file open for each day it is writing).
const WRITE_BUFFER: usize = 256 * 1024;

/// The error of writing to a [`ParquetFile`] after [`ParquetFile::finish`].
fn finished() -> crate::error::Error {
    polars_err!(InvalidOperation: "a Parquet file was written to after its footer").into()
}

/// A row group's string column as a dictionary array (keys into its distinct values, in order of
/// first appearance), or `None` when more than three quarters of its values are distinct, which
/// polars' writer also leaves PLAIN (or, which its construction rules out, when the array could
/// not be made: PLAIN is then still right).
///
/// Polars' writer decides this by hashing every value into a cardinality estimate and then hashing
/// every value again into the dictionary: 9% of ingest's CPU. Here a value equal to the previous
/// value reuses its key without hashing: first by its view (equal views are equal strings: the
/// same inline bytes, or the same bytes of the same buffer, as for `source_file`, one value
/// repeated, and the type, label and category, gathered from the catalog's columns), then by its
/// text (equal strings copied to different places: an actor's name on consecutive events, a type
/// the catalog does not know). The store's parts are sorted by event type, so the type columns
/// are long runs; only the other values are hashed, once. The dictionary holds only the values
/// present, so the row group's min/max statistics (what lets scans skip it) stay exact.
fn dictionary_of(array: &Utf8ViewArray) -> Option<DictionaryArray<u32>> {
    let n = array.len();
    let limit = if n > 128 { n * 3 / 4 } else { n };
    let views = array.views();
    let validity = array.validity().filter(|v| v.unset_bits() > 0);
    let mut keys: Vec<u32> = Vec::with_capacity(n);
    let mut values: Vec<&str> = Vec::new();
    let mut index: PlHashMap<&str, u32> = PlHashMap::default();
    let mut last: Option<(u128, &str, u32)> = None;
    for (i, view) in views.iter().enumerate() {
        if validity.is_some_and(|v| !v.get_bit(i)) {
            keys.push(0);
            continue;
        }
        let view = view.as_u128();
        let key = match last {
            Some((v, _, k)) if v == view => k,
            _ => {
                let value = array.value(i);
                if let Some((_, text, k)) = last.filter(|&(_, text, _)| text == value) {
                    last = Some((view, text, k));
                    keys.push(k);
                    continue;
                }
                let next = values.len() as u32;
                let key = *index.entry(value).or_insert(next);
                if key == next {
                    values.push(value);
                    if values.len() > limit {
                        return None;
                    }
                }
                last = Some((view, value, key));
                key
            }
        };
        keys.push(key);
    }
    let keys = PrimitiveArray::new(ArrowDataType::UInt32, keys.into(), validity.cloned());
    let values = Utf8ViewArray::from_slice_values(values);
    let dtype = ArrowDataType::Dictionary(
        IntegerType::UInt32,
        Box::new(ArrowDataType::Utf8View),
        false,
    );
    DictionaryArray::try_new(dtype, keys, values.boxed()).ok()
}

/// Pages compressed one at a time as the file writer takes them (what polars-parquet's
/// `Compressor` does, with [`compress_page`]).
struct Compressing {
    pages: Pages,
    compression: Codec,
    current: Option<CompressedPage>,
}

impl FallibleStreamingIterator for Compressing {
    type Item = CompressedPage;
    type Error = PolarsError;

    fn advance(&mut self) -> PolarsResult<()> {
        self.current = match self.pages.next() {
            Some(page) => Some(compress_page(page?, self.compression)?),
            None => None,
        };
        Ok(())
    }

    fn get(&self) -> Option<&CompressedPage> {
        self.current.as_ref()
    }
}

/// What a zstd context was set up for: the level and the shortest match, if set.
type ZstdSetting = (i32, Option<u32>);

thread_local! {
    /// Each encoding thread's zstd contexts, one for each setting it has compressed with (a few:
    /// the store's parts use two, and their columns alternate between them in every row group).
    static ZSTD: RefCell<Vec<(ZstdSetting, zstd::bulk::Compressor<'static>)>> = const { RefCell::new(Vec::new()) };
}

/// `page` compressed. zstd pages are compressed with the thread's own context: polars' `compress`
/// creates a context per page (each creation runs `cpuid`, slow on virtual machines) and zeroes
/// the output buffer first. The bytes are the same (unless a shortest match is set).
fn compress_page(page: Page, codec: Codec) -> PolarsResult<CompressedPage> {
    let compression = codec.options;
    let CompressionOptions::Zstd(level) = compression else {
        return Ok(compress(page, Vec::new(), compression)?);
    };
    if let Page::Data(data) = &page
        && !matches!(data.header(), DataPageHeader::V1(_))
    {
        // A V2 page keeps its levels uncompressed; polars knows how (this module writes V1).
        return Ok(compress(page, Vec::new(), compression)?);
    }
    let setting = (level.map_or(0, |l| l.compression_level()), codec.min_match);
    let zstd_bytes = |input: &[u8]| -> PolarsResult<Vec<u8>> {
        ZSTD.with(|cell| {
            let mut contexts = cell.borrow_mut();
            let at = match contexts.iter().position(|(s, _)| *s == setting) {
                Some(at) => at,
                None => {
                    let mut compressor = zstd::bulk::Compressor::new(setting.0)?;
                    if let Some(bytes) = setting.1 {
                        compressor.set_parameter(zstd::stream::raw::CParameter::MinMatch(bytes))?;
                    }
                    contexts.push((setting, compressor));
                    contexts.len() - 1
                }
            };
            let compressor = &mut contexts[at].1;
            let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(input.len()));
            compressor.compress_to_buffer(input, &mut out)?;
            Ok(out)
        })
    };
    Ok(match page {
        Page::Data(data) => {
            let out = zstd_bytes(data.buffer())?;
            let rows = data
                .num_rows
                .ok_or_else(|| polars_err!(ComputeError: "a data page without its row count"))?;
            CompressedPage::Data(CompressedDataPage::new(
                data.header().clone(),
                CowBuffer::Owned(out),
                Compression::Zstd,
                data.buffer().len(),
                data.descriptor.clone(),
                rows,
            ))
        }
        Page::Dict(dict) => {
            let out = zstd_bytes(&dict.buffer)?;
            CompressedPage::Dict(CompressedDictPage::new(
                CowBuffer::Owned(out),
                Compression::Zstd,
                dict.buffer.len(),
                dict.num_values,
                dict.is_sorted,
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use polars_parquet::parquet::statistics::Statistics;
    use polars_parquet::read::read_metadata;

    use super::*;

    /// The file at `path` as polars reads it.
    fn read_back(path: &std::path::Path) -> DataFrame {
        LazyFrame::scan_parquet_files(
            vec![PlRefPath::new(path.to_string_lossy().as_ref())].into(),
            ScanArgsParquet::default(),
        )
        .unwrap()
        .collect()
        .unwrap()
    }

    /// A zstd file of `schema` laid out as `layout`, in a temporary directory kept alive by the
    /// returned handle.
    fn new_file(
        schema: &Schema,
        layout: Layout<'_>,
    ) -> (tempfile::TempDir, std::path::PathBuf, ParquetFile) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        let file = ParquetFile::new(
            File::create(&path).unwrap(),
            schema,
            CompressionOptions::Zstd(None),
            &layout,
        )
        .unwrap();
        (dir, path, file)
    }

    /// The columns named plain or delta-length get no dictionary, the others keep polars'
    /// dictionary where it pays, the delta columns are written as differences, and the frame
    /// reads back exactly (types, nulls; delta-length pages of several blocks of lengths, the
    /// last one partial).
    #[test]
    fn plain_columns_have_no_dictionary_and_the_data_reads_back() {
        let n = 1000;
        let df = df!(
            "id" => (0..n).map(|i| format!("{i:040x}")).collect::<Vec<_>>(),
            "details" => (0..n).map(|i| format!("{{\"rule\":\"r-{}\"}}", i % 7)).collect::<Vec<_>>(),
            "actor" => (0..n).map(|i| (i % 5 != 0).then(|| format!("user{}@example.com", i % 3))).collect::<Vec<_>>(),
            "ns" => (0..n).map(|i| 1_776_000_000_000_000_000 + i64::from(i) * 1_234_567).collect::<Vec<_>>(),
            "line" => (0..n).map(|i| (i % 9 != 0).then_some(i as u64 + 2)).collect::<Vec<_>>(),
            "text" => (0..n).map(|i| (i % 13 != 4).then(|| "ab".repeat((i % 3 * 9) as usize))).collect::<Vec<_>>(),
        )
        .unwrap();
        let (_dir, path, mut f) = new_file(
            df.schema(),
            Layout {
                plain: &["id", "details"],
                delta_length: &["text"],
                delta: &["ns", "line"],
                uncompressed: &["ns", "line"],
                small_pages: &[],
                random_text: &["id"],
            },
        );
        // Two chunks: two row groups.
        f.write(&df.slice(0, 600)).unwrap();
        f.write(&df.slice(600, 400)).unwrap();
        f.finish().unwrap();

        let meta = read_metadata(&mut File::open(&path).unwrap()).unwrap();
        assert_eq!(meta.row_groups.len(), 2);
        let dictionary: BTreeMap<String, bool> = meta.row_groups[0]
            .parquet_columns()
            .iter()
            .map(|c| {
                (
                    c.descriptor().path_in_schema[0].to_string(),
                    c.dictionary_page_offset().is_some(),
                )
            })
            .collect();
        assert!(!dictionary["id"]);
        // Three distinct values.
        assert!(!dictionary["text"]);
        // Seven distinct values in 600: polars' choice would be a dictionary.
        assert!(!dictionary["details"]);
        assert!(dictionary["actor"]);
        // 600 values of 8 bytes, uncompressed: only differences take this little room.
        for c in &meta.row_groups[0].parquet_columns()[3..5] {
            assert!(!dictionary[c.descriptor().path_in_schema[0].as_str()]);
            assert!(
                c.uncompressed_size() < 600 * 8 / 4,
                "{}",
                c.uncompressed_size()
            );
        }

        assert!(read_back(&path).equals_missing(&df));
    }

    /// A column named for small pages is cut into pages of about [`SMALL_PAGE`] bytes where the
    /// others keep polars' 1 MB, and a scan that keeps a few clustered rows (one type's, as the
    /// analyses' scans do) reads them back right: the same rows and texts as the whole file has.
    #[test]
    fn small_page_columns_are_cut_small_and_filtered_scans_read_them_right() {
        let n = 6000;
        let text = |i: usize| format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 50 + 60));
        let kind = |i: usize| match i {
            0..3000 => "a",
            3000..3040 => "rare",
            _ => "z",
        };
        let df = df!(
            "event_type" => (0..n).map(kind).collect::<Vec<_>>(),
            "details" => (0..n).map(text).collect::<Vec<_>>(),
            "other" => (0..n).map(text).collect::<Vec<_>>(),
        )
        .unwrap();
        let (_dir, path, mut f) = new_file(
            df.schema(),
            Layout {
                plain: &["details", "other"],
                small_pages: &["details"],
                ..Layout::default()
            },
        );
        // About 600 KB of texts in one row group: one page by default, ten or so small ones.
        let groups = f.encode(&df).unwrap();
        let pages: Vec<usize> = groups[0].columns.iter().map(Vec::len).collect();
        assert_eq!(pages[2], 1, "{pages:?}");
        let bytes: usize = (0..n).map(|i| text(i).len()).sum();
        assert!(
            (bytes / SMALL_PAGE..=bytes / SMALL_PAGE + 2).contains(&pages[1]),
            "{pages:?} for {bytes} bytes"
        );
        f.write_encoded(&groups).unwrap();
        f.finish().unwrap();

        assert!(read_back(&path).equals(&df));
        let rare = LazyFrame::scan_parquet_files(
            vec![PlRefPath::new(path.to_string_lossy().as_ref())].into(),
            ScanArgsParquet::default(),
        )
        .unwrap()
        .filter(col("event_type").eq(lit("rare")))
        .collect()
        .unwrap();
        assert!(rare.equals(&df.slice(3000, 40)), "{rare}");
    }

    /// A finished file is complete on disk (its buffer flushed), and rows handed to it afterwards
    /// are an error rather than a panic or a second footer.
    #[test]
    fn a_finished_file_is_whole_and_takes_no_more_rows() {
        let df = df!("id" => ["a", "b", "c"], "n" => [1i64, 2, 3]).unwrap();
        let (_dir, path, mut f) = new_file(df.schema(), Layout::default());
        f.write(&df).unwrap();
        f.finish().unwrap();
        assert!(read_back(&path).equals(&df));
        assert!(f.write(&df).is_err());
        assert!(
            f.encode(&df).is_ok(),
            "encoding alone does not touch the file"
        );
        assert!(f.finish().is_err());
        assert!(read_back(&path).equals(&df));
    }

    /// A string column's dictionary: runs, repeats apart, equal long strings in different places
    /// of the buffer and nulls all map to the right value, and only the values present are in it.
    #[test]
    fn dictionaries_hold_each_value_present_once() {
        let long = "a value longer than twelve bytes";
        let rows = [
            Some("b"),
            Some("b"),
            None,
            Some(long),
            Some("a"),
            Some(long),
            Some(long),
            Some("b"),
            None,
            Some("b"),
            Some(long),
        ];
        let array = Utf8ViewArray::arr_from_iter(rows.iter().copied());
        let dict = dictionary_of(&array).expect("three values in eleven rows");
        let values = dict
            .values()
            .as_any()
            .downcast_ref::<Utf8ViewArray>()
            .unwrap();
        let values: Vec<&str> = values.values_iter().collect();
        assert_eq!(values, ["b", long, "a"]);
        let back: Vec<Option<&str>> = (0..dict.len())
            .map(|i| dict.keys().get(i).map(|k| values[k as usize]))
            .collect();
        assert_eq!(back, rows);

        // Only nulls: an empty dictionary.
        let nulls = Utf8ViewArray::arr_from_iter([None::<&str>, None]);
        let dict = dictionary_of(&nulls).expect("nothing distinct");
        assert_eq!((dict.values().len(), dict.keys().null_count()), (0, 2));

        // Mostly distinct values are not worth a dictionary, as polars' writer decides.
        let distinct: Vec<String> = (0..1000).map(|i| format!("value {i}")).collect();
        assert!(dictionary_of(&Utf8ViewArray::from_slice_values(&distinct)).is_none());
        let mut repeated = distinct[..700].to_vec();
        repeated.extend(distinct[..300].iter().cloned());
        assert!(dictionary_of(&Utf8ViewArray::from_slice_values(&repeated)).is_some());
    }

    /// Each row group's string statistics are those of its own values (what lets a scan for one
    /// event type skip the others' row groups), a column named uncompressed is, and the values,
    /// nulls included, read back.
    #[test]
    fn string_statistics_are_each_row_groups_own_and_uncompressed_columns_read_back() {
        let types = ["login", "login", "logout", "zip", "add_user", "add_user"];
        let actors = [Some("x"), None, Some("y"), None, None, None];
        let df = df!("event_type" => types, "actor" => actors).unwrap();
        let (_dir, path, mut f) = new_file(
            df.schema(),
            Layout {
                uncompressed: &["actor"],
                ..Layout::default()
            },
        );
        f.write(&df.slice(0, 3)).unwrap();
        f.write(&df.slice(3, 3)).unwrap();
        f.finish().unwrap();

        let meta = read_metadata(&mut File::open(&path).unwrap()).unwrap();
        let range = |group: usize, column: usize| {
            let chunk = &meta.row_groups[group].parquet_columns()[column];
            assert!(chunk.dictionary_page_offset().is_some());
            match chunk.statistics(&meta.footer_buf).unwrap().unwrap() {
                Statistics::Binary(s) => (
                    s.min_value.map(|v| String::from_utf8(v).unwrap()),
                    s.max_value.map(|v| String::from_utf8(v).unwrap()),
                    s.null_count,
                ),
                other => panic!("not string statistics: {other:?}"),
            }
        };
        let codecs: Vec<Compression> = meta.row_groups[0]
            .parquet_columns()
            .iter()
            .map(|c| c.compression())
            .collect();
        assert_eq!(codecs, [Compression::Zstd, Compression::Uncompressed]);
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(range(0, 0), (some("login"), some("logout"), Some(0)));
        assert_eq!(range(1, 0), (some("add_user"), some("zip"), Some(0)));
        assert_eq!(range(0, 1), (some("x"), some("y"), Some(1)));
        assert_eq!(range(1, 1), (None, None, Some(3)));
        assert!(read_back(&path).equals_missing(&df));
    }

    /// Row groups encoded on their own (here in reverse order) and written in the order given
    /// read back as the frame, lists included.
    #[test]
    fn encoded_row_groups_are_written_in_the_order_given() {
        let n = 300;
        let mut df = df!(
            "summary" => (0..n).map(|i| format!("finding {i}")).collect::<Vec<_>>(),
            "severity" => (0..n).map(|i| ["low", "high"][i % 2]).collect::<Vec<_>>(),
        )
        .unwrap();
        let ids: Vec<Series> = (0..n)
            .map(|i| {
                Series::new(
                    "".into(),
                    (0..i % 4).map(|k| format!("{i}-{k}")).collect::<Vec<_>>(),
                )
            })
            .collect();
        df.with_column(Column::new("event_ids".into(), ids))
            .unwrap();
        let (_dir, path, mut f) = new_file(
            df.schema(),
            Layout {
                plain: &["summary", "event_ids"],
                ..Layout::default()
            },
        );
        let parts: Vec<Vec<EncodedRowGroup>> = (0..3)
            .rev()
            .map(|k| f.encode(&df.slice(k * 100, 100)).unwrap())
            .collect();
        for part in parts.iter().rev() {
            f.write_encoded(part).unwrap();
        }
        f.finish().unwrap();

        let meta = read_metadata(&mut File::open(&path).unwrap()).unwrap();
        assert_eq!(meta.row_groups.len(), 3);
        assert!(read_back(&path).equals_missing(&df));
    }
}
