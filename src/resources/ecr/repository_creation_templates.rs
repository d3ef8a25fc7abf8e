//! Repository creation templates: read and written as provider-schemas describe them; only
//! their operations are their own.

inventory::submit! {
    crate::engine::module::ResourceModule {
        name: "repository_creation_templates",
        reader: None,
        writer: Some(|resource| crate::engine::record_writer::RecordWriter::arc(resource, None)),
    }
}

crate::ecr_operations!(
    DescribeRepositoryCreationTemplates => describe_repository_creation_templates,
    CreateRepositoryCreationTemplate => create_repository_creation_template,
    UpdateRepositoryCreationTemplate => update_repository_creation_template,
    DeleteRepositoryCreationTemplate => delete_repository_creation_template,
);
