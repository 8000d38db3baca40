/*!
The store's Parquet files (and `findings.parquet`), written row group by row group with an encoding
chosen per column.

Polars' own writer (`ParquetWriter`) tries dictionary encoding on every string and integer column.
For most of the schema that is right (event types, actors and addresses repeat), but not for
`event_id` and `details`: `event_id` is distinct on every row, so each row group's ids were hashed
only to estimate their cardinality and give up, and every `details` text was hashed into a
dictionary (kept for about two thirds of the row groups, which saves nothing once zstd has found
the repeats). Those two columns are written PLAIN here (the store comes out the same size, 292 MB
for 5M events); every other column keeps polars' choice. That saves about 1% of ingest's CPU
(perf samples, 1M rows).

Ingest writes each row group as it goes ([`ParquetFile::write`], on its encoder thread); a file
written at once can have its row groups encoded side by side first ([`ParquetFile::encode`]) and
then written in order ([`ParquetFile::write_encoded`]).

Every column keeps its min/max statistics, even where they prune nothing (random ids, JSON
texts): DuckDB 2.0 filtered out every row of a column written without them (`WHERE event_id =
'...'` found nothing), and polars' file writer wants the same statistics options for every column.
*/

use std::fs::File;

use polars::prelude::*;
use polars_parquet::read::ParquetError;
use polars_parquet::write::{
    CompressedPage, CompressionOptions, Compressor, DynIter, DynStreamingIterator, Encoding,
    FallibleStreamingIterator, FileWriter, Page, ParquetType, StatisticsOptions, Version,
    WriteOptions, array_to_columns, compress, fallible_streaming_iterator, get_dtype_encoding,
};

use crate::error::Result;

/// How one column is written.
struct ColumnPlan {
    type_: ParquetType,
    encodings: Vec<Encoding>,
}

/// One row group, encoded and compressed ([`ParquetFile::encode`]), waiting to be written.
pub struct EncodedRowGroup {
    rows: u64,
    /// The pages of each leaf column, in schema order.
    columns: Vec<Vec<CompressedPage>>,
}

/// A Parquet file being written: one row group per chunk of each frame handed to
/// [`ParquetFile::write`] or [`ParquetFile::encode`].
pub struct ParquetFile {
    writer: FileWriter<File>,
    columns: Vec<ColumnPlan>,
    options: WriteOptions,
}

impl ParquetFile {
    /// A file of `schema`, compressed with `compression`, with the columns named in `plain`
    /// written PLAIN (no dictionary attempt) and the others encoded as polars would.
    pub fn new(
        file: File,
        schema: &Schema,
        compression: CompressionOptions,
        plain: &[&str],
    ) -> Result<ParquetFile> {
        let arrow = schema.to_arrow(CompatLevel::newest());
        let options = WriteOptions {
            statistics: StatisticsOptions::default(),
            version: Version::V1,
            compression,
            data_page_size: None,
        };
        let encodings: Vec<Vec<Encoding>> = arrow
            .iter_values()
            .map(|f| {
                let mut encodings = get_dtype_encoding(&f.dtype);
                if plain.contains(&f.name.as_str()) {
                    encodings.fill(Encoding::Plain);
                }
                encodings
            })
            .collect();
        let writer = FileWriter::try_new(file, arrow, options)?;
        let columns = writer
            .parquet_schema()
            .fields()
            .iter()
            .zip(encodings)
            .map(|(type_, encodings)| ColumnPlan {
                type_: type_.clone(),
                encodings,
            })
            .collect();
        Ok(ParquetFile {
            writer,
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
            let compression = self.options.compression;
            let leaves = self
                .leaves(batch.into_arrays())?
                .into_iter()
                .map(move |pages| {
                    let pages =
                        pages.map(|p| p.map_err(|e| ParquetError::OutOfSpec(e.to_string())));
                    let compressed = Compressor::new(DynIter::new(pages), compression, Vec::new())
                        .map_err(PolarsError::from);
                    Ok(DynStreamingIterator::new(compressed))
                });
            self.writer.write(rows as u64, DynIter::new(leaves))?;
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
                .map(|pages| {
                    pages
                        .map(|page| {
                            compress(page?, Vec::new(), self.options.compression)
                                .map_err(PolarsError::from)
                        })
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
            self.writer.write(group.rows, DynIter::new(leaves))?;
        }
        Ok(())
    }

    /// One batch's arrays as pages, each leaf column (a list has one) encoded as planned: what
    /// polars' `row_group_iter` does, with errors returned rather than unwrapped.
    fn leaves(&self, arrays: Vec<ArrayRef>) -> Result<Vec<DynIter<'static, PolarsResult<Page>>>> {
        let mut leaves = Vec::new();
        for (array, plan) in arrays.into_iter().zip(&self.columns) {
            leaves.extend(array_to_columns(
                array,
                plan.type_.clone(),
                self.options,
                &plan.encodings,
            )?);
        }
        Ok(leaves)
    }

    /// Write the footer (with polars' Arrow schema, so the column types read back exactly).
    pub fn finish(&mut self) -> Result<()> {
        self.writer.end(None)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

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

    /// The columns named plain get no dictionary, the others keep polars' dictionary where it
    /// pays, and the frame reads back exactly (types, nulls, lists).
    #[test]
    fn plain_columns_have_no_dictionary_and_the_data_reads_back() {
        let n = 1000;
        let df = df!(
            "id" => (0..n).map(|i| format!("{i:040x}")).collect::<Vec<_>>(),
            "details" => (0..n).map(|i| format!("{{\"rule\":\"r-{}\"}}", i % 7)).collect::<Vec<_>>(),
            "actor" => (0..n).map(|i| (i % 5 != 0).then(|| format!("user{}@example.com", i % 3))).collect::<Vec<_>>(),
            "ns" => (0..n).map(i64::from).collect::<Vec<_>>(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        let compression = CompressionOptions::Zstd(None);
        let mut f = ParquetFile::new(
            File::create(&path).unwrap(),
            df.schema(),
            compression,
            &["id", "details"],
        )
        .unwrap();
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
        // Seven distinct values in 600: polars' choice would be a dictionary.
        assert!(!dictionary["details"]);
        assert!(dictionary["actor"]);

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
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        let mut f = ParquetFile::new(
            File::create(&path).unwrap(),
            df.schema(),
            CompressionOptions::Zstd(None),
            &["summary", "event_ids"],
        )
        .unwrap();
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
