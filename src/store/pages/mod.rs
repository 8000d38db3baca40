/*!
Data pages that auditlens writes itself rather than through polars-parquet's column writer, for
the store columns where that writer is slow: [`delta_length`] for `event_id` and `details`,
[`string_list`] for `ip_addresses`.

Each writes the pages polars-parquet would write (its tests compare them byte for byte), so
readers see what they saw before, statistics included. Only what
[`ParquetFile`](super::parquet::ParquetFile) asks for is written: version 1 data pages with min,
max and null count statistics, the min and max cut as polars-parquet cuts them (to 64 bytes unless
`POLARS_PARQUET_BINARY_STATISTICS_TRUNCATE_LEN` says otherwise).
*/

pub mod delta_length;
pub mod string_list;

use polars::prelude::{PolarsResult, polars_bail};
use polars_parquet::parquet::CowBuffer;
use polars_parquet::parquet::metadata::Descriptor;
use polars_parquet::parquet::page::{DataPage, DataPageHeader, DataPageHeaderV1};
use polars_parquet::parquet::schema::types::PrimitiveType;
use polars_parquet::parquet::statistics::{BinaryStatistics, ParquetStatistics};
use polars_parquet::write::Encoding;

/// polars-parquet's page size when none is given (`row_slice_ranges`).
pub const DEFAULT_PAGE_SIZE: usize = 1024 * 1024;

/// Rows per page as polars-parquet cuts pages of about `page_size` bytes for `rows` rows whose
/// values hold `bytes` bytes.
fn rows_per_page(rows: usize, bytes: usize, page_size: usize) -> usize {
    let bytes_per_row = bytes.checked_div(rows).unwrap_or(0);
    (page_size / (bytes_per_row + 1)).max(1)
}

/// A version 1 data page of `rows` rows, `values` level slots (as many as the rows for a flat
/// column), its levels and values in `buffer`.
fn data_page(
    buffer: Vec<u8>,
    values: usize,
    rows: usize,
    encoding: Encoding,
    statistics: ParquetStatistics,
    type_: &PrimitiveType,
) -> PolarsResult<DataPage> {
    let Ok(num_values) = i32::try_from(values) else {
        polars_bail!(ComputeError: "a Parquet page of {values} values");
    };
    let header = DataPageHeader::V1(DataPageHeaderV1 {
        num_values,
        encoding: encoding.into(),
        definition_level_encoding: Encoding::Rle.into(),
        repetition_level_encoding: Encoding::Rle.into(),
        statistics: Some(statistics),
    });
    // The levels' maxima are left at 0, as polars-parquet leaves them in the pages it writes
    // (the file writer takes them from the schema).
    let descriptor = Descriptor {
        primitive_type: type_.clone(),
        max_def_level: 0,
        max_rep_level: 0,
    };
    Ok(DataPage::new(
        header,
        CowBuffer::Owned(buffer),
        descriptor,
        rows,
    ))
}

/// The least and greatest of a page's strings, as Parquet orders them (by their UTF-8 bytes).
#[derive(Default)]
struct Range<'a> {
    bounds: Option<(Keyed<'a>, Keyed<'a>)>,
}

impl<'a> Range<'a> {
    fn add(&mut self, value: &'a str) {
        let value = Keyed::new(value);
        match &mut self.bounds {
            None => self.bounds = Some((value, value)),
            Some((min, max)) => {
                if value.less(min) {
                    *min = value;
                } else if max.less(&value) {
                    *max = value;
                }
            }
        }
    }

    /// The page's statistics: these bounds cut to `truncate` bytes, and `nulls`.
    fn statistics(
        &self,
        type_: &PrimitiveType,
        nulls: usize,
        truncate: Option<usize>,
    ) -> ParquetStatistics {
        BinaryStatistics {
            primitive_type: type_.clone(),
            null_count: Some(nulls as i64),
            distinct_count: None,
            max_value: self.bounds.map(|(_, max)| upper_bound(max.text, truncate)),
            min_value: self.bounds.map(|(min, _)| lower_bound(min.text, truncate)),
        }
        .serialize()
    }
}

/// A string with its first 16 bytes as a big-endian number (zeros after a shorter string), for
/// the statistics' min and max: where two strings' numbers differ, they order the strings as
/// their bytes would (the first differing byte decides, and a string before a longer one that
/// starts with it; zeros pad only the shorter), so the texts are compared only where the numbers
/// are equal. `details` texts have long common beginnings, and `<` on them was a memcmp call
/// for each value, twice.
#[derive(Clone, Copy)]
struct Keyed<'a> {
    key: u128,
    text: &'a str,
}

impl<'a> Keyed<'a> {
    fn new(text: &'a str) -> Keyed<'a> {
        let mut head = [0u8; 16];
        let n = text.len().min(16);
        head[..n].copy_from_slice(&text.as_bytes()[..n]);
        Keyed {
            key: u128::from_be_bytes(head),
            text,
        }
    }

    /// Whether `self` orders before `other` as Parquet orders strings (by their UTF-8 bytes).
    fn less(&self, other: &Keyed<'_>) -> bool {
        self.key < other.key || (self.key == other.key && self.text < other.text)
    }
}

/// A statistics minimum for `value`: its first `limit` bytes or fewer, cut at a character boundary
/// (a prefix is never greater), as polars-parquet writes it.
fn lower_bound(value: &str, limit: Option<usize>) -> Vec<u8> {
    limit
        .and_then(|limit| prefix(value, limit))
        .unwrap_or(value)
        .as_bytes()
        .to_vec()
}

/// A statistics maximum for `value`, as polars-parquet writes it: its first `limit` bytes or fewer
/// (cut at a character boundary) with the last character that has a successor of the same UTF-8
/// length replaced by it and the rest dropped (never less than `value`), or the whole value when
/// no character of the prefix has such a successor.
fn upper_bound(value: &str, limit: Option<usize>) -> Vec<u8> {
    let Some(prefix) = limit.and_then(|limit| prefix(value, limit)) else {
        return value.as_bytes().to_vec();
    };
    let successor = prefix.char_indices().rev().find_map(|(at, c)| {
        char::from_u32(u32::from(c) + 1)
            .filter(|next| next.len_utf8() == c.len_utf8())
            .map(|next| (at, next))
    });
    match successor {
        Some((at, next)) => {
            let mut bound = prefix.as_bytes()[..at].to_vec();
            bound.extend_from_slice(next.encode_utf8(&mut [0; 4]).as_bytes());
            bound
        }
        None => value.as_bytes().to_vec(),
    }
}

/// `value`'s longest prefix of at most `limit` bytes that ends at a character boundary (when
/// there is none, of at most 4 bytes), or `None` when that would be empty or all of `value`.
fn prefix(value: &str, limit: usize) -> Option<&str> {
    if value.len() <= limit {
        return None;
    }
    let boundary = |limit: usize| (0..=limit).rev().find(|&end| value.is_char_boundary(end));
    let end = match boundary(limit) {
        Some(0) | None => boundary(4.min(value.len())).unwrap_or(0),
        Some(end) => end,
    };
    (end > 0 && end < value.len()).then(|| &value[..end])
}

#[cfg(test)]
pub(super) mod testing {
    //! What the page writers' tests share.

    use polars::prelude::{ArrowDataType, ArrowField, PlSmallStr, PolarsResult};
    use polars_parquet::parquet::page::DataPage;
    use polars_parquet::parquet::schema::types::PrimitiveType;
    use polars_parquet::write::{Page, ParquetType, to_parquet_type};

    /// The Parquet type of a nullable string column.
    pub fn string_type() -> PrimitiveType {
        let field = ArrowField::new(PlSmallStr::from_static("x"), ArrowDataType::Utf8View, true);
        match to_parquet_type(&field) {
            Ok(ParquetType::PrimitiveType(t)) => t,
            other => panic!("not a primitive type: {other:?}"),
        }
    }

    pub fn data_pages(pages: impl Iterator<Item = PolarsResult<Page>>) -> Vec<DataPage> {
        pages
            .map(|page| match page.unwrap() {
                Page::Data(page) => page,
                Page::Dict(_) => panic!("a dictionary page"),
            })
            .collect()
    }

    /// Whether two pages have the same bytes, header (statistics included), rows and descriptor.
    pub fn same(a: &DataPage, b: &DataPage) -> bool {
        a.buffer() == b.buffer()
            && format!("{:?}", a.header()) == format!("{:?}", b.header())
            && a.num_rows == b.num_rows
            && format!("{:?}", a.descriptor) == format!("{:?}", b.descriptor)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Strings order by their numbers where those differ and by their bytes otherwise, as
        /// by their bytes alone: short strings, zero bytes (what pads the numbers), long common
        /// beginnings.
        #[test]
        fn keyed_strings_order_as_their_bytes(a in "[\\x00ab]{0,20}", b in "[\\x00ab]{0,20}") {
            let (x, y) = (Keyed::new(&a), Keyed::new(&b));
            prop_assert_eq!(x.less(&y), a < b);
            prop_assert_eq!(y.less(&x), b < a);
        }
    }
}
