/*!
PLAIN pages for a list of strings (`ip_addresses`), with the repetition and definition levels read
straight off the list's offsets and validity.

polars-parquet derives a nested column's levels with its generic iterator over nested arrays
(Dremel), walked once for each kind of level: 2.4% of ingest's CPU for a column of one to three
short addresses a row. For a list of strings the levels of a row are simple: a null list is one
slot at level 0, an empty list one slot at the list's own level, and each item one slot,
repeated (level 1) after the first, defined to the item's level unless the item is null.
*/

use polars::prelude::{PolarsResult, polars_bail};
use polars_arrow::array::{Array, ListArray, Utf8ViewArray};
use polars_parquet::parquet::encoding::hybrid_rle;
use polars_parquet::parquet::page::DataPage;
use polars_parquet::parquet::schema::Repetition;
use polars_parquet::parquet::schema::types::{ParquetType, PrimitiveType};
use polars_parquet::write::{Encoding, Page};

use super::{Range, data_page, rows_per_page};

/// The shape of a list-of-strings column in the Parquet schema: whether the list and its items
/// may be null, and the items' type.
#[derive(Clone)]
pub struct ListType {
    list_optional: bool,
    item_optional: bool,
    item: PrimitiveType,
}

impl ListType {
    /// The shape of `type_` if it is the three-level list of strings polars writes (an outer
    /// group, a repeated group, the item), else `None`.
    pub fn of(type_: &ParquetType) -> Option<ListType> {
        let ParquetType::GroupType {
            field_info, fields, ..
        } = type_
        else {
            return None;
        };
        let [
            ParquetType::GroupType {
                field_info: repeated,
                fields: inner,
                ..
            },
        ] = &fields[..]
        else {
            return None;
        };
        let [ParquetType::PrimitiveType(item)] = &inner[..] else {
            return None;
        };
        (repeated.repetition == Repetition::Repeated
            && field_info.repetition != Repetition::Repeated
            && item.field_info.repetition != Repetition::Repeated)
            .then(|| ListType {
                list_optional: field_info.repetition == Repetition::Optional,
                item_optional: item.field_info.repetition == Repetition::Optional,
                item: item.clone(),
            })
    }

    /// Definition levels: of an empty list, a null item and a present item.
    fn levels(&self) -> (u32, u32, u32) {
        let empty = u32::from(self.list_optional);
        (empty, empty + 1, empty + 1 + u32::from(self.item_optional))
    }
}

/// `array` as the data pages of a column of `type_`, cut where polars-parquet would cut them for
/// pages of about `page_size` bytes, their statistics' min and max cut to `truncate` bytes.
/// `None` when the list's items are not strings.
pub fn pages(
    array: ListArray<i64>,
    type_: ListType,
    page_size: usize,
    truncate: Option<usize>,
) -> Option<impl Iterator<Item = PolarsResult<Page>> + Send + Sync + 'static> {
    let items = array
        .values()
        .as_any()
        .downcast_ref::<Utf8ViewArray>()?
        .clone();
    let rows = array.len();
    // polars-parquet estimates the bytes of a row from all of the items the list holds, those
    // outside its slice too.
    let rows_per_page = rows_per_page(rows, items.total_bytes_len(), page_size);
    Some((0..rows).step_by(rows_per_page).map(move |first| {
        let end = (first + rows_per_page).min(rows);
        page(&array, &items, first..end, &type_, truncate).map(Page::Data)
    }))
}

/// One data page holding rows `rows` of `array` (whose items are `items`).
fn page(
    array: &ListArray<i64>,
    items: &Utf8ViewArray,
    rows: std::ops::Range<usize>,
    type_: &ListType,
    truncate: Option<usize>,
) -> PolarsResult<DataPage> {
    let offsets = array.offsets().as_slice();
    let (Some(&start), Some(&end)) = (offsets.get(rows.start), offsets.get(rows.end)) else {
        polars_bail!(OutOfBounds: "list rows {rows:?} past the offsets");
    };
    let list_validity = array.validity().filter(|v| v.unset_bits() > 0);
    let item_validity = items.validity().filter(|v| v.unset_bits() > 0);
    if (!type_.list_optional && list_validity.is_some())
        || (!type_.item_optional && item_validity.is_some())
    {
        polars_bail!(InvalidOperation:
            "writing a missing value to required parquet column '{}'", type_.item.field_info.name);
    }
    let (empty, null_item, present) = type_.levels();

    // Each row has a slot per item, or one if it has none: at most this many.
    let slots = (end - start) as usize + rows.len();
    let mut repetition = Vec::with_capacity(slots);
    let mut definition = Vec::with_capacity(slots);
    let mut values = Vec::new();
    let mut range = Range::default();
    let mut nulls = 0;
    for row in rows.clone() {
        if list_validity.is_some_and(|v| !v.get_bit(row)) {
            repetition.push(0);
            definition.push(0);
            continue;
        }
        let (from, to) = (offsets[row] as usize, offsets[row + 1] as usize);
        if from == to {
            repetition.push(0);
            definition.push(empty);
            continue;
        }
        for i in from..to {
            repetition.push(u32::from(i > from));
            if item_validity.is_some_and(|v| !v.get_bit(i)) {
                definition.push(null_item);
                nulls += 1;
                continue;
            }
            definition.push(present);
            let item = items.value(i);
            // PLAIN: each value's length (4 bytes, little-endian), then its bytes.
            values.extend_from_slice(&(item.len() as u32).to_le_bytes());
            values.extend_from_slice(item.as_bytes());
            range.add(item);
        }
    }

    let mut buffer = Vec::with_capacity(16 + slots / 2 + values.len());
    levels(&mut buffer, &repetition, 1)?;
    levels(&mut buffer, &definition, bit_width(present))?;
    buffer.extend_from_slice(&values);
    let statistics = range.statistics(&type_.item, nulls, truncate);
    data_page(
        buffer,
        repetition.len(),
        rows.len(),
        Encoding::Plain,
        statistics,
        &type_.item,
    )
}

/// `levels` appended to `buffer` as a version 1 page holds them: their byte length (4 bytes,
/// little-endian), then the levels run-length or bit-packed in `bits` bits each.
fn levels(buffer: &mut Vec<u8>, levels: &[u32], bits: u32) -> PolarsResult<()> {
    let at = buffer.len();
    buffer.extend_from_slice(&[0; 4]);
    hybrid_rle::encode::<u32, _, _>(buffer, levels.iter().copied(), bits)?;
    let Ok(length) = u32::try_from(buffer.len() - at - 4) else {
        polars_bail!(ComputeError: "levels of more than 4 GB in a Parquet page");
    };
    buffer[at..at + 4].copy_from_slice(&length.to_le_bytes());
    Ok(())
}

/// Bits that hold levels up to `max`.
fn bit_width(max: u32) -> u32 {
    u32::BITS - max.leading_zeros()
}

#[cfg(test)]
mod tests {
    use polars::prelude::{ArrowDataType, ArrowField, PlSmallStr};
    use polars_arrow::array::{MutableBinaryViewArray, MutableListArray, TryExtend};
    use polars_parquet::write::{
        CompressionOptions, StatisticsOptions, Version, WriteOptions, array_to_columns,
        to_parquet_type,
    };
    use proptest::prelude::*;

    use super::super::DEFAULT_PAGE_SIZE;
    use super::super::testing::{data_pages, same};
    use super::*;

    /// A list of strings: `None` rows are null lists, `None` items null items.
    fn list(rows: &[Option<Vec<Option<String>>>]) -> ListArray<i64> {
        let mut builder = MutableListArray::<i64, MutableBinaryViewArray<str>>::new();
        builder.try_extend(rows.iter().cloned()).unwrap();
        builder.into()
    }

    fn parquet_type(array: &ListArray<i64>) -> ParquetType {
        let field = ArrowField::new(PlSmallStr::from_static("x"), array.dtype().clone(), true);
        to_parquet_type(&field).unwrap()
    }

    /// The pages polars-parquet writes for `array`.
    fn theirs(array: &ListArray<i64>, page_size: usize) -> Vec<DataPage> {
        let options = WriteOptions {
            statistics: StatisticsOptions::default(),
            version: Version::V1,
            compression: CompressionOptions::Uncompressed,
            data_page_size: Some(page_size),
        };
        let type_ = parquet_type(array);
        let columns =
            array_to_columns(array.clone().boxed(), type_, options, &[Encoding::Plain]).unwrap();
        data_pages(columns.into_iter().flatten())
    }

    fn ours(array: &ListArray<i64>, page_size: usize) -> Vec<DataPage> {
        let type_ = ListType::of(&parquet_type(array)).expect("a list of strings");
        let truncate = StatisticsOptions::default().binary_statistics_truncate_length_usize();
        data_pages(pages(array.clone(), type_, page_size, truncate).expect("strings"))
    }

    fn check(array: &ListArray<i64>, page_size: usize) -> Result<(), TestCaseError> {
        let (a, b) = (ours(array, page_size), theirs(array, page_size));
        prop_assert_eq!(a.len(), b.len());
        for (i, (a, b)) in a.iter().zip(&b).enumerate() {
            prop_assert!(same(a, b), "page {}", i);
        }
        Ok(())
    }

    /// The `i`th row of a column like `ip_addresses`: one to three addresses, some rows empty,
    /// some null, some items null, one long item.
    fn row(i: usize) -> Option<Vec<Option<String>>> {
        match i % 11 {
            3 => None,
            5 => Some(vec![]),
            7 => Some(vec![Some(format!("10.0.{}.{}", i % 7, i % 250)), None]),
            9 => Some(vec![Some(format!("2001:db8::{:x}:{:x}", i, i * 31))]),
            _ => Some(
                (0..1 + i % 3)
                    .map(|k| Some(format!("203.0.113.{}", (i + k) % 256)))
                    .collect(),
            ),
        }
    }

    /// The pages polars-parquet writes, byte for byte (levels, values, statistics): one page or
    /// several, a slice of a longer list (as a row group is), and nothing but empty or null rows.
    #[test]
    fn pages_are_the_ones_polars_parquet_writes() {
        let rows: Vec<_> = (0..3000).map(row).collect();
        let array = list(&rows);
        for page_size in [DEFAULT_PAGE_SIZE, 4096, 1] {
            check(&array, page_size).unwrap();
        }
        assert!(ours(&array, 4096).len() > 5);
        check(&array.clone().sliced(1234, 700), DEFAULT_PAGE_SIZE).unwrap();
        check(&array.sliced(1234, 700), 2048).unwrap();
        check(&list(&[None, Some(vec![]), None]), DEFAULT_PAGE_SIZE).unwrap();
        check(&list(&[Some(vec![None])]), DEFAULT_PAGE_SIZE).unwrap();
    }

    /// A column that is not a list of strings is left to polars-parquet.
    #[test]
    fn other_columns_are_not_taken() {
        let field = ArrowField::new(PlSmallStr::from_static("x"), ArrowDataType::Utf8View, true);
        assert!(ListType::of(&to_parquet_type(&field).unwrap()).is_none());
    }

    proptest! {
        /// Any rows: null, empty, or short lists of any strings, some null.
        #[test]
        fn any_list_is_written_as_polars_parquet_writes_it(
            rows in prop::collection::vec(
                prop::option::weighted(
                    0.9,
                    prop::collection::vec(prop::option::weighted(0.9, ".{0,30}"), 0..4),
                ),
                0..300,
            ),
            page_size in prop::sample::select(vec![64usize, 1024, DEFAULT_PAGE_SIZE]),
        ) {
            check(&list(&rows), page_size)?;
        }
    }
}
