//! The table format as psql's aligned one: numbers right-aligned, a `(N rows)` footer, expanded
//! when `\x` says so, and on a narrow terminal only its widest columns wrapped.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use comfy_table::{Cell, CellAlignment, ColumnConstraint, Table, Width};
use console::measure_text_width;

use super::expanded::expanded_text;
use super::print::Layout;

/// The widest value that is never wrapped: timestamps (20 columns), regions, account ids and
/// the names of registries and prefixes stay whole, and a wrapped column is no narrower than
/// this (nor than its header), so a wrapped cell never leaves a stub of a few characters,
/// unless the terminal is too narrow for that: then down to its header.
const SHORT_VALUE: usize = 30;

/// The text of a result in the table format.
#[derive(Debug)]
pub struct TableText {
    /// The text, ending in a newline.
    pub text: String,
    /// Whether it is the aligned table (whose lines must not be wrapped by a pager), not
    /// expanded records.
    pub aligned: bool,
}

/// The rows of `batches` as a table: aligned (the look of arrow's pretty printer, whose
/// comfy-table this is) with psql's footer, expanded when `layout` says so, or with its widest
/// columns wrapped when the aligned table is wider than the terminal.
pub fn table_text(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    options: &FormatOptions,
    layout: &Layout<'_>,
) -> Result<TableText, ArrowError> {
    let headers: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let rows = formatted_rows(batches, options)?;
    let natural = natural_widths(&headers, &rows);
    let widest = aligned_width(&natural);
    if layout.expanded.applies(headers.len(), widest, layout.width) {
        return Ok(TableText {
            text: expanded_text(schema, batches, options, layout.width)?,
            aligned: false,
        });
    }
    let mut table = Table::new();
    // arrow's preset: `+---+` rules, `|` columns, a rule under the header.
    table.load_preset("||--+-++|    ++++++");
    // psql right-aligns numbers, so their digits line up; headers stay at the left.
    table.set_header(
        headers
            .iter()
            .map(|h| Cell::new(h).set_alignment(CellAlignment::Left)),
    );
    let count = rows.len();
    for row in rows {
        table.add_row(row);
    }
    for (column, field) in table.column_iter_mut().zip(schema.fields()) {
        if field.data_type().is_numeric() {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    if let Some(width) = layout.width
        && widest > width
    {
        // Nothing is cut off.
        let room = content_room(width, natural.len());
        let mut floors = floor_widths(&headers, &natural);
        if floors.iter().sum::<usize>() > room {
            // Too narrow for long values of SHORT_VALUE: they may narrow to their header.
            floors = floors
                .iter()
                .zip(&natural)
                .zip(&headers)
                .map(|((&floor, &full), header)| match full > SHORT_VALUE {
                    true => full.min(measure_text_width(header)),
                    false => floor,
                })
                .collect();
        }
        // A table that cannot fit even so keeps its widths: wrapping would only make it taller
        // (the pager scrolls it sideways).
        let fitted = match floors.iter().sum::<usize>() > room {
            true => natural.clone(),
            false => fitted_widths(&natural, &floors, room),
        };
        for (i, (fit, full)) in fitted.iter().zip(&natural).enumerate() {
            if fit < full
                && let Some(column) = table.column_mut(i)
            {
                // comfy-table wraps the cells of a column at its width (at spaces where it
                // can); the width it is given includes the column's padding.
                let padded = u16::try_from(fit + 2).unwrap_or(u16::MAX);
                column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(padded)));
            }
        }
    }
    let text = match layout.footer {
        true => format!("{table}\n{}\n", footer(count)),
        false => format!("{table}\n"),
    };
    Ok(TableText {
        text,
        aligned: true,
    })
}

/// psql's footer under an aligned table.
pub fn footer(rows: usize) -> String {
    if rows == 1 {
        "(1 row)".to_string()
    } else {
        format!("({rows} rows)")
    }
}

/// Every cell as text, row by row.
pub fn formatted_rows(
    batches: &[RecordBatch],
    options: &FormatOptions,
) -> Result<Vec<Vec<String>>, ArrowError> {
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).try_to_string())
                    .collect::<Result<_, _>>()?,
            );
        }
    }
    Ok(rows)
}

/// Each column's width in the aligned table: its header's or its widest line's.
fn natural_widths(headers: &[&str], rows: &[Vec<String>]) -> Vec<usize> {
    headers
        .iter()
        .enumerate()
        .map(|(i, header)| {
            rows.iter()
                .filter_map(|row| row.get(i))
                .flat_map(|cell| cell.lines())
                .map(measure_text_width)
                .chain([measure_text_width(header)])
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// The width of the aligned table whose columns' contents are `widths` wide: a space either
/// side of each, and `|` before, between and after them.
fn aligned_width(widths: &[usize]) -> usize {
    widths.iter().sum::<usize>() + 3 * widths.len() + 1
}

/// The room for the columns' contents in a table `width` wide.
fn content_room(width: usize, columns: usize) -> usize {
    width.saturating_sub(3 * columns + 1)
}

/// How narrow each column may become: never narrower than its header, and a column whose
/// values are short is never wrapped at all.
fn floor_widths(headers: &[&str], natural: &[usize]) -> Vec<usize> {
    headers
        .iter()
        .zip(natural)
        .map(|(header, &full)| full.min(measure_text_width(header).max(SHORT_VALUE)))
        .collect()
}

/// Column widths whose sum fits `room`, shrinking only the widest columns: every column wider
/// than some cap is cut to it (never below its floor), the others keep their width. The cap is
/// the highest that fits, and what it leaves over goes to the capped columns, so the table
/// fills the room. When even the floors do not fit, the floors.
fn fitted_widths(natural: &[usize], floors: &[usize], room: usize) -> Vec<usize> {
    let at_cap = |cap: usize| -> Vec<usize> {
        natural
            .iter()
            .zip(floors)
            .map(|(&full, &floor)| full.min(cap).max(floor))
            .collect()
    };
    if natural.iter().sum::<usize>() <= room {
        return natural.to_vec();
    }
    // The sum at a cap grows with the cap: find the highest cap that fits.
    let (mut low, mut high) = (0, natural.iter().copied().max().unwrap_or(0));
    if at_cap(low).iter().sum::<usize>() > room {
        return at_cap(low);
    }
    while low < high {
        let mid = (low + high).div_ceil(2);
        if at_cap(mid).iter().sum::<usize>() <= room {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    let mut widths = at_cap(low);
    let mut spare = room - widths.iter().sum::<usize>();
    for (width, &full) in widths.iter_mut().zip(natural) {
        if spare == 0 {
            break;
        }
        if *width < full {
            *width += 1;
            spare -= 1;
        }
    }
    widths
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::expanded::Expanded;
    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    fn text(columns: Vec<(&str, ArrayRef)>, width: Option<usize>) -> String {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            columns.into_iter().map(|c| c.1).collect(),
        )
        .unwrap();
        let layout = Layout {
            width,
            expanded: Expanded::Off,
            footer: true,
            ..Layout::default()
        };
        table_text(&schema, &[batch], &FormatOptions::default(), &layout)
            .unwrap()
            .text
    }

    fn strings(values: &[&str]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    #[test]
    fn numbers_are_right_aligned_under_a_left_header_and_rows_are_counted() {
        let table = text(
            vec![
                ("region", strings(&["eu-west-1", "us-east-1"])),
                ("count", Arc::new(Int64Array::from(vec![4, 12]))),
            ],
            None,
        );
        assert_eq!(
            table,
            "+-----------+-------+\n\
             | region    | count |\n\
             +-----------+-------+\n\
             | eu-west-1 |     4 |\n\
             | us-east-1 |    12 |\n\
             +-----------+-------+\n\
             (2 rows)\n"
        );
        let one = text(vec![("n", Arc::new(Int64Array::from(vec![1])))], None);
        assert!(one.ends_with("+---+\n(1 row)\n"), "{one}");
        let none = text(
            vec![("n", Arc::new(Int64Array::from(Vec::<i64>::new())))],
            None,
        );
        assert_eq!(none, "+---+\n| n |\n+---+\n+---+\n(0 rows)\n");
    }

    #[test]
    fn wrapping_shrinks_only_the_widest_columns() {
        let arn = format!("arn:aws:secretsmanager:{}", "x".repeat(70));
        let stamp = "2025-06-01T12:00:00Z";
        let table = text(
            vec![
                ("ecr_repository_prefix", strings(&["x"])),
                ("upstream_registry", strings(&["github-container-registry"])),
                ("created_at", strings(&[stamp])),
                ("credential_arn", strings(&[arn.as_str()])),
            ],
            Some(120),
        );
        let lines: Vec<&str> = table.lines().collect();
        assert!(
            lines
                .iter()
                .all(|l| measure_text_width(l) == 120 || l.starts_with('(')),
            "{table}"
        );
        // Headers and short values are whole on the first line; only the ARN wraps.
        assert!(
            lines[1].contains("| ecr_repository_prefix | upstream_registry ")
                && lines[3].contains("| github-container-registry | 2025-06-01T12:00:00Z |"),
            "{table}"
        );
        let arn_again: String = lines[3..lines.len() - 2]
            .iter()
            .map(|l| l.split('|').nth(4).unwrap().trim())
            .collect();
        assert_eq!(arn_again, arn, "{table}");
        assert_eq!(lines.last(), Some(&"(1 row)"));
    }

    #[test]
    fn a_table_too_wide_even_when_wrapped_keeps_its_widths() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/x";
        let table = text(
            vec![
                ("ecr_repository_prefix", strings(&["docker-hub"])),
                ("upstream_registry_url", strings(&["registry-1.docker.io"])),
                ("upstream_repository_prefix", strings(&["ROOT"])),
                ("credential_arn", strings(&[arn])),
            ],
            Some(60),
        );
        // Its short columns alone are wider than 60: the ARN stays on one line.
        assert_eq!(table.lines().count(), 6, "{table}");
        assert!(table.contains(arn), "{table}");
    }

    #[test]
    fn fitted_widths_cap_the_widest_and_fill_the_room() {
        // Fits: unchanged.
        assert_eq!(fitted_widths(&[5, 10], &[5, 10], 20), [5, 10]);
        // One wide column takes the cut, to the exact room.
        assert_eq!(fitted_widths(&[9, 21, 91], &[9, 21, 30], 70), [9, 21, 40]);
        // Two wide ones share it, never below their floors; the spare column goes to one.
        assert_eq!(
            fitted_widths(&[10, 80, 61], &[10, 30, 30], 81),
            [10, 36, 35]
        );
        // Too narrow even for the floors: the floors.
        assert_eq!(
            fitted_widths(&[20, 90, 90], &[20, 30, 30], 40),
            [20, 30, 30]
        );
    }

    #[test]
    fn floors_keep_headers_and_short_values_whole() {
        assert_eq!(
            floor_widths(&["ecr_repository_prefix", "created_at", "a"], &[21, 20, 91]),
            [21, 20, 30]
        );
        assert_eq!(
            floor_widths(&["upstream_repository_prefix_long_name_x"], &[80]),
            [38]
        );
    }
}
