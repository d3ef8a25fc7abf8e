//! How a table finds the Rust of its resource, when it has any: a resource's module registers
//! a `ResourceModule` (its reader, its writer) under the name its schema's `module` gives, so
//! no file lists every resource. A table read by its schema's listing alone needs no reader,
//! and a read-only one no writer.

use std::sync::Arc;

use super::reader::Reader;
use super::writer::Writer;
use crate::schema::Resource;

/// Makes a resource's reader.
pub type MakeReader = fn(&'static Resource) -> Arc<dyn Reader>;
/// Makes a resource's writer.
pub type MakeWriter = fn(&'static Resource) -> Arc<dyn Writer>;

/// What one resource module provides to the engine.
pub struct ResourceModule {
    /// The name provider-schemas gives it (`module`, else the table name).
    pub name: &'static str,
    /// Its reader, when its schema's listing does not read it.
    pub reader: Option<MakeReader>,
    /// Its writer, for a table with INSERT, UPDATE or DELETE methods.
    pub writer: Option<MakeWriter>,
}

inventory::collect!(ResourceModule);

/// The module of `resource`, if it registers one.
pub fn module_for(resource: &Resource) -> Option<&'static ResourceModule> {
    inventory::iter::<ResourceModule>
        .into_iter()
        .find(|m| m.name == resource.module())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::wire_call::operation;
    use crate::schema::{Verb, schemas};

    #[test]
    fn every_table_can_be_read_and_every_written_one_has_its_writer() {
        for r in &schemas().resources {
            let module = module_for(r);
            let read_by_module = module.is_some_and(|m| m.reader.is_some());
            assert!(
                read_by_module || r.listing().is_some(),
                "{}: the SELECT method needs a `list`, or a module that reads it",
                r.path
            );
            let writes = [Verb::Insert, Verb::Update, Verb::Delete]
                .iter()
                .any(|v| r.method(*v).is_some());
            assert_eq!(
                writes,
                module.is_some_and(|m| m.writer.is_some()),
                "{}: a table with write methods registers a writer, a read-only one none",
                r.path
            );
        }
    }

    #[test]
    fn every_operation_the_schemas_name_is_registered() {
        for r in &schemas().resources {
            for op in r.operations() {
                assert!(
                    operation(op).is_some(),
                    "{}: {op} is not registered (ecr_operations!)",
                    r.path
                );
            }
        }
    }
}
