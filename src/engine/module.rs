//! How a table finds the Rust of its resource: each resource's module registers a
//! `ResourceModule` (its reader and writer) under the name its schema's `module` gives, so no
//! file lists every resource.

use std::sync::Arc;

use super::reader::Reader;
use super::writer::Writer;
use crate::schema::Resource;

/// What one resource module provides to the engine.
pub struct ResourceModule {
    /// The name provider-schemas gives it (`module`, else the table name).
    pub name: &'static str,
    /// Its reader, for a table of it.
    pub reader: fn(&'static Resource) -> Arc<dyn Reader>,
    /// Its writer, for a table of it.
    pub writer: fn(&'static Resource) -> Arc<dyn Writer>,
}

inventory::collect!(ResourceModule);

/// The module of `resource` (every resource has one: a test checks it for each schema file).
pub fn module_for(resource: &Resource) -> &'static ResourceModule {
    inventory::iter::<ResourceModule>
        .into_iter()
        .find(|m| m.name == resource.module())
        .unwrap_or_else(|| {
            panic!(
                "{}: no Rust module registers '{}' (inventory::submit! a ResourceModule)",
                resource.path,
                resource.module()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schemas;

    #[test]
    fn every_resource_has_its_module() {
        for r in &schemas().resources {
            let m = module_for(r);
            assert_eq!(m.name, r.module());
        }
    }
}
