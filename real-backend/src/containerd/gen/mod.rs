//! Generated once from containerd's vendored API (`real-backend/containerd-proto/`, Apache-2.0)
//! with protox + tonic-prost-build; checked in so the build needs no protoc and no build
//! script. Regenerate with the throwaway tool described in `real-backend/README.md`.
#![allow(clippy::all, rustdoc::all, missing_docs, dead_code, unused_imports)]

pub mod services_containers_v1;
pub mod services_content_v1;
pub mod services_images_v1;
pub mod services_leases_v1;
pub mod services_snapshots_v1;
pub mod services_tasks_v1;
pub mod services_version_v1;
pub mod types;
pub mod v1_types;
