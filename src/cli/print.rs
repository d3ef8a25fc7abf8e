//! Writes results in the output formats: table, csv (RFC 4180), json (array), ndjson.

use std::io::Write;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
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

impl OutputFormat {
    /// The name `-o` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Csv => "csv",
            Self::Json => "json",
            Self::Ndjson => "ndjson",
        }
    }

    /// Whether one output of this format is one table: csv has one header, so the results of
    /// several statements follow one another only when they have the same columns. (json
    /// prints each result set as one array on its own line: JSON Lines, one document each.)
    pub fn one_table(self) -> bool {
        matches!(self, Self::Csv)
    }
}

/// CSV has no nested values: list (and other nested) columns become JSON text, e.g.
/// `["ecr:CreateRepository","ecr:BatchImportUpstreamImage"]`, which any CSV reader can parse.
fn nested_as_json(batch: &RecordBatch) -> std::result::Result<RecordBatch, ArrowError> {
    if !batch
        .schema()
        .fields()
        .iter()
        .any(|f| f.data_type().is_nested())
    {
        return Ok(batch.clone());
    }
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
        if !field.data_type().is_nested() {
            fields.push(field.as_ref().clone());
            columns.push(Arc::clone(array));
            continue;
        }
        // arrow-json renders the nested value; each line is {"<name>": <value>}.
        let one = RecordBatch::try_new(
            Arc::new(Schema::new(vec![field.as_ref().clone()])),
            vec![Arc::clone(array)],
        )?;
        let mut text = Vec::new();
        let mut writer = JsonWriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, LineDelimited>(&mut text);
        writer.write(&one)?;
        writer.finish()?;
        drop(writer);
        let values: Vec<Option<String>> = String::from_utf8_lossy(&text)
            .lines()
            .map(|line| {
                let row: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
                match row.get(field.name()) {
                    None | Some(serde_json::Value::Null) => None,
                    Some(v) => Some(v.to_string()),
                }
            })
            .collect();
        fields.push(Field::new(field.name(), DataType::Utf8, true));
        columns.push(Arc::new(StringArray::from(values)) as ArrayRef);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// Writes `batches` to `out` in `format`. An empty result still has its header (csv) or `[]` (json).
pub fn write_batches(
    out: &mut dyn Write,
    format: OutputFormat,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<()> {
    write_batches_fitted(out, format, schema, batches, None)
}

/// Like [`write_batches`], for the rows of a result that continues the previous one's table
/// (the same columns): csv writes no second header.
pub fn write_batches_continued(
    out: &mut dyn Write,
    format: OutputFormat,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<()> {
    write_batches_with(out, format, schema, batches, None, false)
}

/// Like [`write_batches`]; with `width`, a table is made to fit that many columns by shortening
/// long values with an ellipsis (the shell's terminal). Other formats are never shortened.
pub fn write_batches_fitted(
    out: &mut dyn Write,
    format: OutputFormat,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    width: Option<usize>,
) -> Result<()> {
    write_batches_with(out, format, schema, batches, width, true)
}

fn write_batches_with(
    out: &mut dyn Write,
    format: OutputFormat,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    width: Option<usize>,
    header: bool,
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
            let fitted;
            let batches = match width {
                Some(width) => {
                    fitted = [fit_table(schema, batches, &options, width).map_err(fail)?];
                    &fitted[..]
                }
                None => batches,
            };
            let table = pretty_format_batches_with_options(batches, &options).map_err(fail)?;
            writeln!(out, "{table}").map_err(|e| Error::io("cannot write the results", e))?;
        }
        OutputFormat::Csv => {
            let mut writer = CsvWriterBuilder::new()
                .with_header(header)
                .with_timestamp_tz_format(RFC3339_UTC.to_string())
                .build(&mut *out);
            for batch in batches {
                writer
                    .write(&nested_as_json(batch).map_err(fail)?)
                    .map_err(fail)?;
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

/// The narrowest a shortened column gets (its values then end in `…`).
const MIN_COLUMN: usize = 6;

/// The rows as text, each column shortened so the table is at most `width` wide: the widest
/// column gives way first, and no column goes below [`MIN_COLUMN`] (a very narrow terminal
/// still gets a wider table rather than an unreadable one).
fn fit_table(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    options: &FormatOptions,
    width: usize,
) -> std::result::Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    use datafusion::arrow::array::{ArrayRef, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::util::display::ArrayFormatter;
    use std::sync::Arc;

    let n = schema.fields().len();
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); n];
    for batch in batches {
        for (i, column) in batch.columns().iter().enumerate() {
            let formatter = ArrayFormatter::try_new(column.as_ref(), options)?;
            for row in 0..batch.num_rows() {
                cells[i].push(formatter.value(row).try_to_string()?);
            }
        }
    }
    let chars = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = schema
        .fields()
        .iter()
        .zip(&cells)
        .map(|(f, c)| {
            c.iter()
                .map(|v| chars(v))
                .max()
                .unwrap_or(0)
                .max(chars(f.name()))
        })
        .collect();
    // Borders: "| " before each column, " " after it, and a final "|".
    let total = |w: &[usize]| w.iter().sum::<usize>() + 3 * w.len() + 1;
    while total(&widths) > width {
        let (widest, &w) = widths
            .iter()
            .enumerate()
            .max_by_key(|(_, w)| **w)
            .expect("a column");
        if w <= MIN_COLUMN {
            break;
        }
        widths[widest] = w - 1;
    }
    let shorten = |s: &str, max: usize| -> String {
        if chars(s) <= max {
            s.to_string()
        } else {
            let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
            t.push('…');
            t
        }
    };
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(&widths)
        .map(|(f, w)| Field::new(shorten(f.name(), *w), DataType::Utf8, false))
        .collect();
    let columns: Vec<ArrayRef> = cells
        .iter()
        .zip(&widths)
        .map(|(c, w)| {
            Arc::new(StringArray::from_iter_values(
                c.iter().map(|v| shorten(v, *w)),
            )) as ArrayRef
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn sample() -> (SchemaRef, Vec<RecordBatch>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("url", DataType::Utf8, true),
        ]));
        let long = "x".repeat(100);
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("a"), None])),
                Arc::new(StringArray::from(vec![Some(long.as_str()), Some("short")])),
            ],
        )
        .unwrap();
        (schema, vec![batch])
    }

    fn render(format: OutputFormat, width: Option<usize>) -> String {
        let (schema, batches) = sample();
        let mut out = Vec::new();
        write_batches_fitted(&mut out, format, &schema, &batches, width).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn tables_fit_the_width_with_an_ellipsis() {
        let table = render(OutputFormat::Table, Some(40));
        assert!(table.lines().all(|l| l.chars().count() <= 40), "{table}");
        assert!(table.contains('…') && table.contains("NULL"), "{table}");
        assert!(!render(OutputFormat::Table, None).contains('…'));
    }

    #[test]
    fn other_formats_are_never_shortened() {
        for format in [OutputFormat::Csv, OutputFormat::Json, OutputFormat::Ndjson] {
            let text = render(format, Some(40));
            assert!(
                text.contains(&"x".repeat(100)) && !text.contains('…'),
                "{text}"
            );
        }
    }
}
