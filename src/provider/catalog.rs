//! The `aws` catalog: one schema per service, one table per resource of provider-schemas.

use std::sync::Arc;

use datafusion::catalog::{
    CatalogProvider, MemoryCatalogProvider, MemorySchemaProvider, SchemaProvider,
};
use datafusion::prelude::SessionContext;

use datafusion::datasource::TableProvider;

use super::context::ProviderContext;
use super::table::ResourceTable;
use crate::error::{Error, Result};
use crate::schema::schemas;

/// Registers `aws.<service>.<resource>` for every resource in provider-schemas.
pub fn register_catalog(ctx: &SessionContext, context: Arc<ProviderContext>) -> Result<()> {
    let s = schemas();
    let catalog = MemoryCatalogProvider::new();
    for service in &s.provider.services {
        let schema = MemorySchemaProvider::new();
        for resource in s.resources_of(&service.name) {
            let table: Arc<dyn TableProvider> =
                Arc::new(ResourceTable::new(resource, Arc::clone(&context)));
            schema
                .register_table(resource.name().to_string(), table)
                .map_err(|e| Error::Runtime(e.to_string()))?;
        }
        catalog
            .register_schema(&service.name, Arc::new(schema))
            .map_err(|e| Error::Runtime(e.to_string()))?;
    }
    ctx.register_catalog(&s.provider.name, Arc::new(catalog));
    Ok(())
}
