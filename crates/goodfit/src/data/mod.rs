//! Reading and understanding labelled data: files into tables, tables into datasets,
//! and what can be learned about a dataset before any training.

pub mod augment;
mod bytes;
pub mod csv_reader;
pub mod dataset;
pub mod duplicates;
pub mod image_folder;
pub mod image_stats;
pub mod inspect;
pub mod jsonl_reader;
pub mod label;
pub mod lengths;
pub mod parquet_reader;
pub mod predictions;
pub mod read;
pub mod split;
pub mod table;
pub mod write;

pub use dataset::{ColumnSpec, Dataset, Inputs};
pub use inspect::{inspect, DataSummary};
pub use label::{Label, LabelMap};
pub use predictions::{read_predictions, PredictionColumns, Predictions};
pub use read::{read_table, Format, ReadOptions};
pub use split::{stratified_kfold, stratified_split, Folds, Split};
pub use table::{Cell, Row, Table};
pub use write::write_table;
