//! Request parsing and step dispatch shared by the JSON API (`api/`) and the pages (`ui/`):
//! query and body types, multipart readers, and the `*_run` functions that turn one
//! workflow step into one service call. One module per capability, as in the other layers.

pub mod attachments;
pub mod claims;
pub mod consent;
pub mod disputes;
pub mod policies;
pub mod products;
pub mod registry;
pub mod subsidies;
