//! Writes results in the output formats: table, csv (RFC 4180), json (array), ndjson.

use std::io::Write;

use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::writer::{
    JsonArray, LineDelimited, WriterBuilder as JsonWriterBuilder,
};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::FormatOptions;
use datafusion::arrow::util::pretty::pretty_format_batches_with_options;

use crate::error::{Error, Result};

/// Timestamps as RFC 3339 in UTC (every timestamp column is UTC).
const RFC3339_UTC: &str = "%Y-%m-%dT%H:%M:%S%.fZ";

/// An output format (`--output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// An aligned text table.
    #[default]
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// Writes `batches` to `out` in `format`. An empty result still has its header (csv) or `[]` (json).
pub fn write_batches(
    out: &mut dyn Write,
    format: OutputFormat,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<()> {
    let empty;
    let batches = if batches.is_empty() {
        empty = [RecordBatch::new_empty(schema.clone())];
        &empty[..]
    } else {
        batches
    };
    let fail = |e: datafusion::arrow::error::ArrowError| match e {
        datafusion::arrow::error::ArrowError::IoError(_, io) => {
            Error::io("cannot write the results", io)
        }
        other => Error::Runtime(format!("cannot format the results: {other}")),
    };
    match format {
        OutputFormat::Table => {
            let options = FormatOptions::default()
                .with_null("NULL")
                .with_timestamp_tz_format(Some(RFC3339_UTC));
            let table = pretty_format_batches_with_options(batches, &options).map_err(fail)?;
            writeln!(out, "{table}").map_err(|e| Error::io("cannot write the results", e))?;
        }
        OutputFormat::Csv => {
            let mut writer = CsvWriterBuilder::new()
                .with_header(true)
                .with_timestamp_tz_format(RFC3339_UTC.to_string())
                .build(&mut *out);
            for batch in batches {
                writer.write(batch).map_err(fail)?;
            }
        }
        OutputFormat::Json => {
            let mut writer = JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .with_timestamp_tz_format(RFC3339_UTC.to_string())
                .build::<_, JsonArray>(&mut *out);
            for batch in batches {
                writer.write(batch).map_err(fail)?;
            }
            writer.finish().map_err(fail)?;
            writeln!(out).map_err(|e| Error::io("cannot write the results", e))?;
        }
        OutputFormat::Ndjson => {
            let mut writer = JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .with_timestamp_tz_format(RFC3339_UTC.to_string())
                .build::<_, LineDelimited>(&mut *out);
            for batch in batches {
                writer.write(batch).map_err(fail)?;
            }
            writer.finish().map_err(fail)?;
        }
    }
    out.flush()
        .map_err(|e| Error::io("cannot write the results", e))
}
