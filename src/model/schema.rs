/*!
The canonical event schema as polars columns: names, types, a builder that fills them row by row,
and the conversion back to owned [`Event`]s. This is the one place the stored layout is defined;
readers write through [`EventColumns`] and every other module refers to columns through [`cols`](mod@cols).

`timestamp` is microseconds in UTC so that every Parquet reader (Spark included, which rejects
nanosecond timestamps) reads it as a timestamp; `timestamp_ns` is the exact instant with the
nanoseconds some exports carry, and is what auditlens sorts and compares on.
*/

use std::sync::OnceLock;

use polars::prelude::*;

use super::catalog::{Catalog, EventType, OTHER_CATEGORY, Resolved};
use super::event::{Event, EventHasher, EventId};
use super::many_hashes::Messages;
use crate::time::format_timestamp;

/// Column names of the canonical schema.
pub mod cols {
    pub const EVENT_ID: &str = "event_id";
    pub const TIMESTAMP: &str = "timestamp";
    pub const TIMESTAMP_NS: &str = "timestamp_ns";
    pub const EVENT_TYPE: &str = "event_type";
    pub const EVENT_LABEL: &str = "event_label";
    pub const CATEGORY: &str = "category";
    pub const DEPRECATED: &str = "deprecated";
    pub const ACTOR_NAME: &str = "actor_name";
    pub const ACTOR_ID: &str = "actor_id";
    pub const ACTOR_TYPE: &str = "actor_type";
    pub const CLIENT_IP: &str = "client_ip";
    pub const IP_ADDRESSES: &str = "ip_addresses";
    pub const USER_AGENT: &str = "user_agent";
    pub const AFFECTED_USER_NAME: &str = "affected_user_name";
    pub const AFFECTED_USER_ID: &str = "affected_user_id";
    pub const DETAILS: &str = "details";
    pub const SOURCE_FILE: &str = "source_file";
    pub const SOURCE_LINE: &str = "source_line";

    /// Every column, in stored order.
    pub const ALL: [&str; 18] = [
        EVENT_ID,
        TIMESTAMP,
        TIMESTAMP_NS,
        EVENT_TYPE,
        EVENT_LABEL,
        CATEGORY,
        DEPRECATED,
        ACTOR_NAME,
        ACTOR_ID,
        ACTOR_TYPE,
        CLIENT_IP,
        IP_ADDRESSES,
        USER_AGENT,
        AFFECTED_USER_NAME,
        AFFECTED_USER_ID,
        DETAILS,
        SOURCE_FILE,
        SOURCE_LINE,
    ];
}

/// The polars data type of the `timestamp` column.
pub fn timestamp_dtype() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
}

/// The stored schema.
pub fn event_schema() -> Schema {
    use cols::*;
    let s = || DataType::String;
    Schema::from_iter([
        Field::new(EVENT_ID.into(), s()),
        Field::new(TIMESTAMP.into(), timestamp_dtype()),
        Field::new(TIMESTAMP_NS.into(), DataType::Int64),
        Field::new(EVENT_TYPE.into(), s()),
        Field::new(EVENT_LABEL.into(), s()),
        Field::new(CATEGORY.into(), s()),
        Field::new(DEPRECATED.into(), DataType::Boolean),
        Field::new(ACTOR_NAME.into(), s()),
        Field::new(ACTOR_ID.into(), s()),
        Field::new(ACTOR_TYPE.into(), s()),
        Field::new(CLIENT_IP.into(), s()),
        Field::new(IP_ADDRESSES.into(), DataType::List(Box::new(s()))),
        Field::new(USER_AGENT.into(), s()),
        Field::new(AFFECTED_USER_NAME.into(), s()),
        Field::new(AFFECTED_USER_ID.into(), s()),
        Field::new(DETAILS.into(), s()),
        Field::new(SOURCE_FILE.into(), s()),
        Field::new(SOURCE_LINE.into(), DataType::UInt64),
    ])
}

/// One canonical row, borrowed from wherever the reader holds it.
#[derive(Debug, Clone, Copy)]
pub struct EventRow<'a> {
    pub timestamp_ns: i64,
    /// The type, its label, category and deprecated flag.
    pub event_type: &'a Resolved<'a>,
    pub actor_name: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub actor_type: &'a str,
    pub ip_addresses: &'a StrList,
    pub user_agent: Option<&'a str>,
    pub affected_user_name: Option<&'a str>,
    pub affected_user_id: Option<&'a str>,
    pub details: &'a str,
    pub source_line: u64,
}

/// A short list of strings kept in one reusable buffer (a row's IP addresses), so that building a
/// row allocates nothing once the buffer has grown.
#[derive(Debug, Clone, Default)]
pub struct StrList {
    text: String,
    ends: Vec<usize>,
}

impl StrList {
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Append one entry, written by `write` onto the end of the buffer.
    pub fn push_with(&mut self, write: impl FnOnce(&mut String)) {
        write(&mut self.text);
        self.ends.push(self.text.len());
    }

    pub fn push(&mut self, s: &str) {
        self.push_with(|t| t.push_str(s));
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(s, &e)| &self.text[s..e])
    }

    pub fn first(&self) -> Option<&str> {
        self.ends.first().map(|&e| &self.text[..e])
    }
}

/// Rows whose ids are hashed together as they are pushed: enough to fill the SIMD lanes of each
/// group of one length (a few hundred bytes a row), few enough that their bytes are still in the
/// cache and that the buffer, reused, stays small (a buffer for a parsing task's 4,096 rows, grown
/// as they came, cost more in copies and page faults than the hashing saved).
const ID_BATCH: usize = 512;
/// Bytes of a typical row's id input (its fields, `Details` included), for sizing its buffer.
const ID_INPUT_BYTES: usize = 512;

/// Column builders for a batch of events from one source file.
pub struct EventColumns {
    /// The ids of the rows up to [`EventColumns::hash_ids`]; the rest are in `id_inputs`.
    ids: Vec<EventId>,
    /// What the later rows' ids hash, hashed together by [`EventColumns::hash_ids`].
    id_inputs: Messages,
    ts: Vec<i64>,
    /// Each row's event type as a position in [`Catalog::entries`], or past them into `unknown`.
    kinds: Vec<IdxSize>,
    /// The API name and label of each row whose type the catalog does not know.
    unknown: Vec<(String, String)>,
    actor_name: StringChunkedBuilder,
    actor_id: StringChunkedBuilder,
    actor_type: StringChunkedBuilder,
    client_ip: StringChunkedBuilder,
    ip_addresses: ListStringChunkedBuilder,
    user_agent: StringChunkedBuilder,
    affected_user_name: StringChunkedBuilder,
    affected_user_id: StringChunkedBuilder,
    details: StringChunkedBuilder,
    source_line: Vec<u64>,
}

impl EventColumns {
    pub fn with_capacity(n: usize) -> Self {
        use cols::*;
        let s = |name: &str| StringChunkedBuilder::new(name.into(), n);
        EventColumns {
            ids: Vec::with_capacity(n),
            // Room for a batch of a console export's rows (a few hundred bytes each): growing
            // the buffer as it fills copied it at every doubling, for every parsed chunk.
            id_inputs: Messages::with_capacity(n.min(ID_BATCH), n.min(ID_BATCH) * ID_INPUT_BYTES),
            ts: Vec::with_capacity(n),
            kinds: Vec::with_capacity(n),
            unknown: Vec::new(),
            actor_name: s(ACTOR_NAME),
            actor_id: s(ACTOR_ID),
            actor_type: s(ACTOR_TYPE),
            client_ip: s(CLIENT_IP),
            ip_addresses: ListStringChunkedBuilder::new(IP_ADDRESSES.into(), n, n),
            user_agent: s(USER_AGENT),
            affected_user_name: s(AFFECTED_USER_NAME),
            affected_user_id: s(AFFECTED_USER_ID),
            details: s(DETAILS),
            source_line: Vec::with_capacity(n),
        }
    }

    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// Compute the ids of the rows pushed since the last [`ID_BATCH`] rows were hashed, and free
    /// the buffer of their inputs: for a batch that is complete. Ids are hashed many at a time,
    /// side by side ([`Messages`]), over three times faster than one by one.
    pub fn hash_ids(&mut self) {
        self.hash_pending_ids();
        // Parsed batches wait in queues on their way to deduplication.
        self.id_inputs = Messages::default();
    }

    fn hash_pending_ids(&mut self) {
        let start = self.ids.len();
        self.ids.resize(start + self.id_inputs.len(), EventId(0));
        self.id_inputs
            .hash_into(&mut self.ids[start..], EventId::from_hash);
    }

    /// Event ids of the rows pushed so far (for deduplication), once [`EventColumns::hash_ids`]
    /// has computed them.
    pub fn ids(&self) -> &[EventId] {
        assert!(
            self.id_inputs.is_empty(),
            "EventColumns::hash_ids is called before the ids are read"
        );
        &self.ids
    }

    pub fn timestamps(&self) -> &[i64] {
        &self.ts
    }

    /// Append a row; `id` holds what its id hashes (see [`EventColumns::hash_ids`]).
    pub fn push(&mut self, r: &EventRow<'_>, id: &EventHasher) {
        self.id_inputs.push(id.input());
        if self.id_inputs.len() == ID_BATCH {
            self.hash_pending_ids();
        }
        self.ts.push(r.timestamp_ns);
        let kind = match r.event_type.entry {
            Some(i) => i,
            None => {
                let t = r.event_type;
                self.unknown
                    .push((t.api_name.to_string(), t.label.to_owned()));
                catalog_columns().len + self.unknown.len() - 1
            }
        };
        self.kinds.push(kind as IdxSize);
        self.actor_name.append_option(r.actor_name);
        self.actor_id.append_option(r.actor_id);
        self.actor_type.append_value(r.actor_type);
        self.client_ip.append_option(r.ip_addresses.first());
        self.ip_addresses.append_values_iter(r.ip_addresses.iter());
        self.user_agent.append_option(r.user_agent);
        self.affected_user_name.append_option(r.affected_user_name);
        self.affected_user_id.append_option(r.affected_user_id);
        self.details.append_value(r.details);
        self.source_line.push(r.source_line);
    }

    /// The batch as a frame of the stored schema. `source_file` is the same for every row of a
    /// batch, so it is given once here. (Which export a stored row came from is also recorded per
    /// part in the manifest, with the file's SHA-256.)
    pub fn finish(mut self, source_file: &str) -> PolarsResult<DataFrame> {
        use cols::*;
        self.hash_ids();
        let n = self.ids.len();
        // Hex digits written into one stack buffer: no allocation per id.
        let mut ids = StringChunkedBuilder::new(EVENT_ID.into(), n);
        for id in &self.ids {
            ids.append_value(id.hex_digits().as_str());
        }
        let ids = ids.finish();
        let ts_us: Vec<i64> = self.ts.iter().map(|ns| ns.div_euclid(1000)).collect();
        let [event_type, event_label, category, deprecated] =
            catalog_columns().gather(&self.unknown, self.kinds)?;
        let columns: Vec<Column> = vec![
            ids.with_name(EVENT_ID.into()).into_column(),
            Int64Chunked::from_vec(TIMESTAMP.into(), ts_us)
                .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                .into_column(),
            Int64Chunked::from_vec(TIMESTAMP_NS.into(), self.ts).into_column(),
            event_type,
            event_label,
            category,
            deprecated,
            self.actor_name.finish().into_column(),
            self.actor_id.finish().into_column(),
            self.actor_type.finish().into_column(),
            self.client_ip.finish().into_column(),
            self.ip_addresses.finish().into_column(),
            self.user_agent.finish().into_column(),
            self.affected_user_name.finish().into_column(),
            self.affected_user_id.finish().into_column(),
            self.details.finish().into_column(),
            Column::new_scalar(
                SOURCE_FILE.into(),
                Scalar::from(PlSmallStr::from(source_file)),
                n,
            ),
            UInt64Chunked::from_vec(SOURCE_LINE.into(), self.source_line).into_column(),
        ];
        DataFrame::new(n, columns)
    }
}

/// The catalog's types, labels, categories and deprecated flags as columns, one row per entry,
/// from which a batch's four type columns are gathered by entry.
///
/// A gather copies 16-byte views that point into these columns' buffers, where appending each
/// row's strings would copy them (mostly longer than the 12 bytes a view holds inline) into the
/// batch's own buffers: less work per row, and equal types are equal views, which the store's
/// writer recognises as a run without comparing the strings.
struct CatalogColumns {
    len: usize,
    types: StringChunked,
    labels: StringChunked,
    categories: StringChunked,
    deprecated: BooleanChunked,
}

fn catalog_columns() -> &'static CatalogColumns {
    static COLUMNS: OnceLock<CatalogColumns> = OnceLock::new();
    COLUMNS.get_or_init(|| {
        use cols::*;
        let entries = Catalog::get().entries();
        let strings = |name: &str, value: fn(&EventType) -> &'static str| {
            StringChunked::from_iter_values(name.into(), entries.iter().map(value))
        };
        CatalogColumns {
            len: entries.len(),
            types: strings(EVENT_TYPE, |e| e.api_name),
            labels: strings(EVENT_LABEL, |e| e.label),
            categories: strings(CATEGORY, |e| e.category),
            deprecated: BooleanChunked::from_iter_values(
                DEPRECATED.into(),
                entries.iter().map(|e| e.deprecated),
            ),
        }
    })
}

impl CatalogColumns {
    /// The type, label, category and deprecated columns of rows of the given kinds (positions in
    /// the catalog, then in `unknown`: API name and label of types the catalog does not know).
    fn gather(
        &self,
        unknown: &[(String, String)],
        kinds: Vec<IdxSize>,
    ) -> PolarsResult<[Column; 4]> {
        let kinds = IdxCa::from_vec(PlSmallStr::EMPTY, kinds);
        if unknown.is_empty() {
            return self.take(&kinds);
        }
        // Rare (an export with types newer than the catalog).
        self.with_unknown(unknown)?.take(&kinds)
    }

    fn take(&self, kinds: &IdxCa) -> PolarsResult<[Column; 4]> {
        Ok([
            self.types.take(kinds)?.into_column(),
            self.labels.take(kinds)?.into_column(),
            self.categories.take(kinds)?.into_column(),
            self.deprecated.take(kinds)?.into_column(),
        ])
    }

    /// These columns with a row appended for each of `unknown` (category "Other", not deprecated).
    fn with_unknown(&self, unknown: &[(String, String)]) -> PolarsResult<CatalogColumns> {
        let strings = |base: &StringChunked, values: Vec<&str>| -> PolarsResult<StringChunked> {
            let mut all = base.clone();
            all.append(&StringChunked::from_iter_values(
                base.name().clone(),
                values.into_iter(),
            ))?;
            Ok(all)
        };
        let n = unknown.len();
        let mut deprecated = self.deprecated.clone();
        deprecated.append(&BooleanChunked::full(cols::DEPRECATED.into(), false, n))?;
        Ok(CatalogColumns {
            len: self.len + n,
            types: strings(&self.types, unknown.iter().map(|u| u.0.as_str()).collect())?,
            labels: strings(&self.labels, unknown.iter().map(|u| u.1.as_str()).collect())?,
            categories: strings(&self.categories, vec![OTHER_CATEGORY; n])?,
            deprecated,
        })
    }
}

/// Owned events from a frame holding (at least) every stored column.
pub fn events_from_frame(df: &DataFrame) -> PolarsResult<Vec<Event>> {
    use cols::*;
    let s = |name: &str| -> PolarsResult<&StringChunked> { df.column(name)?.str() };
    let (id, et, el, cat, an, aid, at, ua, aun, auid, det, sf) = (
        s(EVENT_ID)?,
        s(EVENT_TYPE)?,
        s(EVENT_LABEL)?,
        s(CATEGORY)?,
        s(ACTOR_NAME)?,
        s(ACTOR_ID)?,
        s(ACTOR_TYPE)?,
        s(USER_AGENT)?,
        s(AFFECTED_USER_NAME)?,
        s(AFFECTED_USER_ID)?,
        s(DETAILS)?,
        s(SOURCE_FILE)?,
    );
    let ts = df.column(TIMESTAMP_NS)?.i64()?;
    let dep = df.column(DEPRECATED)?.bool()?;
    let ips = df.column(IP_ADDRESSES)?.list()?;
    let line = df.column(SOURCE_LINE)?.u64()?;
    let owned = |v: Option<&str>| v.map(str::to_owned);
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let ip_addresses: Vec<String> = match ips.get_as_series(i) {
            Some(series) => series.str()?.iter().flatten().map(str::to_owned).collect(),
            None => Vec::new(),
        };
        let ns = ts.get(i).unwrap_or_default();
        let details_text = det.get(i).unwrap_or("{}");
        out.push(Event {
            event_id: id.get(i).unwrap_or_default().to_owned(),
            timestamp: format_timestamp(ns),
            timestamp_ns: ns,
            event_type: et.get(i).unwrap_or_default().to_owned(),
            event_label: el.get(i).unwrap_or_default().to_owned(),
            category: cat.get(i).unwrap_or_default().to_owned(),
            deprecated: dep.get(i).unwrap_or(false),
            actor_name: owned(an.get(i)),
            actor_id: owned(aid.get(i)),
            actor_type: at.get(i).unwrap_or("unknown").to_owned(),
            client_ip: ip_addresses.first().cloned(),
            ip_addresses,
            user_agent: owned(ua.get(i)),
            affected_user_name: owned(aun.get(i)),
            affected_user_id: owned(auid.get(i)),
            details: serde_json::from_str(details_text)
                .unwrap_or_else(|_| serde_json::Value::String(details_text.to_owned())),
            source_file: sf.get(i).unwrap_or_default().to_owned(),
            source_line: line.get(i).unwrap_or_default(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values of the string column `name` of `df`, which has no nulls.
    fn strings(df: &DataFrame, name: &str) -> Vec<String> {
        let col = df.column(name).unwrap().str().unwrap();
        col.iter().map(|v| v.unwrap().to_owned()).collect()
    }

    /// Row `i` of a test batch: a user's event of `kind` at instant `i`, from line `i + 2`.
    fn row<'a>(
        i: usize,
        kind: &'a Resolved<'a>,
        ips: &'a StrList,
        details: &'a str,
    ) -> EventRow<'a> {
        EventRow {
            timestamp_ns: i as i64,
            event_type: kind,
            actor_name: None,
            actor_id: None,
            actor_type: "user",
            ip_addresses: ips,
            user_agent: None,
            affected_user_name: None,
            affected_user_id: None,
            details,
            source_line: i as u64 + 2,
        }
    }

    /// A batch's type columns gathered from the catalog's, with types the catalog does not know
    /// (each row keeping its own name and label) between known ones.
    #[test]
    fn type_columns_come_from_the_catalog_and_unknown_types_keep_their_names() {
        let catalog = Catalog::get();
        let ips = StrList::default();
        let mut batch = EventColumns::with_capacity(5);
        let types = [
            "audit_log::logged_in/1",
            "Brand new thing",
            "Alert rule created",
            "Other new thing",
            "Departing employee added",
        ];
        let resolved: Vec<Resolved<'_>> =
            types.iter().map(|t| catalog.resolve(t).unwrap()).collect();
        let known: Vec<bool> = resolved.iter().map(|r| r.entry.is_some()).collect();
        assert_eq!(known, [true, false, true, false, true]);
        for (i, r) in resolved.iter().enumerate() {
            batch.push(&row(i, r, &ips, "{}"), EventHasher::new().i64(i as i64));
        }
        let df = batch.finish("export.csv").unwrap();
        let strs = |name: &str| strings(&df, name);
        let want = |f: fn(&Resolved<'_>) -> String| resolved.iter().map(f).collect::<Vec<_>>();
        assert_eq!(strs(cols::EVENT_TYPE), want(|r| r.api_name.to_string()));
        assert_eq!(strs(cols::EVENT_LABEL), want(|r| r.label.to_owned()));
        assert_eq!(strs(cols::CATEGORY), want(|r| r.category.to_owned()));
        assert_eq!(strs(cols::EVENT_TYPE)[1], "brand_new_thing");
        assert_eq!(strs(cols::CATEGORY)[3], OTHER_CATEGORY);
        let deprecated: Vec<bool> = df
            .column(cols::DEPRECATED)
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect();
        assert_eq!(deprecated, [false, false, false, false, true]);
    }

    /// Ids hashed [`ID_BATCH`] rows at a time, and the rest at the end, are the ids each row's
    /// hasher gives on its own: rows of many lengths (details up to two BLAKE3 chunks long),
    /// across two batch boundaries, then a frame with its id column.
    #[test]
    fn ids_hashed_in_batches_are_each_rows_id() {
        let catalog = Catalog::get();
        let kind = catalog.resolve("Alert rule created").unwrap();
        let ips = StrList::default();
        let mut batch = EventColumns::with_capacity(0);
        let mut want = Vec::new();
        for i in 0..2 * ID_BATCH + 77 {
            let details = "x".repeat(i * 7 % 2100);
            let mut h = EventHasher::new();
            h.i64(i as i64).str(Some(&details));
            want.push(h.finish());
            batch.push(&row(i, &kind, &ips, &details), &h);
        }
        batch.hash_ids();
        assert_eq!(batch.ids(), want);
        let df = batch.finish("export.csv").unwrap();
        let want: Vec<String> = want.into_iter().map(EventId::to_hex).collect();
        assert_eq!(strings(&df, cols::EVENT_ID), want);
    }
}
