//! psql's expanded display (`\x`): a `-[ RECORD n ]` block per row, a `column | value` line each.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::FormatOptions;

use super::table::formatted_rows;

use console::measure_text_width as width_of;

/// When tables are expanded (psql's `\x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expanded {
    /// Aligned tables (exec's tables; the shell's after `\x off`).
    #[default]
    Off,
    /// Every table expanded.
    On,
    /// Expanded when the aligned table would be wider than the terminal (the shell's default).
    Auto,
}

impl Expanded {
    /// Reads `on`, `off` or `auto` (psql also takes true/false).
    pub fn parse(word: &str) -> Option<Self> {
        match word.to_ascii_lowercase().as_str() {
            "on" | "true" => Some(Self::On),
            "off" | "false" => Some(Self::Off),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }

    /// `\x` alone: psql toggles between expanded and not (auto counts as expanded).
    pub fn toggled(self) -> Self {
        match self {
            Self::Off => Self::On,
            Self::On | Self::Auto => Self::Off,
        }
    }

    /// psql's message after `\x`.
    pub fn message(self) -> &'static str {
        match self {
            Self::Off => "Expanded display is off.",
            Self::On => "Expanded display is on.",
            Self::Auto => "Expanded display is used automatically.",
        }
    }

    /// Whether a table of `columns` columns whose aligned form is `table_width` wide is shown
    /// expanded on a terminal `terminal_width` wide (`None`: not a terminal, where auto never
    /// expands, as in psql). One column is never expanded: that would not make it narrower.
    pub fn applies(
        self,
        columns: usize,
        table_width: usize,
        terminal_width: Option<usize>,
    ) -> bool {
        match self {
            Self::Off => false,
            Self::On => true,
            Self::Auto => columns > 1 && terminal_width.is_some_and(|w| table_width > w),
        }
    }
}

/// The rows in psql's expanded format (border 1), NULL and timestamps as `options` say:
///
/// ```text
/// -[ RECORD 1 ]---------+----------
/// region                | us-east-1
/// ecr_repository_prefix | ecr-public
/// ```
///
/// No rows print `(0 rows)`, as psql does. On a terminal `width` wide the record lines stop at
/// its edge (a long value would otherwise make every one of them wrap); values are never cut.
pub fn expanded_text(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    options: &FormatOptions,
    width: Option<usize>,
) -> Result<String, ArrowError> {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let records = formatted_rows(batches, options)?;
    if records.is_empty() {
        return Ok("(0 rows)\n".into());
    }
    // As psql, one width for the names and one for the values, over the whole result.
    let name_width = names.iter().map(|n| width_of(n)).max().unwrap_or(0);
    let value_width = records
        .iter()
        .flatten()
        .flat_map(|v| v.lines())
        .map(width_of)
        .max()
        .unwrap_or(0);
    let dashes = match width {
        Some(width) => value_width.min(width.saturating_sub(name_width + 3)),
        None => value_width,
    };
    let mut text = String::new();
    for (i, record) in records.iter().enumerate() {
        text.push_str(&record_line(i + 1, name_width, dashes));
        text.push('\n');
        for (name, value) in names.iter().zip(record) {
            // A value of several lines continues under its first, with the name column blank.
            let mut label = *name;
            // An empty value (NULL by default) still has its line.
            let lines: Vec<&str> = match value.lines().collect::<Vec<_>>() {
                lines if lines.is_empty() => vec![""],
                lines => lines,
            };
            for line in lines {
                text.push_str(&format!("{} | {line}\n", pad(label, name_width)));
                label = "";
            }
        }
    }
    Ok(text)
}

fn pad(text: &str, width: usize) -> String {
    let mut padded = text.to_string();
    padded.push_str(&" ".repeat(width.saturating_sub(width_of(text))));
    padded
}

/// psql's record separator for border 1 (`print_aligned_vertical_line`): `-[ RECORD n ]`, dashes
/// to the end of the name column, `-+-` where the columns meet, dashes over the values. A
/// label wider than the name column runs on into the value dashes.
fn record_line(record: usize, name_width: usize, value_width: usize) -> String {
    let label = format!("-[ RECORD {record} ]");
    let mut line = label.clone();
    let label_width = label.len();
    line.push_str(&"-".repeat(name_width.saturating_sub(label_width)));
    // How far the label reaches past the name column, into `-+-` and the value dashes.
    let mut over = label_width as isize - name_width as isize;
    for c in ['-', '+', '-'] {
        if over <= 0 {
            line.push(c);
        }
        over -= 1;
    }
    line.push_str(&"-".repeat(value_width.saturating_sub(over.max(0) as usize)));
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn render(columns: &[(&str, Vec<Option<&str>>)], null: &str) -> String {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, _)| Field::new(*n, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        let arrays = columns
            .iter()
            .map(|(_, v)| Arc::new(StringArray::from(v.clone())) as ArrayRef)
            .collect();
        let batch = RecordBatch::try_new(Arc::clone(&schema), arrays).unwrap();
        expanded_text(
            &schema,
            &[batch],
            &FormatOptions::default().with_null(null),
            None,
        )
        .unwrap()
    }

    #[test]
    fn psqls_layout() {
        let text = render(
            &[
                ("region", vec![Some("us-east-1"), Some("eu-west-1")]),
                ("ecr_repository_prefix", vec![Some("ecr-public"), None]),
            ],
            "(null)",
        );
        assert_eq!(
            text,
            "-[ RECORD 1 ]---------+-----------\n\
             region                | us-east-1\n\
             ecr_repository_prefix | ecr-public\n\
             -[ RECORD 2 ]---------+-----------\n\
             region                | eu-west-1\n\
             ecr_repository_prefix | (null)\n"
        );
    }

    #[test]
    fn short_names_let_the_label_run_on() {
        // psql: `SELECT 1 AS n, 'abcdefghijklmnopq' AS v` with \x.
        let text = render(
            &[
                ("n", vec![Some("1")]),
                ("v", vec![Some("abcdefghijklmnopq")]),
            ],
            "",
        );
        assert_eq!(
            text,
            "-[ RECORD 1 ]--------\nn | 1\nv | abcdefghijklmnopq\n"
        );
        let text = render(&[("n", vec![Some("1")])], "");
        assert_eq!(text, "-[ RECORD 1 ]\nn | 1\n");
    }

    #[test]
    fn multi_line_values_and_no_rows() {
        let text = render(&[("a", vec![Some("x\ny")]), ("bb", vec![None])], "");
        assert_eq!(text, "-[ RECORD 1 ]\na  | x\n   | y\nbb | \n");
        let text = render(&[("a", vec![])], "");
        assert_eq!(text, "(0 rows)\n");
    }

    #[test]
    fn record_lines_stop_at_the_terminals_edge() {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Utf8, true)]));
        let long = "x".repeat(100);
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(StringArray::from(vec![long.as_str()])) as ArrayRef],
        )
        .unwrap();
        let text = expanded_text(&schema, &[batch], &FormatOptions::default(), Some(40)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0].len(), 40, "{text}");
        assert_eq!(lines[1], format!("v | {long}"));
    }

    #[test]
    fn auto_expands_only_a_table_wider_than_the_terminal() {
        assert!(Expanded::Auto.applies(2, 100, Some(80)));
        assert!(!Expanded::Auto.applies(2, 80, Some(80)));
        assert!(!Expanded::Auto.applies(1, 100, Some(80)));
        assert!(!Expanded::Auto.applies(2, 100, None));
        assert!(Expanded::On.applies(1, 1, None));
        assert!(!Expanded::Off.applies(2, 100, Some(80)));
        assert_eq!(Expanded::Auto.toggled(), Expanded::Off);
        assert_eq!(Expanded::Off.toggled(), Expanded::On);
    }
}
