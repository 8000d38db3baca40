/*!
The canonical event model: one schema every reader maps into and every analysis reads from, and the
event catalog. Nothing here does I/O.
*/

pub mod catalog;
pub mod event;
pub mod many_hashes;
pub mod schema;

pub use catalog::{Catalog, EventType, Tag};
pub use event::{ActorType, Event, EventId};
pub use schema::{EventColumns, cols};
