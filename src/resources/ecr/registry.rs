//! The registry of each region: read and written as provider-schemas describe it (one row per
//! region, changed by its replication and scanning operations); only its operations are its
//! own.

inventory::submit! {
    crate::engine::module::ResourceModule {
        name: "registry",
        reader: None,
        writer: Some(|resource| crate::engine::record_writer::RecordWriter::arc(resource, None)),
    }
}

crate::ecr_operations!(
    DescribeRegistry => describe_registry,
    GetRegistryScanningConfiguration => get_registry_scanning_configuration,
    PutReplicationConfiguration => put_replication_configuration,
    PutRegistryScanningConfiguration => put_registry_scanning_configuration,
);
