//! The built-in guest of the `spiro` workflow (specs/spiro.md 13.7): it
//! decides which tar members of a deploy bundle may be written, under which
//! normalized names and modes ([`bundle_policy`]), and renders
//! `spirotop.sls` into the `top.sls` SpiroFS would write ([`topfile`]).
//!
//! The logic works on plain Rust types so that it is unit-tested natively;
//! the component export at the bottom only converts to the WIT types.

pub mod bundle_policy;
pub mod topfile;
pub use postern_pyyaml as yaml;

pub use bundle_policy::{Kind, Limits, Member, Planned, Rejection, check_bundle};
pub use topfile::{Spirotop, render_topfile};

mod component {
    use postern_guest_sdk::spiro::postern::guest::spiro_types as wit;

    use super::{Kind, Limits, Member, Spirotop};

    struct SpiroGuest;

    impl postern_guest_sdk::spiro::Guest for SpiroGuest {
        fn check_bundle(
            limits: wit::Limits,
            project: String,
            deployment: String,
            members: Vec<wit::Member>,
        ) -> Result<Vec<wit::Planned>, wit::Rejection> {
            let limits = Limits {
                max_members: limits.max_members,
                max_file_bytes: limits.max_file_bytes,
                max_total_bytes: limits.max_total_bytes,
                max_path_bytes: limits.max_path_bytes as usize,
            };
            let members: Vec<Member> = members
                .into_iter()
                .map(|member| Member {
                    name: member.name,
                    kind: from_wit_kind(member.kind),
                    size: member.size,
                    mode: member.mode,
                })
                .collect();
            match super::check_bundle(&limits, &project, &deployment, &members) {
                Ok(plan) => Ok(plan
                    .into_iter()
                    .map(|planned| wit::Planned {
                        index: planned.index,
                        name: planned.name,
                        kind: if planned.directory {
                            wit::MemberKind::Directory
                        } else {
                            wit::MemberKind::Regular
                        },
                        mode: planned.mode,
                        size: planned.size,
                    })
                    .collect()),
                Err(rejection) => Err(wit::Rejection {
                    index: rejection.index,
                    name: rejection.name,
                    reason: rejection.reason,
                }),
            }
        }

        fn render_topfile(
            project: String,
            deployment: String,
            state_top_exists: bool,
            spirotop: wit::Spirotop,
        ) -> Result<Option<String>, String> {
            let spirotop = match &spirotop {
                wit::Spirotop::Absent => Spirotop::Absent,
                wit::Spirotop::File(bytes) => Spirotop::File(bytes),
                wit::Spirotop::NotAFile => Spirotop::NotAFile,
            };
            super::render_topfile(&project, &deployment, state_top_exists, spirotop)
        }
    }

    fn from_wit_kind(kind: wit::MemberKind) -> Kind {
        match kind {
            wit::MemberKind::Regular => Kind::Regular,
            wit::MemberKind::Directory => Kind::Directory,
            wit::MemberKind::Symlink => Kind::Symlink,
            wit::MemberKind::HardLink => Kind::HardLink,
            wit::MemberKind::CharacterDevice => Kind::CharacterDevice,
            wit::MemberKind::BlockDevice => Kind::BlockDevice,
            wit::MemberKind::Fifo => Kind::Fifo,
            wit::MemberKind::GnuSparse => Kind::GnuSparse,
            wit::MemberKind::Other => Kind::Other,
        }
    }

    postern_guest_sdk::spiro::export!(SpiroGuest);
}
