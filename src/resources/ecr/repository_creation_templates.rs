//! Repository creation templates on the engine: read one row per template from
//! DescribeRepositoryCreationTemplates (the members are mapped in `aws/templates.rs`); written
//! by the record writer with the templates' sender.

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;

use crate::aws::EcrClients;
use crate::aws::request::ScanRequest;
use crate::aws::templates::template_record;
use crate::engine::reader::Reader;
use crate::engine::records::records_batch;
use crate::error::Result;
use crate::schema::Resource;

/// Reads the templates table.
#[derive(Debug)]
pub struct TemplateReader {
    /// The table's resource.
    pub resource: &'static Resource,
}

#[async_trait]
impl Reader for TemplateReader {
    async fn list(
        &self,
        clients: &EcrClients,
        region: &str,
        request: &ScanRequest,
    ) -> Result<RecordBatch> {
        let read = clients.describe_templates(region, request).await?;
        let registry = read.registry_id.as_deref();
        let records: Vec<_> = read
            .templates
            .iter()
            .map(|t| template_record(t, registry))
            .collect();
        records_batch(self.resource, region, &records)
    }
}

inventory::submit! {
    crate::engine::module::ResourceModule {
        name: "repository_creation_templates",
        reader: |resource| std::sync::Arc::new(TemplateReader { resource }),
        writer: |resource| {
            let sender = std::sync::Arc::new(crate::aws::templates::TemplateCalls);
            std::sync::Arc::new(crate::engine::record_writer::RecordWriter { resource, sender, item_rules: None })
        },
    }
}
