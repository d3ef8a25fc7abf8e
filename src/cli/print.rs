//! Writes results in the output formats: table, csv (RFC 4180), json (array), ndjson.

use std::io::Write;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::FormatOptions;

use super::expanded::Expanded;
use super::table::table_text;
use crate::error::{Error, Result};
use crate::formats::{FileFormat, FormatWriter, RFC3339_UTC, write_error};

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

    /// The file format this output writes (the table is for reading on a terminal only).
    pub fn file_format(self) -> Option<FileFormat> {
        match self {
            Self::Table => None,
            Self::Csv => Some(FileFormat::Csv),
            Self::Json => Some(FileFormat::Json),
            Self::Ndjson => Some(FileFormat::Ndjson),
        }
    }
}

/// How tables are laid out: psql's `\pset null` and `\x`, and the terminal's width. exec's
/// tables use the default: NULL as an empty cell, aligned, never wrapped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Layout<'a> {
    /// The text of NULL (empty, as psql shows it, so NULL differs from the string 'NULL').
    pub null: &'a str,
    /// The terminal's width: a wider table is expanded (`\x auto`) or its cells wrapped to fit.
    /// `None` (not a terminal) leaves tables as wide as their values.
    pub width: Option<usize>,
    /// psql's expanded display.
    pub expanded: Expanded,
    /// psql's `(N rows)` under an aligned table (the shell's; exec's tables have none, so a
    /// script's output is only the table).
    pub footer: bool,
}

/// Writes `batches` to `out` in `format`. An empty result still has its header (csv) or `[]` (json).
pub fn write_batches(
    out: &mut dyn Write,
    format: OutputFormat,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<()> {
    write_batches_with(out, format, schema, batches, &Layout::default(), true).map(|_| ())
}

/// Like [`write_batches`], for the rows of a result that continues the previous one's table
/// (the same columns): csv writes no second header.
pub fn write_batches_continued(
    out: &mut dyn Write,
    format: OutputFormat,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<()> {
    write_batches_with(out, format, schema, batches, &Layout::default(), false).map(|_| ())
}

/// Like [`write_batches`], with tables laid out as `layout` says (the shell). Other formats are
/// never changed by it. Answers whether the text is an aligned table, whose lines a pager must
/// not wrap (expanded records and the other formats may wrap: each line is one value).
pub fn write_batches_laid_out(
    out: &mut dyn Write,
    format: OutputFormat,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    layout: &Layout<'_>,
) -> Result<bool> {
    write_batches_with(out, format, schema, batches, layout, true)
}

fn write_batches_with(
    out: &mut dyn Write,
    format: OutputFormat,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    layout: &Layout<'_>,
    header: bool,
) -> Result<bool> {
    const CONTEXT: &str = "cannot write the results";
    let Some(file_format) = format.file_format() else {
        let empty;
        let batches = if batches.is_empty() {
            empty = [RecordBatch::new_empty(schema.clone())];
            &empty[..]
        } else {
            batches
        };
        let options = FormatOptions::default()
            .with_null(layout.null)
            .with_timestamp_tz_format(Some(RFC3339_UTC));
        let table =
            table_text(schema, batches, &options, layout).map_err(|e| write_error(CONTEXT, e))?;
        write!(out, "{}", table.text).map_err(|e| Error::io(CONTEXT, e))?;
        out.flush().map_err(|e| Error::io(CONTEXT, e))?;
        return Ok(table.aligned);
    };
    let mut writer = FormatWriter::new(out, file_format, schema.clone(), header);
    for batch in batches {
        writer.write(batch).map_err(|e| write_error(CONTEXT, e))?;
    }
    writer.finish().map_err(|e| write_error(CONTEXT, e))?;
    Ok(false)
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
                Arc::new(StringArray::from(vec![Some("a"), None, Some("NULL")])),
                Arc::new(StringArray::from(vec![
                    Some(long.as_str()),
                    Some("short"),
                    Some("s"),
                ])),
            ],
        )
        .unwrap();
        (schema, vec![batch])
    }

    fn render(format: OutputFormat, layout: &Layout<'_>) -> String {
        let (schema, batches) = sample();
        let mut out = Vec::new();
        write_batches_laid_out(&mut out, format, &schema, &batches, layout).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn tables_are_arrows_aligned_tables_with_null_empty() {
        let table = render(OutputFormat::Table, &Layout::default());
        let long = "x".repeat(100);
        assert_eq!(
            table,
            format!(
                "+------+{dashes}+\n\
                 | name | url{pad} |\n\
                 +------+{dashes}+\n\
                 | a    | {long} |\n\
                 |      | short{pad2} |\n\
                 | NULL | s{pad3} |\n\
                 +------+{dashes}+\n",
                dashes = "-".repeat(102),
                pad = " ".repeat(97),
                pad2 = " ".repeat(95),
                pad3 = " ".repeat(99),
            )
        );
        // psql's \pset null.
        let null = Layout {
            null: "(null)",
            ..Layout::default()
        };
        assert!(render(OutputFormat::Table, &null).contains("| (null) | short"));
    }

    #[test]
    fn tables_wrap_to_the_width_without_cutting_values() {
        // (A wrapped column keeps at least 30 characters: 50 columns fit it and the name.)
        let layout = Layout {
            width: Some(50),
            ..Layout::default()
        };
        let table = render(OutputFormat::Table, &layout);
        assert!(table.lines().all(|l| l.chars().count() <= 50), "{table}");
        assert!(!table.contains('…'), "{table}");
        // Every x is still there, over several lines of the cell.
        assert_eq!(table.matches('x').count(), 100, "{table}");
    }

    #[test]
    fn auto_expands_a_table_wider_than_the_terminal() {
        let auto = |width| Layout {
            width: Some(width),
            expanded: Expanded::Auto,
            ..Layout::default()
        };
        let narrow = render(OutputFormat::Table, &auto(40));
        assert!(narrow.starts_with("-[ RECORD 1 ]"), "{narrow}");
        assert!(
            narrow.contains(&format!("url  | {}", "x".repeat(100))),
            "{narrow}"
        );
        let wide = render(OutputFormat::Table, &auto(200));
        assert!(wide.starts_with("+------+"), "{wide}");
    }

    #[test]
    fn other_formats_are_never_changed_by_the_layout() {
        let layout = Layout {
            null: "(null)",
            width: Some(40),
            expanded: Expanded::On,
            footer: true,
        };
        for format in [OutputFormat::Csv, OutputFormat::Json, OutputFormat::Ndjson] {
            let text = render(format, &layout);
            assert!(
                text.contains(&"x".repeat(100))
                    && !text.contains("RECORD")
                    && !text.contains("(null)"),
                "{text}"
            );
        }
    }
}
