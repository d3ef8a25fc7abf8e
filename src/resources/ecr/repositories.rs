//! Repositories: read and written as provider-schemas describe them (UPDATE through one
//! operation per column group); only their operations are their own.

inventory::submit! {
    crate::engine::module::ResourceModule {
        name: "repositories",
        reader: None,
        writer: Some(|resource| crate::engine::record_writer::RecordWriter::arc(resource, None)),
    }
}

crate::ecr_operations!(
    DescribeRepositories => describe_repositories,
    CreateRepository => create_repository,
    DeleteRepository => delete_repository,
    PutImageTagMutability => put_image_tag_mutability,
    PutImageScanningConfiguration => put_image_scanning_configuration,
    GetLifecyclePolicy => get_lifecycle_policy,
    PutLifecyclePolicy => put_lifecycle_policy,
    DeleteLifecyclePolicy => delete_lifecycle_policy,
    GetRepositoryPolicy => get_repository_policy,
    SetRepositoryPolicy => set_repository_policy,
    DeleteRepositoryPolicy => delete_repository_policy,
    ListTagsForResource => list_tags_for_resource,
    TagResource => tag_resource,
    UntagResource => untag_resource,
);
