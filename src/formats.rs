//! The file formats of results, written alike by `-o` and `COPY … TO`: csv (RFC 4180, lists as
//! JSON text), json (one array of objects) and ndjson (one object per line).

use std::io::Write;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::json::writer::{
    JsonArray, LineDelimited, Writer as JsonWriter, WriterBuilder as JsonWriterBuilder,
};
use datafusion::arrow::record_batch::RecordBatch;

use crate::error::Error;

/// Timestamps as RFC 3339 in UTC (every timestamp column is UTC).
pub const RFC3339_UTC: &str = "%Y-%m-%dT%H:%M:%S%.fZ";

/// A file format of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// CSV with a header row; nested values as JSON text.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

impl FileFormat {
    /// Every format, in the order messages list them.
    pub const ALL: [Self; 3] = [Self::Csv, Self::Json, Self::Ndjson];

    /// The format's name (`-o`, `STORED AS`, a file's extension).
    pub fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
            Self::Ndjson => "ndjson",
        }
    }

    /// The format a name (or a file's extension) stands for, in any case: `jsonl` is ndjson.
    pub fn named(name: &str) -> Option<Self> {
        let name = name.to_ascii_lowercase();
        if name == "jsonl" {
            return Some(Self::Ndjson);
        }
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Writes one result in one format, batch by batch. An empty result still has its header
/// (csv) or `[]` (json).
pub struct FormatWriter<W: Write> {
    schema: SchemaRef,
    wrote: bool,
    sink: Sink<W>,
}

enum Sink<W: Write> {
    Csv { out: W, header: bool },
    Json(JsonWriter<W, JsonArray>),
    Ndjson(JsonWriter<W, LineDelimited>),
}

impl<W: Write> FormatWriter<W> {
    /// Starts writing `format` to `out`; `header` is csv's header row (not written for rows that
    /// continue a table printed before).
    pub fn new(out: W, format: FileFormat, schema: SchemaRef, header: bool) -> Self {
        let json = || {
            JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .with_timestamp_tz_format(RFC3339_UTC.to_string())
        };
        let sink = match format {
            FileFormat::Csv => Sink::Csv { out, header },
            FileFormat::Json => Sink::Json(json().build::<_, JsonArray>(out)),
            FileFormat::Ndjson => Sink::Ndjson(json().build::<_, LineDelimited>(out)),
        };
        Self {
            schema,
            wrote: false,
            sink,
        }
    }

    /// Writes the rows of `batch`.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        self.wrote = true;
        match &mut self.sink {
            Sink::Csv { out, header } => {
                // arrow's csv writer reports a failed write as text (a closed pipe would read
                // as a formatting error), so each batch is formatted first, then written.
                let mut text = Vec::new();
                CsvWriterBuilder::new()
                    .with_header(std::mem::take(header))
                    .with_timestamp_tz_format(RFC3339_UTC.to_string())
                    .build(&mut text)
                    .write(&nested_as_json(batch)?)?;
                out.write_all(&text)?;
                Ok(())
            }
            Sink::Json(writer) => writer.write(batch),
            Sink::Ndjson(writer) => writer.write(batch),
        }
    }

    /// Ends the result (json's closing bracket and newline) and flushes; answers the writer.
    pub fn finish(mut self) -> Result<W, ArrowError> {
        if !self.wrote {
            self.write(&RecordBatch::new_empty(Arc::clone(&self.schema)))?;
        }
        let mut out = match self.sink {
            Sink::Csv { out, .. } => out,
            Sink::Json(mut writer) => {
                writer.finish()?;
                let mut out = writer.into_inner();
                writeln!(out)?;
                out
            }
            Sink::Ndjson(mut writer) => {
                writer.finish()?;
                writer.into_inner()
            }
        };
        out.flush()?;
        Ok(out)
    }
}

/// A failed write of results, as skyql's error: an I/O failure keeps its kind (a closed pipe is
/// told apart from a full disk), with `context` saying what was being written.
pub fn write_error(context: &str, e: ArrowError) -> Error {
    match e {
        ArrowError::IoError(_, io) => Error::io(context, io),
        other => Error::Runtime(format!("cannot format the results: {other}")),
    }
}

/// CSV has no nested values: list (and other nested) columns become JSON text, e.g.
/// `["ecr:CreateRepository","ecr:BatchImportUpstreamImage"]`, which any CSV reader can parse.
fn nested_as_json(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, ListBuilder, StringBuilder};

    fn with_a_list() -> (SchemaRef, RecordBatch) {
        let mut actions = ListBuilder::new(StringBuilder::new());
        actions.values().append_value("ecr:CreateRepository");
        actions
            .values()
            .append_value("ecr:BatchImportUpstreamImage");
        actions.append(true);
        actions.append(false);
        let actions = actions.finish();
        let schema = Arc::new(Schema::new(vec![
            Field::new("prefix", DataType::Utf8, true),
            Field::new("actions", actions.data_type().clone(), true),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(StringArray::from(vec![Some("quay"), Some("a,b")])),
                Arc::new(actions),
            ],
        )
        .unwrap();
        (schema, batch)
    }

    fn written(format: FileFormat, batches: &[RecordBatch], schema: SchemaRef) -> String {
        let mut writer = FormatWriter::new(Vec::new(), format, schema, true);
        for batch in batches {
            writer.write(batch).unwrap();
        }
        String::from_utf8(writer.finish().unwrap()).unwrap()
    }

    #[test]
    fn csv_writes_lists_as_json_text_and_one_header() {
        let (schema, batch) = with_a_list();
        assert_eq!(
            written(FileFormat::Csv, &[batch.clone(), batch], schema),
            "prefix,actions\n\
             quay,\"[\"\"ecr:CreateRepository\"\",\"\"ecr:BatchImportUpstreamImage\"\"]\"\n\
             \"a,b\",\n\
             quay,\"[\"\"ecr:CreateRepository\"\",\"\"ecr:BatchImportUpstreamImage\"\"]\"\n\
             \"a,b\",\n"
        );
    }

    #[test]
    fn an_empty_result_has_its_header_or_empty_array() {
        let (schema, _) = with_a_list();
        assert_eq!(
            written(FileFormat::Csv, &[], Arc::clone(&schema)),
            "prefix,actions\n"
        );
        assert_eq!(written(FileFormat::Json, &[], Arc::clone(&schema)), "[]\n");
        assert_eq!(written(FileFormat::Ndjson, &[], schema), "");
    }

    #[test]
    fn json_is_one_array_and_ndjson_one_object_per_line() {
        let (schema, batch) = with_a_list();
        let row = r#"{"prefix":"quay","actions":["ecr:CreateRepository","ecr:BatchImportUpstreamImage"]}"#;
        let null = r#"{"prefix":"a,b","actions":null}"#;
        assert_eq!(
            written(
                FileFormat::Json,
                std::slice::from_ref(&batch),
                Arc::clone(&schema)
            ),
            format!("[{row},{null}]\n")
        );
        assert_eq!(
            written(FileFormat::Ndjson, &[batch], schema),
            format!("{row}\n{null}\n")
        );
    }

    #[test]
    fn a_failed_csv_write_keeps_its_io_kind() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let (schema, batch) = with_a_list();
        let mut writer = FormatWriter::new(Closed, FileFormat::Csv, schema, true);
        let e = write_error(
            "cannot write the results",
            writer.write(&batch).unwrap_err(),
        );
        assert!(
            matches!(&e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe),
            "{e:?}"
        );
    }

    #[test]
    fn formats_are_named_in_any_case() {
        assert_eq!(FileFormat::named("CSV"), Some(FileFormat::Csv));
        assert_eq!(FileFormat::named("jsonl"), Some(FileFormat::Ndjson));
        assert_eq!(FileFormat::named("NDJSON"), Some(FileFormat::Ndjson));
        assert_eq!(FileFormat::named("parquet"), None);
    }
}
