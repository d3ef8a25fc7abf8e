//! Images: read as provider-schemas describe them, under each repository, and deleted in
//! batches; only their operations are their own.

inventory::submit! {
    crate::engine::module::ResourceModule {
        name: "images",
        reader: None,
        writer: Some(|resource| crate::engine::record_writer::RecordWriter::arc(resource, None)),
    }
}

crate::ecr_operations!(DescribeImages => describe_images, BatchDeleteImage => batch_delete_image);
