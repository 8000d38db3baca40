/*!
The store's Parquet files, written row group by row group with an encoding chosen per column.

Polars' own writer (`ParquetWriter`) tries dictionary encoding on every string and integer column.
For most of the schema that is right (event types, actors and addresses repeat), but not for
`event_id` and `details`: `event_id` is distinct on every row, so each row group's ids were hashed
only to estimate their cardinality and give up, and every `details` text was hashed into a
dictionary (kept for about two thirds of the row groups, which saves nothing once zstd has found
the repeats). Those two columns are written PLAIN here (the store comes out the same size, 292 MB
for 5M events); every other column keeps polars' choice. That saves about 1% of ingest's CPU
(perf samples, 1M rows).

Every column keeps its min/max statistics, even where they prune nothing (random ids, JSON
texts): DuckDB 2.0 filtered out every row of a column written without them (`WHERE event_id =
'...'` found nothing), and polars' file writer wants the same statistics options for every column.
*/

use std::fs::File;

use polars::prelude::*;
use polars_parquet::read::ParquetError;
use polars_parquet::write::{
    CompressionOptions, Compressor, DynIter, DynStreamingIterator, Encoding,
    FallibleStreamingIterator, FileWriter, ParquetType, StatisticsOptions, Version, WriteOptions,
    array_to_columns, get_dtype_encoding,
};

use crate::error::Result;

/// How one column is written.
struct ColumnPlan {
    type_: ParquetType,
    encodings: Vec<Encoding>,
}

/// A Parquet file being written: one row group per chunk of each frame handed to
/// [`ParquetFile::write`].
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

    /// Write `df`, one row group per chunk (empty chunks are skipped).
    pub fn write(&mut self, df: &DataFrame) -> Result<()> {
        for batch in df.iter_chunks(CompatLevel::newest(), false) {
            let rows = batch.len();
            if rows == 0 {
                continue;
            }
            // What polars' `row_group_iter` does, with errors returned rather than unwrapped.
            let compression = self.options.compression;
            let mut leaves = Vec::new();
            for (array, plan) in batch.into_arrays().into_iter().zip(&self.columns) {
                let encoded =
                    array_to_columns(array, plan.type_.clone(), self.options, &plan.encodings)?;
                leaves.extend(encoded.into_iter().map(move |pages| {
                    let pages =
                        pages.map(|p| p.map_err(|e| ParquetError::OutOfSpec(e.to_string())));
                    let compressed = Compressor::new(DynIter::new(pages), compression, Vec::new())
                        .map_err(PolarsError::from);
                    Ok(DynStreamingIterator::new(compressed))
                }));
            }
            self.writer
                .write(rows as u64, DynIter::new(leaves.into_iter()))?;
        }
        Ok(())
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

        let back = LazyFrame::scan_parquet_files(
            vec![PlRefPath::new(path.to_string_lossy().as_ref())].into(),
            ScanArgsParquet::default(),
        )
        .unwrap()
        .collect()
        .unwrap();
        assert!(back.equals_missing(&df));
    }
}
