//! The admin API's generated messages, client and server
//! (`proto/postern/v1/admin.proto`), and its descriptors for reflection.

tonic::include_proto!("postern.v1");

/// The encoded `FileDescriptorSet` of the admin API (gRPC server reflection).
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/admin_descriptor.bin"));
