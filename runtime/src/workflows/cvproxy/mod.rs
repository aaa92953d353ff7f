//! The `cvproxy` workflow: HTTP JSON posts deployed to Arista CloudVision
//! over gRPC (specs/cloudvision.md).

pub mod proto;
