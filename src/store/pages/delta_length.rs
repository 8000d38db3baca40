/*!
DELTA_LENGTH_BYTE_ARRAY pages for string columns: all of a page's lengths first
(DELTA_BINARY_PACKED), then their bytes back to back, where PLAIN puts a 4-byte length before each
value. For `event_id` and `details` zstd then finds the repeats faster and better: a third less of
its time at ingest and a store 5% smaller, which the analyses read no slower (bench/NOTES.md).
polars-parquet 0.55 writes such pages, but copies a column that has no nulls into them a byte at a
time (its `encode_delta`), which cost more than zstd saved, and its encoder for the lengths is not
public. The pages written here are the ones it writes (the tests compare them byte for byte),
with one copy per value.
*/

use polars::prelude::{PolarsResult, polars_bail};
use polars_arrow::array::{Array, Utf8ViewArray};
use polars_parquet::parquet::encoding::{bitpacked, ceil8, uleb128, zigzag_leb128};
use polars_parquet::parquet::page::DataPage;
use polars_parquet::parquet::schema::Repetition;
use polars_parquet::parquet::schema::types::PrimitiveType;
use polars_parquet::write::{Encoding, Page, Version, write_def_levels};

use super::{Range, data_page, rows_per_page};

/// Values per DELTA_BINARY_PACKED block (one miniblock each), as polars-parquet writes them.
const BLOCK: usize = 256;

/// `array` as the data pages of a column of `type_`, cut where polars-parquet would cut them for
/// pages of about `page_size` bytes (the same number of rows in each, from the average length of
/// the array's values), their statistics' min and max cut to `truncate` bytes.
pub fn pages(
    array: Utf8ViewArray,
    type_: PrimitiveType,
    page_size: usize,
    truncate: Option<usize>,
) -> impl Iterator<Item = PolarsResult<Page>> + Send + Sync + 'static {
    let rows = array.len();
    let rows_per_page = rows_per_page(rows, array.total_bytes_len(), page_size);
    (0..rows).step_by(rows_per_page).map(move |offset| {
        let slice = array
            .clone()
            .sliced(offset, rows_per_page.min(rows - offset));
        page(&slice, &type_, truncate).map(Page::Data)
    })
}

/// One data page holding all of `array` (statistics' min and max cut to `truncate` bytes).
fn page(
    array: &Utf8ViewArray,
    type_: &PrimitiveType,
    truncate: Option<usize>,
) -> PolarsResult<DataPage> {
    let rows = array.len();
    let optional = type_.field_info.repetition == Repetition::Optional;
    // A bitmap without an unset bit is no bitmap (as a sliced array's is dropped).
    let validity = array.validity().filter(|v| v.unset_bits() > 0);
    if !optional && validity.is_some() {
        polars_bail!(InvalidOperation:
            "writing a missing value to required parquet column '{}'", type_.field_info.name);
    }

    let mut lengths = Vec::with_capacity(rows);
    let mut bytes = 0;
    let mut range = Range::default();
    for value in array.non_null_values_iter() {
        lengths.push(value.len() as i64);
        bytes += value.len();
        range.add(value);
    }

    // Levels, then the lengths (a few headers, and at most two bytes a length while the
    // differences from one length to the next span less than 65,536), then the texts: a page
    // that outgrew a guess was copied whole.
    let mut buffer = Vec::with_capacity(16 + rows / 8 + 64 + 2 * lengths.len() + bytes);
    write_def_levels(&mut buffer, optional, validity, rows, Version::V1)?;
    delta_binary_packed(&lengths, &mut buffer);
    for value in array.non_null_values_iter() {
        buffer.extend_from_slice(value.as_bytes());
    }

    let nulls = validity.map_or(0, |v| v.unset_bits());
    let statistics = range.statistics(type_, nulls, truncate);
    data_page(
        buffer,
        rows,
        rows,
        Encoding::DeltaLengthByteArray,
        statistics,
        type_,
    )
}

/// `values` appended to `out` as DELTA_BINARY_PACKED, laid out as polars-parquet lays it out
/// (blocks of 256 values in one miniblock), except that the unused end of a last, partial
/// miniblock is zeros, as the format asks, where polars-parquet leaves the previous block's
/// differences.
fn delta_binary_packed(values: &[i64], out: &mut Vec<u8>) {
    let mut scratch = [0u8; 10];
    for header in [BLOCK as u64, 1, values.len() as u64] {
        let n = uleb128::encode(header, &mut scratch);
        out.extend_from_slice(&scratch[..n]);
    }
    let zigzag = |value: i64, out: &mut Vec<u8>| {
        let (bytes, n) = zigzag_leb128::encode(value);
        out.extend_from_slice(&bytes[..n]);
    };
    let (first, rest) = values.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
    zigzag(first, out);

    let mut previous = first;
    let mut deltas = [0i64; BLOCK];
    let mut packed = [0u64; BLOCK];
    for block in rest.chunks(BLOCK) {
        for (delta, &value) in deltas.iter_mut().zip(block) {
            *delta = value.wrapping_sub(previous);
            previous = value;
        }
        let deltas = &deltas[..block.len()];
        let min = deltas.iter().copied().min().unwrap_or(0);
        let max = deltas.iter().copied().max().unwrap_or(0);
        let bits = (64 - max.abs_diff(min).leading_zeros()) as usize;
        for (p, &delta) in packed.iter_mut().zip(deltas) {
            *p = delta.wrapping_sub(min) as u64;
        }
        packed[block.len()..].fill(0);
        zigzag(min, out);
        out.push(bits as u8);
        if bits > 0 {
            let start = out.len();
            out.resize(start + ceil8(BLOCK * bits), 0);
            bitpacked::encode(&packed, bits, &mut out[start..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::ArrayFromIter;
    use polars_parquet::write::{
        CompressionOptions, ParquetType, StatisticsOptions, WriteOptions, array_to_columns,
    };
    use proptest::prelude::*;

    use super::super::DEFAULT_PAGE_SIZE;
    use super::super::testing::{data_pages, same, string_type};
    use super::*;

    /// The pages polars-parquet writes for `array` as DELTA_LENGTH_BYTE_ARRAY (with the default
    /// statistics).
    fn theirs(array: &Utf8ViewArray, page_size: usize) -> Vec<DataPage> {
        theirs_cut(array, page_size, StatisticsOptions::default())
    }

    fn theirs_cut(
        array: &Utf8ViewArray,
        page_size: usize,
        statistics: StatisticsOptions,
    ) -> Vec<DataPage> {
        let options = WriteOptions {
            statistics,
            version: Version::V1,
            compression: CompressionOptions::Uncompressed,
            data_page_size: Some(page_size),
        };
        let columns = array_to_columns(
            array.clone().boxed(),
            ParquetType::PrimitiveType(string_type()),
            options,
            &[Encoding::DeltaLengthByteArray],
        )
        .unwrap();
        data_pages(columns.into_iter().flatten())
    }

    fn ours(array: &Utf8ViewArray, page_size: usize) -> Vec<DataPage> {
        let truncate = StatisticsOptions::default().binary_statistics_truncate_length_usize();
        assert_eq!(truncate, Some(64), "polars' default");
        data_pages(pages(array.clone(), string_type(), page_size, truncate))
    }

    /// The `i`th test value: empty, short (inline in its view) or long (in a buffer), non-ASCII
    /// in places, and with `nulls` every seventh missing.
    fn value(i: usize, nulls: bool) -> Option<String> {
        if nulls && i % 7 == 3 {
            return None;
        }
        Some(match i % 5 {
            0 => String::new(),
            1 => format!("{i:x}"),
            2 => format!(
                "{{\"rule\":\"r-{}\",\"pad\":\"{}\"}}",
                i % 11,
                "é".repeat(i % 40)
            ),
            3 => format!("{:040x}", i * 2_654_435_761),
            // Longer than the statistics keep: cut inside or after a character of two bytes.
            _ => format!("{}{}", "x".repeat(i % 2), "é".repeat(40)),
        })
    }

    /// Test values (see [`value`]) up to the `present`th non-null one.
    fn array(present: usize, nulls: bool) -> Utf8ViewArray {
        let mut values = Vec::new();
        let mut i = 0;
        while values.iter().flatten().count() < present {
            values.push(value(i, nulls));
            i += 1;
        }
        Utf8ViewArray::arr_from_iter(values)
    }

    /// Page for page, the bytes, headers (statistics included) and row counts polars-parquet
    /// writes: with nulls and without, short and long values, one to three blocks of lengths.
    /// (Where a partial block of lengths follows a whole one, polars-parquet pads it with the
    /// previous block's differences and this module with zeros; the file tests read those back.)
    #[test]
    fn pages_are_the_ones_polars_parquet_writes() {
        for nulls in [false, true] {
            for present in [1, 2, 30, 200, 257, 513, 769] {
                let array = array(present, nulls);
                let (a, b) = (
                    ours(&array, DEFAULT_PAGE_SIZE),
                    theirs(&array, DEFAULT_PAGE_SIZE),
                );
                assert_eq!((a.len(), b.len()), (1, 1));
                assert!(same(&a[0], &b[0]), "{present} values, nulls {nulls}");
            }
        }
        // Only nulls: statistics without a minimum or maximum, no lengths.
        let array = Utf8ViewArray::arr_from_iter([None::<&str>, None, None]);
        assert!(same(&ours(&array, 1024)[0], &theirs(&array, 1024)[0]));
        // Nothing: no page.
        let array = Utf8ViewArray::arr_from_iter([None::<&str>; 0]);
        assert!(ours(&array, 1024).is_empty() && theirs(&array, 1024).is_empty());
    }

    /// Pages are cut where polars-parquet cuts them: the same rows in each.
    #[test]
    fn pages_are_cut_as_polars_parquet_cuts_them() {
        let array = array(4000, true);
        let rows = |pages: Vec<DataPage>| -> Vec<Option<usize>> {
            pages.iter().map(|p| p.num_rows).collect()
        };
        for page_size in [1, 4096, 64 * 1024, DEFAULT_PAGE_SIZE] {
            let ours = rows(ours(&array, page_size));
            assert!(page_size > 4096 || ours.len() > 10, "{ours:?}");
            assert_eq!(ours, rows(theirs(&array, page_size)), "{page_size}");
        }
    }

    proptest! {
        /// Any strings, any nulls, up to one block of lengths after the first, the statistics cut
        /// to a few bytes (inside characters of up to four bytes): polars-parquet's page.
        #[test]
        fn any_page_is_polars_parquets(
            values in prop::collection::vec(prop::option::weighted(0.9, ".{0,40}"), 0..258),
            cut in 1usize..12,
        ) {
            let array = Utf8ViewArray::arr_from_iter(values);
            let statistics = StatisticsOptions {
                binary_statistics_truncate_length: Some(cut as u64),
                ..StatisticsOptions::default()
            };
            let a = data_pages(pages(array.clone(), string_type(), DEFAULT_PAGE_SIZE, Some(cut)));
            let b = theirs_cut(&array, DEFAULT_PAGE_SIZE, statistics);
            prop_assert_eq!(a.len(), b.len());
            for (a, b) in a.iter().zip(&b) {
                prop_assert!(same(a, b));
            }
        }
    }
}
