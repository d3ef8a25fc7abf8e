//! The `aws` catalog: one schema per service, one table per resource of provider-schemas. It is
//! fixed: a table or schema can be neither added nor removed (DDL is for local tables).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider};
use datafusion::datasource::TableProvider;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use super::context::ProviderContext;
use super::table::ResourceTable;
use crate::error::{Error, Result};
use crate::schema::schemas;

/// Registers `aws.<service>.<resource>` for every resource in provider-schemas.
pub fn register_catalog(ctx: &SessionContext, context: Arc<ProviderContext>) -> Result<()> {
    let s = schemas();
    let services = s
        .provider
        .services
        .iter()
        .map(|service| {
            let tables = s
                .resources_of(&service.name)
                .map(|resource| {
                    let table: Arc<dyn TableProvider> =
                        Arc::new(ResourceTable::new(resource, Arc::clone(&context)));
                    (resource.name().to_string(), table)
                })
                .collect();
            let schema: Arc<dyn SchemaProvider> = Arc::new(ServiceSchema { tables });
            (service.name.clone(), schema)
        })
        .collect();
    ctx.register_catalog(&s.provider.name, Arc::new(ProviderCatalog { services }));
    Ok(())
}

/// Why the provider's catalog takes no DDL, as DataFusion's error (the SQL front refuses such
/// statements first, with the statement's words; this covers a name that reaches the catalog
/// another way, such as a changed default catalog).
fn fixed(what: &str) -> DataFusionError {
    Error::Usage(format!(
        "{what}: the {} catalog is skyql's view of AWS, declared by provider-schemas, and DDL \
         cannot change it; a local table or view goes in the default schema; nothing was sent",
        schemas().provider.name
    ))
    .into()
}

/// The provider's catalog: its services' schemas.
#[derive(Debug)]
struct ProviderCatalog {
    services: BTreeMap<String, Arc<dyn SchemaProvider>>,
}

impl CatalogProvider for ProviderCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.services.keys().cloned().collect()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        self.services.get(name).cloned()
    }

    fn register_schema(
        &self,
        name: &str,
        _schema: Arc<dyn SchemaProvider>,
    ) -> datafusion::error::Result<Option<Arc<dyn SchemaProvider>>> {
        Err(fixed(&format!("cannot create schema {name}")))
    }

    fn deregister_schema(
        &self,
        name: &str,
        _cascade: bool,
    ) -> datafusion::error::Result<Option<Arc<dyn SchemaProvider>>> {
        Err(fixed(&format!("cannot drop schema {name}")))
    }
}

/// One service's schema: a table per resource.
#[derive(Debug)]
struct ServiceSchema {
    tables: BTreeMap<String, Arc<dyn TableProvider>>,
}

#[async_trait]
impl SchemaProvider for ServiceSchema {
    fn table_names(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }

    async fn table(&self, name: &str) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        Ok(self.tables.get(name).cloned())
    }

    fn table_exist(&self, name: &str) -> bool {
        self.tables.contains_key(name)
    }

    fn register_table(
        &self,
        name: String,
        _table: Arc<dyn TableProvider>,
    ) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        Err(fixed(&format!("cannot create table {name}")))
    }

    fn deregister_table(
        &self,
        name: &str,
    ) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        Err(fixed(&format!("cannot drop table {name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::datasource::empty::EmptyTable;

    #[test]
    fn the_catalog_takes_no_table_or_schema() {
        let table: Arc<dyn TableProvider> = Arc::new(EmptyTable::new(Arc::new(
            datafusion::arrow::datatypes::Schema::empty(),
        )));
        let schema = ServiceSchema {
            tables: BTreeMap::from([("kept".to_string(), Arc::clone(&table))]),
        };
        let refused = |e: DataFusionError| Error::from_datafusion(e, true);
        let e = refused(schema.register_table("foo".into(), table).unwrap_err());
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .starts_with("cannot create table foo: the aws catalog"),
            "{e}"
        );
        let e = refused(schema.deregister_table("kept").unwrap_err());
        assert!(e.to_string().starts_with("cannot drop table kept"), "{e}");
        assert!(schema.table_exist("kept"));
        let catalog = ProviderCatalog {
            services: BTreeMap::from([("ecr".to_string(), Arc::new(schema) as _)]),
        };
        let e = refused(catalog.deregister_schema("ecr", true).unwrap_err());
        assert!(e.to_string().starts_with("cannot drop schema ecr"), "{e}");
        assert_eq!(catalog.schema_names(), ["ecr"]);
    }
}
