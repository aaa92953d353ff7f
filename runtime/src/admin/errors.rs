//! How a refused admin operation is answered: one HTTP status and one gRPC
//! code per error, the error's own text as the message on both.

use std::fmt::Display;

use hyper::StatusCode;
use tonic::Code;

use crate::engine::registry::RegistryError;
use crate::policy::ChainError;

/// An error the admin API reports to its caller.
pub trait Refusal: Display {
    fn http_status(&self) -> StatusCode;
    fn grpc_code(&self) -> Code;

    fn grpc_status(&self) -> tonic::Status {
        tonic::Status::new(self.grpc_code(), self.to_string())
    }
}

impl Refusal for RegistryError {
    fn http_status(&self) -> StatusCode {
        match self {
            Self::BadName(_) | Self::AmbiguousVersion { .. } => StatusCode::BAD_REQUEST,
            Self::UnknownModule(_) | Self::UnknownVersion { .. } => StatusCode::NOT_FOUND,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Signature(_) => StatusCode::FORBIDDEN,
            Self::Refused(_) | Self::NoWorldForNewModules(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn grpc_code(&self) -> Code {
        match self {
            Self::BadName(_) | Self::AmbiguousVersion { .. } => Code::InvalidArgument,
            Self::UnknownModule(_) | Self::UnknownVersion { .. } => Code::NotFound,
            Self::TooLarge { .. } => Code::ResourceExhausted,
            Self::Signature(_) => Code::PermissionDenied,
            Self::Refused(_) | Self::NoWorldForNewModules(_) => Code::InvalidArgument,
            Self::Conflict(_) => Code::FailedPrecondition,
            Self::Storage(_) => Code::Internal,
        }
    }
}

impl Refusal for ChainError {
    fn http_status(&self) -> StatusCode {
        match self {
            Self::UnknownWorkflow(_) => StatusCode::NOT_FOUND,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn grpc_code(&self) -> Code {
        match self {
            Self::UnknownWorkflow(_) => Code::NotFound,
            Self::Invalid(_) => Code::InvalidArgument,
            Self::Storage(_) => Code::Internal,
        }
    }
}
